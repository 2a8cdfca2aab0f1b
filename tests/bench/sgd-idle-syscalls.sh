#!/usr/bin/env bash
# The time-driven system calls of sgd (issue 16): what it calls per second
# with no traffic, the relay stack of relay-stack.sh (sgd with its
# co-located registrar, three gwc-sim registered and ACTIVE) up and idle.
# At window 1 these are what a relayed message costs above the minimal
# forwarder's 4.00 (docs/performance.md, "Stop 22").
#
#   tests/bench/sgd-idle-syscalls.sh BUILD_DIR [--transport tcp|sctp] [--seconds N] [--turns]
#
# Default: `strace -c -f` of sgd for N seconds (60), the table and the calls
# per second. --turns: every call (`strace -f -tt`), grouped into turns from
# one blocking epoll_wait to the next and charged to what each turn sent
# and received (strace-turns.py). --transport sctp outside UML re-runs the
# script inside UML; on the host clock_gettime is a vDSO call and does not
# show.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: sgd-idle-syscalls.sh BUILD_DIR [options]}
build=$(cd "$build" && pwd)
shift
args=("$@")
transport=sctp
seconds=60
turns=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --transport) transport=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --turns) turns=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ $transport == sctp && ! -d /proc/sys/net/sctp ]]; then
  echo "# command: tests/bench/sgd-idle-syscalls.sh ${build#"$root"/} ${args[*]}"
  exec "$root/tests/uml/run-in-uml.sh" --timeout $((seconds + 300)) -- "$0" "$build" "${args[@]}"
fi
ip=127.0.0.1
[[ $transport == sctp ]] && ip=198.18.0.1
command -v strace >/dev/null || { echo "strace is not installed" >&2; exit 2; }

work=$(mktemp -d /tmp/sgd-idle.XXXXXX)
# shellcheck source=relay-stack.sh
source "$here/relay-stack.sh"
cleanup() {
  stop_relay_stack
  if [[ ${SG_BENCH_KEEP:-0} == 1 ]]; then echo "# logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "# command: tests/bench/sgd-idle-syscalls.sh ${build#"$root"/} ${args[*]}"
d=$work/sgd
mkdir -p "$d"
start_relay sgd "$d"
sleep 2  # the start-up's registrations and first resolutions are over
if [[ $turns == 1 ]]; then
  strace -f -tt -p "$relay_pid" -o "$d/trace.txt" 2>/dev/null &
else
  strace -c -f -p "$relay_pid" -o "$d/count.txt" 2>/dev/null &
fi
counter=$!
sleep "$seconds"
kill -INT "$counter" 2>/dev/null || true
wait "$counter" 2>/dev/null || true
echo "# idle sgd, transport $transport on $ip, $seconds s"
if [[ $turns == 1 ]]; then
  python3 "$here/strace-turns.py" "$d/trace.txt"
else
  cat "$d/count.txt"
  awk -v s="$seconds" -v t="$transport" '$NF == "total" {
    printf "result idle-syscalls-per-second transport=%s %.2f (%d system calls in %d s)\n", t, $4 / s, $4, s }' "$d/count.txt"
fi
