#!/usr/bin/env bash
# User-space instructions per relayed message in the relay process (issue
# 16: "at most 2,000"), counted by callgrind on the daemon only; the load
# tools run natively (relay-stack.sh: ss7-gen -> relay -> three gwc-sim).
#
#   tests/bench/sgd-instructions.sh BUILD_DIR [--relay sgd|forwarder|both] [--transport tcp|sctp]
#                                   [--window W] [--queries "N1 N2"]
#
# Two counted runs per relay (ss7-gen --max-rate --window W --queries N, a
# fresh relay each time, stopped with SIGTERM): per message =
# (Ir(N2) - Ir(N1)) / (2 x (answered(N2) - answered(N1))), since every query
# crosses the relay twice. Start-up, the pool's set-up and shut-down cancel
# out. The same difference of malloc calls (operator new included) gives
# the heap allocations per relayed message. --transport sctp outside UML
# re-runs the script inside UML.
# Last line per relay: "result instructions-per-relayed-message ...".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: sgd-instructions.sh BUILD_DIR [options]}
build=$(cd "$build" && pwd)
shift
args=("$@")
relays="sgd forwarder"
transport=tcp
window=32
queries="2000 12000"
ip=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --relay) relays=$2; [[ $relays == both ]] && relays="sgd forwarder"; shift 2 ;;
    --transport) transport=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --queries) queries=$2; shift 2 ;;
    --ip) ip=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
read -r n1 n2 <<<"$queries"
[[ -n ${n2:-} && $n2 -gt $n1 ]] || { echo "--queries needs two counts, the second larger" >&2; exit 2; }
if [[ $transport == sctp && ! -d /proc/sys/net/sctp ]]; then
  echo "# command: tests/bench/sgd-instructions.sh ${build#"$root"/} ${args[*]}"
  exec "$root/tests/uml/run-in-uml.sh" --timeout 900 -- "$0" "$build" "${args[@]}"
fi
if [[ -z $ip ]]; then
  ip=127.0.0.1
  [[ $transport == sctp ]] && ip=198.18.0.1
fi

work=$(mktemp -d /tmp/sgd-instr.XXXXXX)
# shellcheck source=relay-stack.sh
source "$here/relay-stack.sh"
cleanup() {
  stop_relay_stack
  if [[ ${SG_BENCH_KEEP:-0} == 1 ]]; then echo "# logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "# command: tests/bench/sgd-instructions.sh ${build#"$root"/} ${args[*]}"
echo "# transport $transport on $ip, window $window, counted runs of $n1 and $n2 queries; callgrind on the relay only"

# measure RELAY N: prints "IR ANSWERED"
measure() {
  local relay=$1 n=$2 d=$work/$1-$2
  mkdir -p "$d"
  relay_wrap=(valgrind --tool=callgrind --callgrind-out-file="$d/callgrind.out")
  start_relay "$relay" "$d" || { stop_relay_stack; return 1; }
  local s
  s=$(run_load "$d" "q$n" --max-rate --window "$window" --queries "$n" --duration 600)
  # SIGTERM: the relay shuts down and callgrind writes its counts.
  kill -TERM "$relay_pid" 2>/dev/null || true
  for _ in $(seq 1 600); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.1; done
  stop_relay_stack
  relay_wrap=()
  local ir
  ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$d/callgrind.out" 2>/dev/null || true)
  [[ -n $ir && -n $s ]] || { echo "$relay: no callgrind total or no ss7-gen summary (logs: $d)" >&2; return 1; }
  echo "$ir $(field "$s" answered) $(field "$s" lost) $(malloc_calls "$d/callgrind.out")"
}

# Calls of malloc recorded in a callgrind profile (operator new included:
# it calls malloc): the sum of the calls= lines whose callee is malloc.
malloc_calls() {
  python3 - "$1" <<'PY'
import re, sys
names, callee, total = {}, None, 0
pat = re.compile(r"^(c?fn)=\((\d+)\)(?: (.*))?$")
for line in open(sys.argv[1], errors="replace"):
    m = pat.match(line)
    if m:
        kind, i, name = m.groups()
        if name:
            names[i] = name.strip()
        if kind == "cfn":
            callee = names.get(i)
        continue
    if line.startswith("calls=") and callee == "malloc":
        total += int(line[6:].split()[0])
print(total)
PY
}

for relay in $relays; do
  # (no process substitution: UML's hostfs root has no /dev/fd)
  m1=$(measure "$relay" "$n1") || continue
  m2=$(measure "$relay" "$n2") || continue
  read -r ir1 a1 l1 c1 <<<"$m1"
  read -r ir2 a2 l2 c2 <<<"$m2"
  echo "run relay=$relay queries=$n1 answered=$a1 lost=$l1 Ir=$ir1 malloc_calls=$c1"
  echo "run relay=$relay queries=$n2 answered=$a2 lost=$l2 Ir=$ir2 malloc_calls=$c2"
  awk -v r="$relay" -v t="$transport" -v w="$window" -v i1="$ir1" -v i2="$ir2" -v a1="$a1" -v a2="$a2" \
      -v c1="$c1" -v c2="$c2" 'BEGIN {
    m = 2 * (a2 - a1)
    printf "result instructions-per-relayed-message relay=%s transport=%s window=%s ir_per_msg=%.0f (target <= 2000)", r, t, w, (m > 0 ? (i2 - i1) / m : 0)
    printf " mallocs_per_msg=%.2f (target 0)", (m > 0 ? (c2 - c1) / m : 0)
    printf " (Ir %d - %d over %d messages)\n", i2, i1, m
  }'
done
