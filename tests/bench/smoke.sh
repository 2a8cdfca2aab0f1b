#!/usr/bin/env bash
# CI check of the issue-16 relay benchmarks (ctest bench.relay_smoke, label
# host): the closed loop runs through the minimal forwarder and through sgd
# (TCP mapping, ports chosen by the kernel), every query is answered, and
# the script computes a rate for each and their ratio. No timing threshold:
# the figures themselves belong in docs/performance.md, not in a test.
#
#   tests/bench/smoke.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:?usage: smoke.sh BUILD_DIR}
out=$("$here/sgd-vs-forwarder.sh" "$build" --transport tcp --seconds 1 --rounds 1 --windows "1 8" --no-latency 2>&1) || {
  echo "$out"
  echo "FAIL: sgd-vs-forwarder.sh exited with an error"
  exit 1
}
echo "$out"
fail=0
for w in 1 8; do
  line=$(grep "^result sgd-vs-forwarder transport=tcp window=$w " <<<"$out" || true)
  if ! grep -Eq "sgd_msg_per_s=[1-9][0-9]* forwarder_msg_per_s=[1-9][0-9]* ratio=[0-9]+\.[0-9]{2} " <<<"$line"; then
    echo "FAIL: window $w: no rate for both relays, or no ratio"
    fail=1
  fi
  if ! grep -q ' lost=0$' <<<"$line"; then
    echo "FAIL: window $w: queries lost (a relay dropped what it accepted)"
    fail=1
  fi
done
exit $fail
