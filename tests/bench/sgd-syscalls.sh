#!/usr/bin/env bash
# System calls per relayed message in the relay process (issue 16: "at
# most 2 with 32 messages in flight, at most 4 with one"), over a counted
# run of the closed loop (relay-stack.sh: ss7-gen -> relay -> three gwc-sim).
#
#   tests/bench/sgd-syscalls.sh BUILD_DIR [--relay sgd|forwarder|both] [--transport tcp|sctp]
#                               [--windows "1 32"] [--queries N] [--tool perf|strace]
#
# Per window: the counter is attached to the running relay (every thread),
# then ss7-gen --max-rate --window W --queries N runs to its end; per
# message = system calls / (2 x answered queries), each query crossing the
# relay twice (the few calls of the idle half second before the load are
# included). --tool perf (the default where `perf stat -e
# raw_syscalls:sys_enter` works: low overhead, so the relay batches as it
# does unobserved) or strace (`strace -c -f`: a breakdown by call, but the
# relay runs slower under it and so finds more messages per read).
# --transport sctp outside UML re-runs the script inside UML (strace there).
# Last lines: "result syscalls-per-relayed-message ..." per relay and window.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: sgd-syscalls.sh BUILD_DIR [options]}
build=$(cd "$build" && pwd)
shift
args=("$@")
relays="sgd forwarder"
transport=tcp
windows="1 32"
queries=20000
tool=""
ip=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --relay) relays=$2; [[ $relays == both ]] && relays="sgd forwarder"; shift 2 ;;
    --transport) transport=$2; shift 2 ;;
    --windows) windows=$2; shift 2 ;;
    --queries) queries=$2; shift 2 ;;
    --tool) tool=$2; shift 2 ;;
    --ip) ip=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ $transport == sctp && ! -d /proc/sys/net/sctp ]]; then
  echo "# command: tests/bench/sgd-syscalls.sh ${build#"$root"/} ${args[*]}"
  exec "$root/tests/uml/run-in-uml.sh" --timeout 900 -- "$0" "$build" "${args[@]}"
fi
if [[ -z $ip ]]; then
  ip=127.0.0.1
  [[ $transport == sctp ]] && ip=198.18.0.1
fi
if [[ -z $tool ]]; then
  tool=strace
  if command -v perf >/dev/null &&
     perf stat -x, -e raw_syscalls:sys_enter -- true 2>&1 >/dev/null | grep -q '^[0-9]*,.*raw_syscalls'; then
    tool=perf
  fi
fi
command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 2; }

work=$(mktemp -d /tmp/sgd-sys.XXXXXX)
# shellcheck source=relay-stack.sh
source "$here/relay-stack.sh"
cleanup() {
  stop_relay_stack
  if [[ ${SG_BENCH_KEEP:-0} == 1 ]]; then echo "# logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "# command: tests/bench/sgd-syscalls.sh ${build#"$root"/} ${args[*]}"
echo "# transport $transport on $ip, counted runs of $queries queries, windows: $windows, counted with $tool"
for relay in $relays; do
  d=$work/$relay
  mkdir -p "$d"
  start_relay "$relay" "$d" || { stop_relay_stack; continue; }
  for w in $windows; do
    out=$d/count-$w.txt
    if [[ $tool == perf ]]; then
      perf stat -x, -e raw_syscalls:sys_enter -p "$relay_pid" -o "$out" &
    else
      strace -c -f -p "$relay_pid" -o "$out" 2>/dev/null &
    fi
    counter=$!
    sleep 0.5
    s=$(run_load "$d" "w$w" --max-rate --window "$w" --queries "$queries" --duration 600)
    kill -INT "$counter" 2>/dev/null || true
    wait "$counter" 2>/dev/null || true
    n=$(field "$s" answered)
    [[ -n $n && $n -gt 0 ]] || { echo "no answered queries ($relay, window $w): $(tail -3 "$d/gen-w$w.log")" >&2; continue; }
    if [[ $tool == perf ]]; then
      awk -F, -v n="$n" -v r="$relay" -v w="$w" -v t="$transport" '$3 ~ /raw_syscalls/ {
        printf "result syscalls-per-relayed-message relay=%s transport=%s window=%s per_msg=%.2f (target <= %s) (%d system calls, %d messages, perf)\n",
          r, t, w, $1 / (2 * n), (w >= 32 ? 2 : 4), $1, 2 * n }' "$out"
    else
      # strace -c: "% time seconds usecs/call calls [errors] syscall";
      # calls is field 4 either way. Every call above 0.001 per message is
      # listed (timer re-arms and clock reads show up in the second decimal).
      awk -v n="$n" -v r="$relay" -v w="$w" -v t="$transport" -v rate="$(field "$s" messages_per_s)" '
        $NF == "total" { total = $4 }
        $1 ~ /^[0-9.]+$/ && $NF != "total" { calls[$NF] = $4 }
        END {
          printf "result syscalls-per-relayed-message relay=%s transport=%s window=%s per_msg=%.2f (target <= %s) (%d system calls, %d messages, strace, load at %s msg/s):", r, t, w, total / (2 * n), (w >= 32 ? 2 : 4), total, 2 * n, rate
          for (c in calls) if (calls[c] / (2 * n) >= 0.001) printf " %s=%.3f", c, calls[c] / (2 * n)
          printf "\n"
        }' "$out"
    fi
  done
  stop_relay_stack
  sleep 0.5
done
