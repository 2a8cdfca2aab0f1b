#!/usr/bin/env bash
# Where sgd's system calls at window 1 come from (issue 16): every call of
# the relay written out by `strace -f` while one load of N queries runs
# through the closed loop of relay-stack.sh, then the calls grouped by
# wake-up (from one epoll_wait to the next) and the groups counted. The
# relay's own pattern is "epoll_wait recvmmsg clock_gettime sendmmsg";
# anything else (timer expiries: Asio's clock readings and
# timerfd_settime; protocol timers' messages) shows as its own group.
# Writing every call out slows the relay (about 100 msg/s in UML), so read
# the counts per second, not per message: time-driven calls are what this
# is for.
#
#   tests/bench/sgd-syscall-trace.sh BUILD_DIR [--transport tcp|sctp] [--queries N] [--window W]
#
# --transport sctp (the default) outside UML re-runs the script inside UML.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: sgd-syscall-trace.sh BUILD_DIR [options]}
build=$(cd "$build" && pwd)
shift
args=("$@")
transport=sctp
queries=3000
window=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --transport) transport=$2; shift 2 ;;
    --queries) queries=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ $transport == sctp && ! -d /proc/sys/net/sctp ]]; then
  echo "# command: tests/bench/sgd-syscall-trace.sh ${build#"$root"/} ${args[*]}"
  exec "$root/tests/uml/run-in-uml.sh" --timeout 900 -- "$0" "$build" "${args[@]}"
fi
command -v strace >/dev/null || { echo "strace is not installed" >&2; exit 2; }
ip=127.0.0.1
[[ $transport == sctp ]] && ip=198.18.0.1

work=$(mktemp -d /tmp/sgd-trace.XXXXXX)
# shellcheck source=relay-stack.sh
source "$here/relay-stack.sh"
cleanup() {
  stop_relay_stack
  if [[ ${SG_BENCH_KEEP:-0} == 1 ]]; then echo "# logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "# command: tests/bench/sgd-syscall-trace.sh ${build#"$root"/} ${args[*]}"
d=$work/sgd
mkdir -p "$d"
start_relay sgd "$d"
strace -f -p "$relay_pid" -o "$d/strace.txt" 2>"$d/strace.err" &
tracer=$!
sleep 0.5
s=$(run_load "$d" "w$window" --max-rate --window "$window" --queries "$queries" --duration 600)
kill -INT "$tracer" 2>/dev/null || true
wait "$tracer" 2>/dev/null || true
echo "# load: $s"
seconds=$(field "$s" duration_s)
echo "# calls by name (per second of load, duration ${seconds} s)"
awk -v t="$seconds" '{ n = $2; sub(/\(.*/, "", n); c[n]++ }
  END { for (k in c) printf "%8d %8.1f/s %s\n", c[k], c[k] / t, k }' "$d/strace.txt" | sort -rn
echo "# wake-ups by the calls they made (most frequent first)"
awk '{ n = $2; sub(/\(.*/, "", n)
       if (n == "epoll_wait" && g != "") { c[g]++; g = "" }
       g = g (g == "" ? "" : " ") n }
     END { if (g != "") c[g]++; for (k in c) printf "%8d %s\n", c[k], k }' "$d/strace.txt" | sort -rn | head -20
