#!/usr/bin/env bash
# ASAP failover timing (docs/performance.md, "ASAP failover"): fault of the
# serving pool element -> first echo delivered by the next one, with
# asap-echo-pe x2 + asap-echo-pu as processes and an in-process registrar.
#   host: TCP mapping, default and aggressive profiles, SIGKILL and SIGSTOP
#   UML:  kernel SCTP, same matrix, then rsplib's rspterminal in the same
#         UML run (tests/interop_asap) for comparison.
#
#   tests/bench/asap-failover.sh [BUILD_DIR] [RUNS]     (default build-asapdrv, 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-asapdrv}
runs=${2:-5}
bench=$build/tests/asap_service/asap_failover_bench
interop=$build/tests/interop_asap/asap_interop_test
[ -x "$bench" ] || { echo "build asap_failover_bench first" >&2; exit 2; }

echo "== host, TCP mapping"
for profile in default aggressive; do
  for fault in kill stop; do
    "$bench" --transport tcp --profile $profile --fault $fault --runs "$runs" --give-up 15000 | tail -1
  done
done

echo "== UML, kernel SCTP"
# SCTP default profile: a hung (SIGSTOPped) PE is found only by the RFC 4960
# heartbeat (30 s interval, 10 retransmissions): one run, given up after 40 s.
tests/uml/run-in-uml.sh --timeout 600 -- tests/bench/asap-failover-uml.sh "$build" "$runs"
