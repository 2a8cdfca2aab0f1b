#!/usr/bin/env bash
# The kernel-SCTP half of tests/bench/asap-failover.sh; runs inside UML.
set -uo pipefail
build=$1
runs=$2
bench=$build/tests/asap_service/asap_failover_bench
interop=$build/tests/interop_asap/asap_interop_test
for profile in default aggressive; do
  "$bench" --transport sctp --profile $profile --fault kill --runs "$runs" --give-up 15000 | tail -1
done
"$bench" --transport sctp --profile aggressive --fault stop --runs "$runs" --give-up 15000 | tail -1
"$bench" --transport sctp --profile default --fault stop --runs 1 --give-up 40000 | tail -1
"$interop" --gtest_filter='*FailsOver*:*Rspterminal*' 2>&1 | grep '^\[failover\]'
