#!/usr/bin/env bash
# The TCP mapping's order of writes in sgd (docs/gateway.md, "Duplicates
# from the hand-back"): per read that delivered DATA frames on a socket, was
# that socket's DATA-ACK written before any DATA left on another socket? A
# read whose DATA was passed on first is one a killed sgd's sender could
# hand back and send again through the mate. sgd runs in the closed loop of
# relay-stack.sh (TCP mapping, host) under strace; ss7-gen --max-rate.
#
#   tests/bench/sgd-hitless-ack-order.sh BUILD_DIR [--window W] [--queries N]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:?usage: sgd-hitless-ack-order.sh BUILD_DIR [--window W] [--queries N]}
build=$(cd "$build" && pwd)
shift
window=32
queries=2000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --window) window=$2; shift 2 ;;
    --queries) queries=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v strace >/dev/null || { echo "strace is not installed" >&2; exit 2; }
transport=tcp
ip=127.0.0.1
work=$(mktemp -d /tmp/sgd-ack-order.XXXXXX)
# shellcheck source=relay-stack.sh
source "$here/relay-stack.sh"
cleanup() { stop_relay_stack; rm -rf "$work"; }
trap cleanup EXIT
start_relay sgd "$work"
strace -f -e trace=read,write,recvfrom,sendto -xx -s 65536 -p "$relay_pid" -o "$work/trace" 2>/dev/null &
tracer=$!
sleep 0.5
summary=$(run_load "$work" load --max-rate --window "$window" --queries "$queries" --duration 120)
sleep 0.2
kill -INT "$tracer" 2>/dev/null || true
wait "$tracer" 2>/dev/null || true
echo "# window $window, $queries queries: $(field "$summary" answered) answered at $(field "$summary" messages_per_s) msg/s (under strace)"
python3 - "$work/trace" <<'PY'
import re, sys
# "PID  syscall(fd, "\x..", ...)"; the mapping's frame: type in the low
# nibble of byte 0 (2 DATA, 3 DATA-ACK), payload length in bytes 4-7 after
# a 16-byte header.
line_re = re.compile(r'^\d+\s+(recvfrom|sendto|read|write)\((\d+), "((?:\\x[0-9a-f]{2})*)"')
def frames(hexs):
    b = bytes(int(h, 16) for h in hexs.split('\\x')[1:])
    out, i = [], 0
    while i + 16 <= len(b):
        out.append(b[i] & 0x0F)
        i += 16 + int.from_bytes(b[i + 4:i + 8], 'big')
    return out
pending = set()  # sockets with DATA read and not yet acknowledged
reads = first = late = 0
for line in open(sys.argv[1]):
    m = line_re.match(line)
    if not m: continue
    call, fd, fr = m.group(1), int(m.group(2)), frames(m.group(3))
    if call in ("recvfrom", "read"):
        if 2 in fr:
            reads += 1
            pending.add(fd)
    else:
        if 3 in fr and fd in pending:
            first += 1
            pending.discard(fd)
        if 2 in fr:
            for x in [x for x in pending if x != fd]:
                late += 1
                pending.discard(x)
print(f"result ack-order reads={reads} ack_first={first} passed_on_first={late}")
PY
