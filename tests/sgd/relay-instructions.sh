#!/usr/bin/env bash
# Instructions per relayed DATA on the gateway's thread (issue 16):
#   tests/sgd/relay-instructions.sh BUILD_DIR [N] [WINDOW]
# Runs build/tests/sgd/sgd_relay_cost under callgrind twice, with 0 and N
# messages after the same warm-up, and divides the gateway thread's
# difference by N. Prints the commands it ran and the figure. Over the TCP
# mapping by default; SG_TEST_TRANSPORT=sctp inside UML for kernel SCTP:
#   tests/uml/run-in-uml.sh --timeout 900 -- env SG_TEST_TRANSPORT=sctp tests/sgd/relay-instructions.sh build 5000 32
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [N] [WINDOW]}
n=${2:-20000}
window=${3:-32}
warm=2000
transport=${SG_TEST_TRANSPORT:-tcp}
tool=$build/tests/sgd/sgd_relay_cost
[[ -x $tool ]] || { echo "$tool not built (ninja -C $build sgd_relay_cost)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The gateway's thread is the second one the tool starts (file suffix -02).
gateway_ir() {
  local ops=$1
  local cmd=(valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$work/cg.$ops" "$tool" "$ops" "$warm" "$window")
  echo "+ ${cmd[*]}" >&2
  SG_TEST_TRANSPORT=$transport "${cmd[@]}" >/dev/null 2>"$work/vg.$ops" ||
    { echo "failed under callgrind:" >&2; tail -n 20 "$work/vg.$ops" >&2; exit 1; }
  awk '/^totals:/ {print $2}' "$work/cg.$ops-02"
}
base=$(gateway_ir 0)
full=$(gateway_ir "$n")
awk -v f="$full" -v b="$base" -v n="$n" -v w="$window" -v t="$transport" 'BEGIN {
  printf "gateway thread: %.0f instructions per relayed DATA (%s, window %d; Ir(N)=%d, Ir(0)=%d, N=%d)\n", (f - b) / n, t, w, f, b, n }'
