#!/usr/bin/env bash
# The signalling gateway demo: installs what is missing, builds, then runs
# sgd (embedded default configuration, co-located registrar) with three
# gateway controllers (gwc-sim, with cookies) and the SS7 load generator
# (ss7-gen). Shows per-controller traffic every second, kills one controller
# (SIGKILL) halfway, and ends with a summary and a plot of the traffic (PNG and SVG, matplotlib).
# With --pair: two mated sgd instead (each with its co-located registrar,
# peered over ENRP, on ports the kernel chooses), the controllers registered
# with both, ss7-gen as the SS7 side of the pair (--mate: SLS load sharing,
# failover, changeback); sgd A gets SIGKILL at a third of the run and is
# started again on its ports at two thirds; the plot also shows what the SS7
# side sends to each gateway, and marks the kill and the restart.
#
#   sudo sg/demo/run.sh [--pair] [--duration S] [--cps N] [--no-deps] [--no-build] [--build-dir DIR] [--out DIR]
#
# Exit status: 0 when the gateway did its job; 1 when something went wrong
# (sgd did not start, no call completed, calls lost after the failover,
# messages for unknown calls; with --pair also duplicates at the SS7 side, or
# a restarted sgd that carries nothing); 2 on a usage or setup error.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
duration=30
cps=100
deps=1
build=1
out=""
build_dir="$root/build-demo"
pair=0

usage() { sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --pair) pair=1; shift ;;
    --duration) duration=${2:?}; shift 2 ;;
    --cps) cps=${2:?}; shift 2 ;;
    --no-deps) deps=0; shift ;;
    --no-build) build=0; shift ;;
    --out) out=${2:?}; shift 2 ;;
    --build-dir) build_dir=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $duration =~ ^[0-9]+$ && $duration -ge 6 ]] || { echo "run.sh: --duration needs at least 6 s" >&2; exit 2; }
[[ $cps =~ ^[0-9]+$ && $cps -ge 1 ]] || { echo "run.sh: --cps needs a positive integer" >&2; exit 2; }

say() { printf '\033[1m== %s\033[0m\n' "$*"; }

if [[ $deps -eq 1 ]]; then
  say "dependencies"
  "$root/conf/install-deps.sh" build
  # The plot: matplotlib from Debian (python3-matplotlib, in the demo profile).
  /usr/bin/python3 -c 'import matplotlib' 2>/dev/null || "$root/conf/install-deps.sh" demo
fi

if [[ $build -eq 1 ]]; then
  say "build ($build_dir, Release)"
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSG_TESTS=OFF >/dev/null
  cmake --build "$build_dir" --target sgd gwc-sim ss7-gen
fi
sgd_bin="$build_dir/sg/sgd"
gwc_bin="$build_dir/sg/gwc-sim"
gen_bin="$build_dir/sg/ss7-gen"
for b in "$sgd_bin" "$gwc_bin" "$gen_bin"; do
  [[ -x $b ]] || { echo "run.sh: $b is missing (build first, or drop --no-build)" >&2; exit 2; }
done

out=${out:-$(mktemp -d /tmp/sg-demo.XXXXXX)}
mkdir -p "$out"
csv="$out/traffic.csv"
png="$out/traffic.png"
svg="$out/traffic.svg"

# The embedded default configuration uses these ports on loopback (the pair
# binds port 0 everywhere and reads back what it got).
[[ $pair -eq 1 ]] || for port in 2905 3863 9901 4260; do
  if ss -Hltn "sport = :$port" 2>/dev/null | grep -q . || ss -Hln -A sctp "sport = :$port" 2>/dev/null | grep -q .; then
    echo "run.sh: port $port is in use (another sgd or registrar running?)" >&2
    exit 2
  fi
done

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
  echo "FAILED: $*" >&2
  echo "logs: $out" >&2
  exit 1
}

# Kernel SCTP when the kernel has it (load the module if it is there), the
# TCP mapping otherwise: sgd's default is `transport auto`, and so are we.
modprobe -q sctp 2>/dev/null || true
transport=auto
now_ms() { date +%s%3N; }

# pair_config NAME SS7_PORT ASAP_PORT ENRP_PORT SERVER_ID [registrar lines...]:
# the default configuration on the given ports (0: the kernel chooses).
pair_config() {
  local name=$1 ss7=$2 asap=$3 enrp=$4 id=$5
  shift 5
  {
    printf 'line vty\n bind 127.0.0.1 0\nsg\n point-code-format itu\n point-code 0.23.1\n network-indicator national\n'
    printf ' transport auto\n timer-profile aggressive\n'
    printf 'ss7-side\n local-ip 127.0.0.1\n local-port %s\n accept-peers configured\n peer ss7-gen\n' "$ss7"
    printf '  remote-ip 127.0.0.1\n  routing-context 100\n'
    printf 'registrar\n colocated\n  asap-ip 127.0.0.1\n  asap-port %s\n  enrp-ip 127.0.0.1\n  enrp-port %s\n' "$asap" "$enrp"
    printf '  server-id %s\n' "$id"
    local line
    for line in "$@"; do printf '  %s\n' "$line"; done
    printf 'pool gwc\n pool-wait 2000\nroute isup-to-gwc\n dpc 0.23.1\n si isup\n pool gwc\n'
    printf 'route sccp-to-gwc\n dpc 0.23.1\n si sccp\n pool gwc\n'
  } >"$out/$name.cfg"
}
# start_gateway NAME: sgd on NAME.cfg; waits for the ports it reports.
declare -A gw_pid
start_gateway() {
  local name=$1
  rm -f "$out/$name.ports"
  "$sgd_bin" -c "$out/$name.cfg" -p 0 --ports-file "$out/$name.ports" >>"$out/$name.log" 2>&1 &
  gw_pid[$name]=$!
  pids+=("$!")
  disown "$!"
  for _ in $(seq 1 100); do
    [[ -s $out/$name.ports ]] && return 0
    kill -0 "${gw_pid[$name]}" 2>/dev/null || fail "$name exited: $(tail -5 "$out/$name.log")"
    sleep 0.1
  done
  fail "$name reported no ports: $(tail -5 "$out/$name.log")"
}
port_of() { awk -v n="$2" '$1 == n { print $2 }' "$out/$1.ports"; }

if [[ $pair -eq 0 ]]; then
  say "starting sgd (embedded default configuration, co-located registrar)"
  "$sgd_bin" >"$out/sgd.log" 2>&1 &
  sgd_pid=$!
  pids+=("$sgd_pid")
  for _ in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.1/4260) 2>/dev/null && break
    kill -0 "$sgd_pid" 2>/dev/null || fail "sgd exited: $(tail -5 "$out/sgd.log")"
    sleep 0.1
  done
  sleep 0.3
  kill -0 "$sgd_pid" 2>/dev/null || fail "sgd exited: $(tail -5 "$out/sgd.log")"
  kind=$(grep -q "falling back to the TCP mapping" "$out/sgd.log" && echo "TCP mapping (no kernel SCTP)" || echo "kernel SCTP")
  echo "sgd running (pid $sgd_pid), transport: $kind"
  registrars=(--registrar 127.0.0.1:3863)
  ss7_side=(--connect 127.0.0.1:2905)
  links=1
else
  say "starting two mated sgd (co-located registrars peered over ENRP)"
  pair_config sgd-a 0 0 0 21313 "enrp-allow 127.0.0.1"
  start_gateway sgd-a
  a_ss7=$(port_of sgd-a m3ua); a_asap=$(port_of sgd-a asap); a_enrp=$(port_of sgd-a enrp)
  pair_config sgd-b 0 0 0 21314 "enrp-peer 127.0.0.1 $a_enrp"
  start_gateway sgd-b
  b_ss7=$(port_of sgd-b m3ua); b_asap=$(port_of sgd-b asap)
  kind=$(grep -q "falling back to the TCP mapping" "$out/sgd-a.log" && echo "TCP mapping (no kernel SCTP)" || echo "kernel SCTP")
  echo "sgd A (pid ${gw_pid[sgd-a]}): M3UA port $a_ss7, ASAP $a_asap; sgd B (pid ${gw_pid[sgd-b]}): M3UA port $b_ss7, ASAP $b_asap; transport: $kind"
  registrars=(--registrar "127.0.0.1:$a_asap" --registrar "127.0.0.1:$b_asap")
  ss7_side=(--connect "127.0.0.1:$a_ss7" --mate "127.0.0.1:$b_ss7")
  links=2
fi

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
last_stats() { grep '^stats ' "$1" 2>/dev/null | tail -1; }

names=(gwc-1 gwc-2 gwc-3)
declare -A pe_pid
for n in "${names[@]}"; do
  "$gwc_bin" --name "$n" --pool gwc "${registrars[@]}" --listen 127.0.0.1:0 --transport "$transport" \
    --cookies --aggressive --answer-delay 20 --stats-interval 1000 >"$out/$n.log" 2>&1 &
  pe_pid[$n]=$!
  pids+=("$!")
  disown "$!"  # no job-control noise when one is killed
done
for n in "${names[@]}"; do
  for _ in $(seq 1 100); do
    grep -q "^event registered" "$out/$n.log" && break
    kill -0 "${pe_pid[$n]}" 2>/dev/null || fail "$n exited: $(tail -3 "$out/$n.log")"
    sleep 0.1
  done
  grep -q "^event registered" "$out/$n.log" || fail "$n did not register"
  echo "$n registered as PE $(sed -n 's/^event listening.*pe_id=\(0x[0-9a-f]*\).*/\1/p' "$out/$n.log")"
done
# sgd learns the pool and connects to its members (every gateway, with --pair).
for n in "${names[@]}"; do
  for _ in $(seq 1 100); do
    a=$(field "$(last_stats "$out/$n.log")" associations)
    [[ ${a:-0} -ge $links ]] && break
    sleep 0.1
  done
  [[ ${a:-0} -ge $links ]] || fail "$n is not linked to $links gateway(s)"
done

if [[ $pair -eq 0 ]]; then
  victim=gwc-2
  kill_at=$((duration / 2))
  say "traffic: $cps calls/s (+ $((cps / 2)) SCCP queries/s) for ${duration}s; $victim gets SIGKILL at ${kill_at}s"
else
  victim=sgd-a
  kill_at=$((duration / 3))
  restart_at=$((2 * duration / 3))
  say "traffic: $cps calls/s (+ $((cps / 2)) SCCP queries/s) for ${duration}s over both gateways; sgd A gets SIGKILL at ${kill_at}s and is started again at ${restart_at}s"
fi
"$gen_bin" "${ss7_side[@]}" --transport "$transport" --cps "$cps" --sccp-rate $((cps / 2)) --hold 1000 \
  --duration "$duration" --answer-timeout 4000 --aggressive --stats-interval 1000 >"$out/ss7-gen.log" 2>&1 &
gen_pid=$!
pids+=("$gen_pid")


echo "t_ms,series,value" >"$csv"
start=$(now_ms)
killed_ms=""
restarted_ms=""
tick=0
while kill -0 "$gen_pid" 2>/dev/null; do
  tick=$((tick + 1))
  delay=$(( start + tick * 1000 - $(now_ms) ))
  [[ $delay -gt 0 ]] && sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  t=$(( $(now_ms) - start ))
  line=$(printf 't=%3ds' $((t / 1000)))
  for n in "${names[@]}"; do
    # messages/s from the controller's own last two stats lines
    read -r rate calls < <(grep '^stats ' "$out/$n.log" 2>/dev/null | tail -2 | awk '
      { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        tot[NR] = f["in"] + f["out"]; t[NR] = f["t_ms"]; c = f["calls_active"] }
      END { r = (NR == 2 && t[2] > t[1]) ? int((tot[2] - tot[1]) * 1000 / (t[2] - t[1])) : 0; print r, (c == "" ? 0 : c) }')
    if [[ -n $killed_ms && $n == "$victim" ]]; then
      line+=$(printf ' | %s      killed' "$n")
      rate=0
    else
      line+=$(printf ' | %s %5d msg/s %4s calls' "$n" "$rate" "$calls")
    fi
    echo "$t,$n,$rate" >>"$csv"
  done
  g=$(last_stats "$out/ss7-gen.log")
  if [[ -n $g ]]; then
    line+=$(printf ' | ss7: %s done %s failed' "$(field "$g" calls_completed)" "$(field "$g" calls_failed)")
    echo "$t,calls completed,$(field "$g" calls_completed)" >>"$csv"
    echo "$t,calls failed,$(field "$g" calls_failed)" >>"$csv"
  fi
  if [[ $pair -eq 1 ]]; then
    # what the SS7 side sent to each gateway, messages/s (its last two stats lines)
    for i in 0 1; do
      label=$([[ $i -eq 0 ]] && echo "sgd A" || echo "sgd B")
      rate=$(grep '^stats ' "$out/ss7-gen.log" 2>/dev/null | tail -2 | awk -v k="sg${i}_sent" '
        { for (j = 2; j <= NF; j++) { split($j, kv, "="); f[kv[1]] = kv[2] }
          v[NR] = f[k]; t[NR] = f["t_ms"] }
        END { print (NR == 2 && t[2] > t[1]) ? int((v[2] - v[1]) * 1000 / (t[2] - t[1])) : 0 }')
      line+=$(printf ' | %s %5d msg/s' "$label" "$rate")
      echo "$t,$label,$rate" >>"$csv"
    done
  fi
  echo "$line"
  if [[ $pair -eq 0 ]]; then
    kill -0 "$sgd_pid" 2>/dev/null || fail "sgd died during the run"
  else
    kill -0 "${gw_pid[sgd-b]}" 2>/dev/null || fail "sgd B died during the run"
    [[ -n $killed_ms && -z $restarted_ms ]] || kill -0 "${gw_pid[sgd-a]}" 2>/dev/null || fail "sgd A died during the run"
  fi
  if [[ $pair -eq 1 && -z $killed_ms && $t -ge $((kill_at * 1000)) ]]; then
    kill -KILL "${gw_pid[sgd-a]}"
    killed_ms=$(now_ms)
    echo "$((killed_ms - start)),event,sgd A killed" >>"$csv"
    printf '\033[1m>> SIGKILL sgd A (pid %s)\033[0m\n' "${gw_pid[sgd-a]}"
  elif [[ $pair -eq 1 && -n $killed_ms && -z $restarted_ms && $t -ge $((restart_at * 1000)) ]]; then
    pair_config sgd-a "$a_ss7" "$a_asap" "$a_enrp" 21313 "enrp-allow 127.0.0.1" \
      "enrp-peer 127.0.0.1 $(port_of sgd-b enrp)"
    restarted_ms=$(now_ms)
    start_gateway sgd-a
    echo "$((restarted_ms - start)),event,sgd A restarted" >>"$csv"
    printf '\033[1m>> sgd A started again on its ports (pid %s)\033[0m\n' "${gw_pid[sgd-a]}"
  elif [[ $pair -eq 0 && -z $killed_ms && $t -ge $((kill_at * 1000)) ]]; then
    kill -KILL "${pe_pid[$victim]}"
    killed_ms=$(( $(now_ms) ))
    echo "$((killed_ms - start)),event,$victim killed" >>"$csv"
    printf '\033[1m>> SIGKILL %s (pid %s)\033[0m\n' "$victim" "${pe_pid[$victim]}"
  fi
done
wait "$gen_pid" || fail "ss7-gen failed: $(tail -3 "$out/ss7-gen.log")"

summary=$(grep '^summary ' "$out/ss7-gen.log" | tail -1)
[[ -n $summary ]] || fail "ss7-gen wrote no summary"
# one more stats line from the survivors
end_ms=$(now_ms)
for n in "${names[@]}"; do
  [[ $n == "$victim" ]] && continue
  for _ in $(seq 1 30); do
    [[ $(field "$(last_stats "$out/$n.log")" unix_ms) -ge $end_ms ]] && break
    sleep 0.1
  done
done
unknown=0
for n in "${names[@]}"; do
  [[ $n == "$victim" ]] && continue
  s=$(last_stats "$out/$n.log")
  unknown=$(( unknown + $(field "$s" unknown_call) ))
done
# A failed call counts as lost unless it started around the kill (from 1 s
# before to 2 s after: what the victim held when it died, and the failover).
late=0
while read -r started; do
  [[ -n $started && -n $killed_ms ]] || continue
  [[ $started -lt $((killed_ms - 1000)) || $started -gt $((killed_ms + 2000)) ]] && late=$((late + 1))
done < <(sed -n 's/^event failed-call.*started_unix_ms=\([0-9]*\).*/\1/p' "$out/ss7-gen.log")
answer_max_ms=$(( $(field "$summary" answer_max_us) / 1000 ))
failover_ms=$(( answer_max_ms > 20 ? answer_max_ms - 20 : 0 ))

say "summary"
printf '  calls: %s attempted, %s completed, %s failed (%s of them started more than 1 s before or 2 s after the kill)\n' \
  "$(field "$summary" calls_attempted)" "$(field "$summary" calls_completed)" "$(field "$summary" calls_failed)" "$late"
printf '  SCCP queries: %s sent, %s answered\n' "$(field "$summary" sccp_sent)" "$(field "$summary" sccp_answered)"
printf '  messages: %s sent, %s received by the SS7 side; losses %s\n' "$(field "$summary" messages_sent)" \
  "$(field "$summary" messages_received)" "$(field "$summary" losses)"
printf '  answer latency: p50 %s us, p99 %s us, max %s us\n' "$(field "$summary" answer_p50_us)" \
  "$(field "$summary" answer_p99_us)" "$(field "$summary" answer_max_us)"
printf '  messages for unknown calls at the surviving controllers: %s\n' "$unknown"
printf '  failover time (worst extra answer delay seen by a caller): %s ms\n' "$failover_ms"
if [[ $pair -eq 1 ]]; then
  # the first ss7-gen event NAME for sgd A (sg=0) at or after unix ms T
  event_at() { sed -n "s/^event $1 sg=0 .*unix_ms=\([0-9]*\).*/\1/p" "$out/ss7-gen.log" | awk -v t="$2" '$1 >= t { print; exit }'; }
  moved=$(event_at sg-lost "$killed_ms")
  back=$( [[ -n $restarted_ms ]] && event_at sg-traffic "$restarted_ms" )
  printf '  the SS7 side moved sgd A'"'"'s traffic to sgd B %s ms after the kill; sgd A carried traffic again %s ms after its restart\n' \
    "$( [[ -n $moved ]] && echo $((moved - killed_ms)) || echo '(never)')" "$( [[ -n $back ]] && echo $((back - restarted_ms)) || echo '(never)')"
  # A message sgd A had passed on but not yet acknowledged comes back from
  # its sender's transport and is sent again through sgd B (at-least-once):
  # a duplicate at the kill is that; one anywhere else is a real duplicate.
  dup_late=0
  while read -r at; do
    [[ -n $at ]] || continue
    [[ $at -lt $((killed_ms - 200)) || $at -gt $((killed_ms + 2000)) ]] && dup_late=$((dup_late + 1))
  done < <(sed -n 's/^event unexpected.*unix_ms=\([0-9]*\).*/\1/p' "$out/ss7-gen.log")
  printf '  duplicates or unexpected messages at the SS7 side: %s (%s away from the kill); changebacks: %s\n' \
    "$(field "$summary" unexpected)" "$dup_late" "$(field "$summary" sg_changebacks)"
fi
for n in "${names[@]}"; do
  s=$(last_stats "$out/$n.log")
  printf '  %s: %s calls offered, %s adopted from a cookie\n' "$n" "$(field "$s" calls_offered)" "$(field "$s" calls_adopted)"
done

if [[ $pair -eq 1 ]]; then
  title="two mated sgd: sgd A killed at ${kill_at}s, started again at ${restart_at}s"
else
  title="sgd: messages/s per gateway controller, $victim killed at ${kill_at}s"
fi
if /usr/bin/python3 "$root/sg/demo/plot_traffic.py" "$csv" "$png" --svg "$svg" --title "$title"; then
  echo "plot: $png (also $svg)"
else
  echo "plot: could not be written (data in $csv)" >&2
fi
echo "logs: $out"

completed=$(field "$summary" calls_completed)
[[ ${completed:-0} -gt 0 ]] || fail "no call completed"
[[ $late -eq 0 ]] || fail "$late calls lost after the failover"
[[ $unknown -eq 0 ]] || fail "$unknown messages for unknown calls (cookie failover)"
if [[ $pair -eq 0 ]]; then
  kill -0 "$sgd_pid" 2>/dev/null || fail "sgd died"
else
  [[ $dup_late -eq 0 ]] || fail "$dup_late duplicates or unexpected messages at the SS7 side away from the kill"
  [[ -n $back ]] || fail "the restarted sgd A carried no traffic"
  kill -0 "${gw_pid[sgd-a]}" 2>/dev/null && kill -0 "${gw_pid[sgd-b]}" 2>/dev/null || fail "an sgd died"
fi
say "OK"
