#!/usr/bin/env bash
# The same closed-loop SS7 load relayed by sgd and by osmo-stp, one after the
# other in one User-Mode-Linux boot (kernel SCTP), for a throughput ratio.
#
#   tests/bench/sgd-vs-osmo-stp-uml.sh BUILD_DIR [--seconds S] [--windows "1 8 32"]
#                                      [--payload BYTES] [--rounds N] [--syscalls]
#                                      [--relay-bundle on|off] [--tools-bundle on|off]
#
# Load: ss7-gen --max-rate --window W (SCCP UDT queries, W in flight, each
# answer releases the next; one M3UA ASP association). Each query crosses the
# relay twice, so messages/s = 2 x answered queries/s; latency is per query,
# round trip at ss7-gen (four SCTP hops, two relay passes).
#   sgd:      ss7-gen -> sgd (SGP, co-located registrar, timer-profile
#             standard) -> three gwc-sim pool elements (M3UA IPSP + ASAP
#             control channel; each echoes the UDT, addresses swapped).
#   osmo-stp: ss7-gen (RKM for its point code) -> osmo-stp 1.6 -> AS RC 200
#             (DPC 0.23.1), traffic-mode loadshare, three statically
#             configured ASPs (m3ua_load --echo-asp, each returns the DATA
#             with OPC/DPC swapped). osmo-stp 1.6 does not activate an ASP
#             that joins a configured AS through RKM, hence static ASPs.
# Every SCTP socket of ours sets SCTP_NODELAY. This script turns on, unless
# told otherwise, the bundling of what is written together (SctpOptions::
# bundle, off by default in the product; MSG_MORE on all but the last
# message of a batch). --relay-bundle off leaves it off in sgd (ss7-side
# and pe-sctp `bundle`); --tools-bundle off in the load tools
# (ss7-gen, gwc-sim, the echoing ASPs), so both relays face one packet per
# message and only sgd's own bundling differs. osmo-stp sends one message
# per packet either way. Each round runs sgd then
# osmo-stp for every window; the summary gives the median over rounds. Each
# result line also gives the relay's CPU time (user + system, from
# /proc/PID/stat) per relayed message and how busy the guest's CPU was.
# --syscalls: one more pass per relay under `strace -c -f` (rates are not
# meaningful then) for the system calls per relayed message.
#
# BUILD_DIR holds sg/sgd, sg/gwc-sim, sg/ss7-gen and
# tests/mxua_driver/m3ua_load. Outside UML the script re-runs itself inside
# UML. SG_BENCH_KEEP=1 keeps the logs (path printed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: sgd-vs-osmo-stp-uml.sh BUILD_DIR [options]}
build=$(cd "$build" && pwd)
shift
seconds=5
windows="1 8 32"
payload=32
rounds=2
syscalls=0
relay_bundle=on
tools_bundle=on
args=("$@")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --windows) windows=$2; shift 2 ;;
    --payload) payload=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --syscalls) syscalls=1; shift ;;
    --relay-bundle) relay_bundle=$2; shift 2 ;;
    --tools-bundle) tools_bundle=$2; shift 2 ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $relay_bundle == on || $relay_bundle == off ]] || { echo "--relay-bundle is on or off" >&2; exit 2; }
[[ $tools_bundle == on || $tools_bundle == off ]] || { echo "--tools-bundle is on or off" >&2; exit 2; }
relay_bundle_cfg=" pe-sctp bundle $relay_bundle"; ss7_bundle_cfg=" sctp bundle $relay_bundle"
sgd=$build/sg/sgd; gwc=$build/sg/gwc-sim; gen=$build/sg/ss7-gen; echo_asp=$build/tests/mxua_driver/m3ua_load
for b in "$sgd" "$gwc" "$gen" "$echo_asp"; do
  [[ -x $b ]] || { echo "missing $b (build sgd gwc-sim ss7-gen m3ua_load)" >&2; exit 2; }
done

if [[ ! -d /proc/sys/net/sctp ]]; then
  echo "# host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) before the UML boot"
  exec "$root/tests/uml/run-in-uml.sh" --timeout 900 -- "$0" "$build" "${args[@]}"
fi
command -v osmo-stp >/dev/null || { echo "osmo-stp is not installed" >&2; exit 2; }

work=$(mktemp -d /tmp/sg-vs-osmo.XXXXXX)
pids=()
stop_all() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 30); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
}
cleanup() {
  stop_all
  if [[ ${SG_BENCH_KEEP:-0} == 1 ]]; then echo "# logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

ip=198.18.0.1
sgp_port=12905; asap_port=13863; enrp_port=19901; vty_port=14270
stp_port=2905
echo_ip=198.18.0.2  # the echo ASPs bind it: osmo-stp matches its static ASPs by address and port

wait_line() {  # FILE PATTERN TENTHS
  for _ in $(seq 1 "$3"); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

start_sgd_stack() {  # DIR
  local d=$1
  cat >"$d/sgd.cfg" <<CFG
line vty
 bind 127.0.0.1 $vty_port
sg
 point-code-format itu
 point-code 0.23.1
 network-indicator national
 transport sctp
 timer-profile standard
 log-level all warn
$relay_bundle_cfg
ss7-side
 local-ip $ip
 local-port $sgp_port
$ss7_bundle_cfg
 accept-peers configured
 peer ss7-gen
  remote-ip $ip
  routing-context 100
registrar
 colocated
  asap-ip $ip
  asap-port $asap_port
  enrp-ip $ip
  enrp-port $enrp_port
pool gwc
route sccp-to-gwc
 dpc 0.23.1
 si sccp
 pool gwc
CFG
  "$sgd" -c "$d/sgd.cfg" -p "$vty_port" >"$d/sgd.log" 2>&1 &
  pids+=($!)
  relay_pid=$!
  sleep 1
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$d/sgd.log"; return 1; }
  for i in 1 2 3; do
    "$gwc" --name "gwc-$i" --registrar "$ip:$asap_port" --listen "$ip:0" --transport sctp \
      --bundle "$tools_bundle" --stats-interval 1000 >"$d/gwc-$i.log" 2>&1 &
    pids+=($!)
  done
  for i in 1 2 3; do wait_line "$d/gwc-$i.log" '^event registered' 100 || { echo "gwc-$i did not register" >&2; return 1; }; done
  # sgd re-resolves the pool every 5 s with the standard profile (sooner on
  # the registrar's notification); wait until all three links are active.
  for _ in $(seq 1 150); do
    [[ $(grep -l 'peer ASP ASP-INACTIVE -> ASP-ACTIVE' "$d"/gwc-*.log 2>/dev/null | wc -l) -ge 3 ]] && return 0
    sleep 0.1
  done
  echo "sgd did not bring up all three PE links" >&2
  return 1
}

start_osmo_stack() {  # DIR
  local d=$1
  cat >"$d/osmo-stp.cfg" <<CFG
log stderr
 logging level set-all notice
cs7 instance 0
 point-code 0.0.1
 xua rkm routing-key-allocation dynamic-permitted
 listen m3ua $stp_port
  local-ip $ip
  accept-asp-connections dynamic-permitted
 asp gwc1 22001 $stp_port m3ua
  remote-ip $echo_ip
  local-ip $ip
  role sg
  sctp-role server
 asp gwc2 22002 $stp_port m3ua
  remote-ip $echo_ip
  local-ip $ip
  role sg
  sctp-role server
 asp gwc3 22003 $stp_port m3ua
  remote-ip $echo_ip
  local-ip $ip
  role sg
  sctp-role server
 as as-gwc m3ua
  asp gwc1
  asp gwc2
  asp gwc3
  traffic-mode loadshare
  routing-key 200 0.23.1
 route-table system
  update route 0.23.1 7.255.7 linkset as-gwc
CFG
  osmo-stp -c "$d/osmo-stp.cfg" >"$d/osmo-stp.log" 2>&1 &
  pids+=($!)
  relay_pid=$!
  for _ in $(seq 1 50); do awk '{print $6}' /proc/net/sctp/eps 2>/dev/null | grep -qx "$stp_port" && break; sleep 0.1; done
  sleep 0.5
  for i in 1 2 3; do
    "$echo_asp" --echo-asp "$ip:$stp_port" --echo-rc 200 --local $echo_ip --local-port $((22000 + i)) \
      --transport sctp --bundle "$tools_bundle" >"$d/echo-$i.log" 2>&1 &
    pids+=($!)
  done
  for i in 1 2 3; do
    wait_line "$d/echo-$i.log" '^echo-asp active' 150 || { echo "echo ASP $i not active:" >&2; cat "$d/echo-$i.log" "$d/osmo-stp.log" >&2; return 1; }
  done
}

# CPU ticks (user + system) of a process, and the guest's busy / total ticks.
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# The same for the load side's long-lived processes (the three echoing
# controllers or ASPs; every started process but the relay).
load_ticks() {
  local t=0 p
  for p in "${pids[@]}"; do
    [[ $p == "$relay_pid" ]] && continue
    t=$(( t + $(proc_ticks "$p" 2>/dev/null || echo 0) ))
  done
  echo "$t"
}
guest_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat; }

run_gen() {  # DIR NAME WINDOW PORT EXTRA...
  local d=$1 name=$2 w=$3 port=$4
  shift 4
  local r0 g0 l0 r1 g1 l1 tracer=""
  if [[ ${trace:-0} == 1 ]]; then
    strace -c -f -p "$relay_pid" -o "$d/strace-$name-$w.txt" 2>/dev/null &
    tracer=$!
    sleep 1
  fi
  r0=$(proc_ticks "$relay_pid"); g0=$(guest_ticks); l0=$(load_ticks)
  /usr/bin/time -f "%U %S" -o "$d/time-$name-$w.txt" "$gen" --name "$name" --connect "$ip:$port" --transport sctp --max-rate --window "$w" --payload "$payload" \
    --bundle "$tools_bundle" --duration "$seconds" "$@" >"$d/gen-$name-$w.log" 2>&1 || true
  r1=$(proc_ticks "$relay_pid"); g1=$(guest_ticks); l1=$(load_ticks)
  if [[ -n $tracer ]]; then
    kill -INT "$tracer" 2>/dev/null || true
    wait "$tracer" 2>/dev/null || true
  fi
  local s
  s=$(grep '^summary ' "$d/gen-$name-$w.log" | tail -1)
  if [[ -z $s ]]; then
    echo "no summary from ss7-gen ($name, window $w):" >&2
    tail -5 "$d/gen-$name-$w.log" >&2
    return 0
  fi
  f() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$s"; }
  # Relay CPU per relayed message (user + system, 10 ms ticks, includes
  # the SCTP system calls it makes) and how busy the guest's one CPU was.
  # The load side's CPU per relayed message (ss7-gen, from time(1), and
  # the three echoing processes): in one guest CPU the loop's rate is set
  # by the sum, so this says how much of a rate ratio the relays can move.
  local answered cpu_us busy load_us gen_s
  answered=$(f answered)
  cpu_us=$(awk -v a="$r0" -v b="$r1" -v n="$answered" 'BEGIN { printf "%.0f", (n > 0 ? (b - a) * 10000 / (2 * n) : 0) }')
  gen_s=$(awk 'NF == 2 && $1 ~ /^[0-9.]+$/ { print $1 + $2 }' "$d/time-$name-$w.txt" 2>/dev/null | tail -1)
  load_us=$(awk -v a="$l0" -v b="$l1" -v g="${gen_s:-0}" -v n="$answered" \
    'BEGIN { printf "%.0f", (n > 0 ? ((b - a) * 10000 + g * 1e6) / (2 * n) : 0) }')
  busy=$(awk -v g0="$g0" -v g1="$g1" 'BEGIN { split(g0, x, " "); split(g1, y, " "); t = y[2] - x[2];
          printf "%.0f", (t > 0 ? 100 * (y[1] - x[1]) / t : 0) }')
  printf 'result relay=%s window=%s msg_per_s=%s queries_per_s=%s rtt_p50_us=%s rtt_p99_us=%s lost=%s unexpected=%s relay_cpu_us_per_msg=%s load_cpu_us_per_msg=%s guest_busy_pct=%s\n' \
    "$name" "$w" "$(f messages_per_s)" "$(f queries_per_s)" "$(f rtt_p50_us)" "$(f rtt_p99_us)" "$(f lost)" "$(f unexpected)" \
    "$cpu_us" "$load_us" "$busy" | if [[ -n $tracer ]]; then cat; else tee -a "$work/results"; fi
  if [[ -n $tracer && -s $d/strace-$name-$w.txt ]]; then
    awk -v n="$answered" -v r="$name" -v w="$w" '
      $NF == "total" { total = $4 }
      $1 ~ /^[0-9.]+$/ && $NF != "total" { top[$NF] = $4 }
      END {
        printf "syscalls relay=%s window=%s per_relayed_msg=%.1f:", r, w, total / (2 * n)
        for (c in top) if (top[c] / (2 * n) >= 0.1) printf " %s=%.2f", c, top[c] / (2 * n)
        printf "\n"
      }' "$d/strace-$name-$w.txt"
  fi
}

echo "# command: tests/bench/sgd-vs-osmo-stp-uml.sh ${build#"$root"/} ${args[*]}"
echo "# UML: kernel SCTP, ${seconds}s per window, windows: $windows, payload $payload B, $rounds round(s)"
echo "# SCTP bundling (MSG_MORE across a batch): sgd $relay_bundle, load tools $tools_bundle"
echo "# osmo-stp $(osmo-stp --version 2>/dev/null | sed -n 's/.*version \([^ ]*\).*/\1/p' | head -1)"
: >"$work/results"
for r in $(seq 1 "$rounds"); do
  d=$work/round-$r-sgd
  mkdir -p "$d"
  if start_sgd_stack "$d"; then
    for w in $windows; do run_gen "$d" sgd "$w" $sgp_port; done
    for i in 1 2 3; do
      grep '^stats ' "$d/gwc-$i.log" | tail -1 | sed -n 's/.*name=\([^ ]*\).* sccp_answered=\([0-9]*\).*/# round '"$r"' \1 echoed \2/p'
    done
  fi
  stop_all
  sleep 1
  d=$work/round-$r-osmo
  mkdir -p "$d"
  if start_osmo_stack "$d"; then
    for w in $windows; do run_gen "$d" osmo-stp "$w" $stp_port --register; done
  fi
  stop_all
  for i in 1 2 3; do sed -n "s/^echo-asp echoed=\([0-9]*\).*/# round $r echo-asp-$i echoed \1/p" "$d/echo-$i.log"; done
  sleep 1
done

if [[ $syscalls == 1 ]] && command -v strace >/dev/null; then
  trace=1
  d=$work/strace-sgd
  mkdir -p "$d"
  if start_sgd_stack "$d"; then
    for w in $windows; do run_gen "$d" sgd "$w" $sgp_port; done
  fi
  stop_all
  sleep 1
  d=$work/strace-osmo
  mkdir -p "$d"
  if start_osmo_stack "$d"; then
    for w in $windows; do run_gen "$d" osmo-stp "$w" $stp_port --register; done
  fi
  stop_all
  trace=0
fi

python3 - "$work/results" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    f = dict(x.split("=", 1) for x in line.split()[1:])
    rows.setdefault((f["relay"], int(f["window"])), []).append(f)
def med(rs, k):
    v = [float(r[k]) for r in rs if r.get(k) not in (None, "")]
    return statistics.median(v) if v else float("nan")
print("summary (median over rounds): window | sgd msg/s p50/p99 us cpu/msg (load side) | osmo-stp msg/s p50/p99 us cpu/msg (load side) | ratio sgd/osmo-stp, relay CPU per msg osmo-stp/sgd")
for w in sorted({w for _, w in rows}):
    s, o = rows.get(("sgd", w), []), rows.get(("osmo-stp", w), [])
    ratio = med(s, "msg_per_s") / med(o, "msg_per_s") if s and o and med(o, "msg_per_s") > 0 else float("nan")
    print(f"window {w:3d} | {med(s,'msg_per_s'):7.0f} {med(s,'rtt_p50_us'):7.0f}/{med(s,'rtt_p99_us'):7.0f} {med(s,'relay_cpu_us_per_msg'):5.0f} us ({med(s,'load_cpu_us_per_msg'):4.0f}) | "
          f"{med(o,'msg_per_s'):7.0f} {med(o,'rtt_p50_us'):7.0f}/{med(o,'rtt_p99_us'):7.0f} {med(o,'relay_cpu_us_per_msg'):5.0f} us ({med(o,'load_cpu_us_per_msg'):4.0f}) | {ratio:.2f} x, "
          f"{med(o,'relay_cpu_us_per_msg') / med(s,'relay_cpu_us_per_msg'):.2f} x"
          f"   (lost: sgd {sum(int(r['lost'] or 0) for r in s)}, osmo-stp {sum(int(r['lost'] or 0) for r in o)})")
# One line per window for whoever re-runs this after a change (issue 16's
# target: at least 2x osmo-stp's relay rate with 32 messages in flight).
for w in sorted({w for _, w in rows}):
    s, o = rows.get(("sgd", w), []), rows.get(("osmo-stp", w), [])
    om = med(o, "msg_per_s")
    ratio = med(s, "msg_per_s") / om if s and o and om > 0 else float("nan")
    print(f"result sgd-vs-osmo-stp window={w} sgd_msg_per_s={med(s,'msg_per_s'):.0f} osmo_stp_msg_per_s={om:.0f} "
          f"ratio={ratio:.2f} (target >= 2 at window 32) rounds={len(s)}")
PY
