#!/usr/bin/env bash
# Sustained messages/s through sgd: one SS7 peer (ss7-gen in throughput
# mode: a closed loop of SCCP UDT queries, `window` in flight), three
# gateway controllers (gwc-sim echoing each UDT). Every query crosses sgd
# twice (SS7 -> PE, PE -> SS7), so messages/s = 2 x queries/s. Prints one
# line per window size with the rate and the round-trip latency.
#
#   tests/bench/sgd-throughput.sh BUILD_DIR [--transport tcp|sctp] [--seconds S] [--windows "1 16 64 256"]
#                                 [--ip ADDR] [--m3ua-load PATH]
#
# --m3ua-load: also run the M3UA relay baseline (tests/mxua_driver's
# m3ua_load: our SgpServer forwarding between two ASPs, same loopback,
# same window) for a ratio. Ports: 12905 (SGP), 13863/19901 (registrar),
# 14270 (CLI); override with SG_BENCH_PORT_BASE.
set -euo pipefail
build=${1:?usage: sgd-throughput.sh BUILD_DIR [options]}
shift
transport=tcp
seconds=5
windows="1 16 64 256"
ip=127.0.0.1
m3ua_load=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --transport) transport=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --windows) windows=$2; shift 2 ;;
    --ip) ip=$2; shift 2 ;;
    --m3ua-load) m3ua_load=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
base=${SG_BENCH_PORT_BASE:-10000}
sgp=$((base + 2905)); asap=$((base + 3863)); enrp=$((base + 9901)); vty=$((base + 4270))
work=$(mktemp -d /tmp/sgd-bench.XXXXXX)
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
 network-indicator national
 transport $transport
 timer-profile aggressive
 log-level all warn
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
route sccp-to-gwc
 dpc 0.23.1
 si sccp
 pool gwc
CFG

export SG_LOG_LEVEL=warn
"$build/sg/sgd" -c "$work/sgd.cfg" -p "$vty" >"$work/sgd.log" 2>&1 &
pids+=($!)
sleep 1
kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/sgd.log"; exit 1; }
for i in 1 2 3; do
  "$build/sg/gwc-sim" --name "gwc-$i" --registrar "$ip:$asap" --listen "$ip:0" --transport "$transport" \
    --aggressive --stats-interval 1000 >"$work/gwc-$i.log" 2>&1 &
  pids+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 1 50); do grep -q '^event registered' "$work/gwc-$i.log" && break; sleep 0.1; done
done
sleep 1.5  # sgd learns the pool and opens the PE associations

echo "# sgd: 1 SS7 peer, 3 PEs, transport $transport, ${seconds}s per window, $(nproc) CPUs"
for w in $windows; do
  "$build/sg/ss7-gen" --connect "$ip:$sgp" --transport "$transport" --max-rate --window "$w" \
    --duration "$seconds" --aggressive >"$work/gen-$w.log" 2>&1 || true
  s=$(grep '^summary ' "$work/gen-$w.log" | tail -1)
  f() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$s"; }
  printf 'sgd      window %4s: %8s msg/s through sgd (%s queries/s), rtt p50 %s us p99 %s us, lost %s\n' \
    "$w" "$(f messages_per_s)" "$(f queries_per_s)" "$(f rtt_p50_us)" "$(f rtt_p99_us)" "$(f lost)"
  if [[ -n $m3ua_load ]]; then
    r=$("$m3ua_load" --relay ours --transport "$transport" --seconds "$seconds" --window "$w" 2>/dev/null | tail -1 || true)
    printf 'baseline window %4s: %s\n' "$w" "$r"
  fi
done
for i in 1 2 3; do
  grep '^stats ' "$work/gwc-$i.log" | tail -1 | sed -n 's/.*name=\([^ ]*\).* in=\([0-9]*\).*/  \1 received \2 messages/p'
done
echo "# logs: $work"
