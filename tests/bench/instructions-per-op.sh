#!/usr/bin/env bash
# User-space instructions per operation, counted by callgrind (deterministic,
# independent of machine load; see shared PERFORMANCE.md):
#   tests/bench/instructions-per-op.sh N -- COMMAND... 
# COMMAND may contain {N}: it runs once with {N}=0 (start-up and shutdown
# only) and once with {N}=N; the result is (Ir(N) - Ir(0)) / N.
# Prints: "instructions/op: X  (Ir(N)=..., Ir(0)=..., N=...)"
set -euo pipefail
if [[ $# -lt 3 || $2 != -- ]]; then
  echo "usage: $0 N -- COMMAND (with {N} where the operation count goes)" >&2
  exit 2
fi
n=$1
shift 2
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

count() {
  local ops=$1 out=$work/cg.$1
  local args=()
  for a in "${cmd[@]}"; do args+=("${a//\{N\}/$ops}"); done
  valgrind --tool=callgrind --callgrind-out-file="$out" "${args[@]}" >/dev/null 2>"$work/vg.$ops" ||
    { echo "command failed under callgrind:" >&2; tail -n 20 "$work/vg.$ops" >&2; exit 1; }
  # callgrind_annotate's summary line carries the total Ir.
  callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}'
}
cmd=("$@")
base=$(count 0)
full=$(count "$n")
awk -v f="$full" -v b="$base" -v n="$n" 'BEGIN { printf "instructions/op: %.0f  (Ir(N)=%d, Ir(0)=%d, N=%d)\n", (f - b) / n, f, b, n }'
