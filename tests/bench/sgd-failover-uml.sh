#!/usr/bin/env bash
# Failover-time distribution over repeated SIGKILLs, inside one
# User-Mode-Linux boot (kernel SCTP), for one or more timer settings.
#
#   tests/bench/sgd-failover-uml.sh BUILD_DIR [--kills N] [--interval S] [--cps N]
#        [--settings "aggressive:500 aggressive:2000:20 standard:1000"] [--capture]
#
# Per setting PROFILE:PE_BEAT[:CPS] (PE_BEAT 0 = the profile's own pe-beat;
# CPS defaults to --cps):
# sgd (SGP, co-located registrar, `timer-profile PROFILE`, `pe-beat PE_BEAT`)
# with three gwc-sim (cookies; --aggressive with the aggressive profile) and
# ss7-gen placing CPS calls/s (hold 300 ms, answer after 20 ms). Every
# INTERVAL s the next controller in turn gets SIGKILL; its replacement is
# started 1 s later. Per kill:
#   detect  kill -> sgd logs the victim's link failed
#   heir    kill -> the first gwc-sim logs COOKIE_ECHO (the heir's first
#           message of the moved calls: sgd sends the cookie before any data)
#   answer  worst extra answer delay (beyond 20 ms) seen by ss7-gen in the
#           interval after the kill (session 2's measure)
# and calls lost (failed or unfinished at ss7-gen), and every link failure of
# a controller that was NOT killed (false failure) with the timer that
# caused it: M3UA BEAT (pe-beat), registrar keep-alive, SCTP COMM_LOST.
# A probe process (sleep 20 ms in a loop) records scheduling stalls in the
# guest. --capture records SCTP on lo with dumpcap (snaplen 200) for the
# first setting and prints, for every false BEAT failure, when the last
# BEAT ACK and the last packet of that controller crossed the wire.
#
# Outside UML the script re-runs itself inside UML. SG_BENCH_KEEP=1 keeps
# the logs (path printed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: sgd-failover-uml.sh BUILD_DIR [options]}
build=$(cd "$build" && pwd)
shift
kills=10
interval=4
cps=50
settings="aggressive:500 aggressive:2000 standard:1000"
capture=0
args=("$@")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --kills) kills=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --cps) cps=$2; shift 2 ;;
    --settings) settings=$2; shift 2 ;;
    --capture) capture=1; shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
sgd=$build/sg/sgd; gwc=$build/sg/gwc-sim; gen=$build/sg/ss7-gen
for b in "$sgd" "$gwc" "$gen"; do
  [[ -x $b ]] || { echo "missing $b (build sgd gwc-sim ss7-gen)" >&2; exit 2; }
done

if [[ ! -d /proc/sys/net/sctp ]]; then
  echo "# host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) before the UML boot"
  exec "$root/tests/uml/run-in-uml.sh" --timeout 900 -- "$0" "$build" "${args[@]}"
fi

work=$(mktemp -d /tmp/sg-failover-uml.XXXXXX)
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
sgp_port=11905; asap_port=11863; enrp_port=11901; vty_port=11270

run_setting() {  # NAME PROFILE PE_BEAT DIR CAPTURE CPS
  local name=$1 profile=$2 beat=$3 d=$4 cap=$5 cps=$6
  local agg=()
  [[ $profile == aggressive ]] && agg=(--aggressive)
  {
    echo "line vty"
    echo " bind 127.0.0.1 $vty_port"
    echo "sg"
    echo " point-code-format itu"
    echo " point-code 0.23.1"
    echo " transport sctp"
    echo " timer-profile $profile"
    [[ $beat != 0 ]] && echo " pe-beat $beat"
    cat <<CFG
ss7-side
 local-ip $ip
 local-port $sgp_port
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
route isup-to-gwc
 dpc 0.23.1
 si isup
 pool gwc
CFG
  } >"$d/sgd.cfg"
  python3 -u -c '
import time
prev = time.time()
while True:
    time.sleep(0.02)
    t = time.time()
    if t - prev > 0.1:
        print(f"stall ms={int((t - prev) * 1000) - 20} end_unix_ms={int(t * 1000)}", flush=True)
    prev = t
' >"$d/probe.log" 2>&1 &
  pids+=($!)
  if [[ $cap == 1 ]]; then
    dumpcap -q -P -i lo -s 200 -f sctp -w "$d/lo.pcap" 2>"$d/dumpcap.log" &
    pids+=($!)
    sleep 1
  fi
  "$sgd" -c "$d/sgd.cfg" -p "$vty_port" >"$d/sgd.log" 2>&1 &
  pids+=($!)
  local sgdpid=$!
  sleep 1
  declare -A pe=()
  start_pe() {
    "$gwc" --name "$1" --registrar "$ip:$asap_port" --listen "$ip:0" --transport sctp --cookies "${agg[@]}" \
      --stats-interval 500 >"$d/$1.log" 2>&1 &
    pe[$1]=$!
    pids+=($!)
  }
  for i in 1 2 3; do start_pe "gwc-$i-0"; done
  for i in 1 2 3; do
    for _ in $(seq 1 100); do grep -q '^event registered' "$d/gwc-$i-0.log" && break; sleep 0.1; done
  done
  for _ in $(seq 1 150); do
    [[ $(grep -l 'peer ASP ASP-INACTIVE -> ASP-ACTIVE' "$d"/gwc-*-0.log 2>/dev/null | wc -l) -ge 3 ]] && break
    sleep 0.1
  done
  local live=(gwc-1-0 gwc-2-0 gwc-3-0)
  "$gen" --connect "$ip:$sgp_port" --transport sctp --cps "$cps" --hold 300 --answer-timeout 4000 \
    --duration $(((kills + 2) * interval)) "${agg[@]}" --stats-interval 100 >"$d/gen.log" 2>&1 &
  local genpid=$!
  pids+=($genpid)
  awk '/^cpu /{print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat >"$d/cpu"
  awk '{print $14 + $15}' "/proc/$sgdpid/stat" >"$d/sgd-cpu"
  : >"$d/kills"
  # Kills on a fixed schedule from the load's start (sleep overshoots in UML).
  local t0=${EPOCHREALTIME/./}
  t0=${t0:0:13}
  sleep_until() {  # UNIX_MS
    local now=${EPOCHREALTIME/./}
    now=${now:0:13}
    local left=$(($1 - now))
    ((left > 0)) && sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
    return 0
  }
  for k in $(seq 1 "$kills"); do
    local slot=$(( (k - 1) % 3 ))
    local victim=${live[$slot]}
    sleep_until $((t0 + k * interval * 1000))
    local t=${EPOCHREALTIME/./}  # a builtin: no fork between the time and the kill
    t=${t:0:13}
    kill -KILL "${pe[$victim]}"
    echo "$t $victim" >>"$d/kills"
    sleep_until $((t0 + k * interval * 1000 + 1000))
    local replacement="gwc-$((slot + 1))-$k"
    start_pe "$replacement"
    live[$slot]=$replacement
  done
  wait "$genpid" || true
  awk '/^cpu /{print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat >>"$d/cpu"
  awk '{print $14 + $15}' "/proc/$sgdpid/stat" >>"$d/sgd-cpu" 2>/dev/null || true
  stop_all
  python3 "$here/sgd-failover-report.py" "$d" "$name" "$interval" "$cps"
}

echo "# UML: kernel SCTP, $kills kills every ${interval}s, settings: $settings (default $cps calls/s)"
first=1
for s in $settings; do
  IFS=: read -r profile beat rate <<<"$s"
  rate=${rate:-$cps}
  d=$work/$profile-$beat-$rate
  mkdir -p "$d"
  run_setting "$s" "$profile" "$beat" "$d" $((capture && first)) "$rate"
  first=0
  sleep 1
done
