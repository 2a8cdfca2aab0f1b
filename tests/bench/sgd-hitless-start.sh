#!/usr/bin/env bash
# The process part of an sgd restart (issue 15), alone: N starts of sgd with
# the restart benchmark's configuration (co-located registrar, one pool, two
# routes, every listener on port 0), each until it has written its ports
# file, then SIGKILL. Per phase, min / p50 / max, in ms from the moment
# before exec: main() entered (the dynamic loader and static initialisers
# before it), the configuration read (libosmocore's VTY), every listener
# open, the ports file written (what a supervisor or the test scripts wait
# for); and, for scale, `sgd --version` (exec to exit) and `sgd -t`.
#
#   tests/bench/sgd-hitless-start.sh BUILD_DIR [--reps N] [--transport tcp|sctp] [--ip ADDR]
# Kernel SCTP inside UML:
#   tests/uml/run-in-uml.sh --timeout 600 -- tests/bench/sgd-hitless-start.sh build --transport sctp --ip 198.18.0.1
set -euo pipefail
build=${1:?usage: sgd-hitless-start.sh BUILD_DIR [options]}
shift
reps=20
transport=tcp
ip=127.0.0.1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps) reps=$2; shift 2 ;;
    --transport) transport=$2; shift 2 ;;
    --ip) ip=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
sgd_bin=$build/sg/sgd
work=$(mktemp -d /tmp/sgd-hitless-start.XXXXXX)
now_ms() { date +%s%3N; }
{
  printf 'line vty\n bind 127.0.0.1 0\nsg\n point-code-format itu\n point-code 0.23.1\n network-indicator national\n transport %s\n timer-profile aggressive\n' "$transport"
  printf 'ss7-side\n local-ip %s\n local-port 0\n accept-peers configured\n peer ss7-gen\n  remote-ip %s\n  routing-context 100\n' "$ip" "$ip"
  printf 'registrar\n colocated\n  asap-ip %s\n  asap-port 0\n  enrp-ip %s\n  enrp-port 0\n  server-id 21313\n' "$ip" "$ip"
  printf 'pool gwc\nroute isup-to-gwc\n dpc 0.23.1\n si isup\n pool gwc\nroute sccp-to-gwc\n dpc 0.23.1\n si sccp\n pool gwc\n'
} >"$work/sgd.cfg"

: >"$work/results"
for r in $(seq 1 "$reps"); do
  t=$(now_ms); "$sgd_bin" --version >/dev/null; v=$(( $(now_ms) - t ))
  t=$(now_ms); "$sgd_bin" -t -c "$work/sgd.cfg" >/dev/null; c=$(( $(now_ms) - t ))
  rm -f "$work/sgd.ports" "$work/sgd.log"
  start=$(now_ms)
  "$sgd_bin" -c "$work/sgd.cfg" -p 0 --ports-file "$work/sgd.ports" >"$work/sgd.log" 2>&1 &
  pid=$!
  while [[ ! -s $work/sgd.ports ]]; do sleep 0.005; done
  seen=$(( $(now_ms) - start ))
  kill -KILL "$pid"; wait "$pid" 2>/dev/null || true
  line=$(grep -m1 'start-up: main at' "$work/sgd.log" || true)
  main=$(sed -E 's/.*unix_ms=([0-9]+).*/\1/' <<<"$line")
  cfg=$(sed -E 's/.*configuration read \+([0-9]+) ms.*/\1/' <<<"$line")
  lis=$(sed -E 's/.*listeners open \+([0-9]+) ms.*/\1/' <<<"$line")
  prt=$(sed -E 's/.*ports written \+([0-9]+) ms.*/\1/' <<<"$line")
  echo "version $v check $c main $(( main - start )) config $(( main - start + cfg )) listeners $(( main - start + lis )) ports $(( main - start + prt )) seen $seen" >>"$work/results"
done
python3 - "$work/results" <<'PY'
import sys
rows = [dict(zip(l.split()[::2], map(int, l.split()[1::2]))) for l in open(sys.argv[1]) if l.strip()]
names = {"version": "sgd --version (exec to exit)", "check": "sgd -t (configuration check)",
         "main": "main() entered", "config": "configuration read", "listeners": "every listener open",
         "ports": "ports file written", "seen": "ports file seen by the script"}
print("# %d starts; ms from the moment before exec" % len(rows))
for k, text in names.items():
    v = sorted(r[k] for r in rows)
    print("  %-32s min %4d  p50 %4d  max %4d" % (text, v[0], v[len(v) // 2], v[-1]))
PY
echo "# results: $work/results"
