#!/usr/bin/env bash
# Failover time distribution: sgd with three gateway controllers (cookies,
# aggressive profile) under call load; every INTERVAL seconds one
# controller gets SIGKILL and a replacement registers. For each kill, the
# failover time is the worst answer delay (beyond the controllers' normal
# 20 ms) of calls answered in the following interval: how long the calls
# that were on the killed controller waited for their heir. Prints each
# kill, min / p50 / max, and calls that failed although they started after
# detection.
#
#   tests/bench/sgd-failover.sh BUILD_DIR [--kills N] [--interval S] [--transport tcp|sctp] [--ip ADDR] [--cps N]
set -euo pipefail
build=${1:?usage: sgd-failover.sh BUILD_DIR [options]}
shift
kills=10
interval=3
transport=tcp
ip=127.0.0.1
cps=200
while [[ $# -gt 0 ]]; do
  case "$1" in
    --kills) kills=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --transport) transport=$2; shift 2 ;;
    --ip) ip=$2; shift 2 ;;
    --cps) cps=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
base=${SG_BENCH_PORT_BASE:-11000}
sgp=$((base + 2905)); asap=$((base + 3863)); enrp=$((base + 9901)); vty=$((base + 4270))
work=$(mktemp -d /tmp/sgd-failover.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

cat >"$work/sgd.cfg" <<CFG
line vty
 bind 127.0.0.1 $vty
sg
 point-code-format itu
 point-code 0.23.1
 transport $transport
 timer-profile aggressive
ss7-side
 local-ip $ip
 local-port $sgp
 accept-peers configured
 peer ss7-gen
  remote-ip $ip
  routing-context 100
registrar
 colocated
  asap-ip $ip
  asap-port $asap
  enrp-ip $ip
  enrp-port $enrp
pool gwc
route isup-to-gwc
 dpc 0.23.1
 si isup
 pool gwc
CFG
"$build/sg/sgd" -c "$work/sgd.cfg" -p "$vty" >"$work/sgd.log" 2>&1 &
pids+=($!)
sleep 1
declare -A pe
start_pe() {
  "$build/sg/gwc-sim" --name "$1" --registrar "$ip:$asap" --listen "$ip:0" --transport "$transport" \
    --cookies --aggressive --stats-interval 500 >"$work/$1.log" 2>&1 &
  pe[$1]=$!
  pids+=($!)
  for _ in $(seq 1 50); do grep -q '^event registered' "$work/$1.log" && break; sleep 0.1; done
}
for i in 1 2 3; do start_pe "gwc-$i-0"; done
sleep 1.5
live=(gwc-1-0 gwc-2-0 gwc-3-0)
"$build/sg/ss7-gen" --connect "$ip:$sgp" --transport "$transport" --cps "$cps" --hold 300 --answer-timeout 4000 \
  --duration $((kills * interval + interval)) --aggressive --stats-interval 100 >"$work/gen.log" 2>&1 &
gen=$!
pids+=($gen)
: >"$work/kills"
for k in $(seq 1 "$kills"); do
  sleep "$interval"
  slot=$(( (k - 1) % 3 ))
  victim=${live[$slot]}
  kill -KILL "${pe[$victim]}"
  date +%s%3N >>"$work/kills"
  replacement="gwc-$((slot + 1))-$k"
  start_pe "$replacement"
  live[$slot]=$replacement
done
wait "$gen" || true
python3 - "$work/gen.log" "$work/kills" "$interval" <<'PY'
import sys
gen, kills, interval = sys.argv[1], sys.argv[2], float(sys.argv[3])
stats, failed, summary = [], [], ""
for line in open(gen):
    w = line.split()
    if not w: continue
    f = dict(x.split("=", 1) for x in w[1:] if "=" in x)
    if w[0] == "stats" and "interval_max_answer_us" in f:
        stats.append((int(f["unix_ms"]), int(f["interval_max_answer_us"])))
    elif w[0] == "event" and len(w) > 1 and w[1] == "failed-call":
        failed.append(int(f["started_unix_ms"]))
    elif w[0] == "summary":
        summary = line.strip()
ks = [int(x) for x in open(kills).read().split()]
times = []
for k in ks:
    worst = max([us for t, us in stats if k < t <= k + interval * 1000] or [0])
    times.append(max(0, worst / 1000.0 - 20))
late = sum(1 for s in failed for k in ks if k + 1500 < s <= k + interval * 1000)
for i, t in enumerate(times, 1):
    print(f"kill {i:2d}: failover {t:7.1f} ms")
st = sorted(times)
if st:
    print(f"failover over {len(st)} kills: min {st[0]:.1f} ms, p50 {st[len(st)//2]:.1f} ms, max {st[-1]:.1f} ms")
print(f"calls failed in total: {len(failed)}; started after detection (kill + 1.5 s): {late}")
print(summary)
PY
echo "# logs: $work"
