#!/usr/bin/env bash
# sgd's relay rate against the minimal M3UA forwarder (issue 16's physical
# limit: "sgd at 50% or more of the forwarder's msg/s on the host TCP
# mapping and in UML, p99 under 1 ms at half that rate on the host").
#
#   tests/bench/sgd-vs-forwarder.sh BUILD_DIR [--transport tcp|sctp] [--windows "1 32"]
#                                   [--seconds S] [--rounds N] [--ip ADDR] [--no-latency]
#
# The same closed loop with each relay in the middle (relay-stack.sh):
# ss7-gen --max-rate --window W (SCCP UDT queries, W in flight, one ASP
# association) -> relay -> three gwc-sim echoing each query -> relay ->
# ss7-gen. Each query crosses the relay twice: msg/s = 2 x answered
# queries/s; latency = query round trip at ss7-gen (two relay passes, four
# transport hops). Each stack gets a short warm-up run first; rounds
# alternate the order (forwarder first, then sgd first); the summary takes
# the median over rounds. Each line also gives the relay's own CPU time (user +
# system, /proc/PID/stat) per relayed message: on a machine whose cores the
# load tools share with the relay, that is the relay's cost even when the
# loop is bound by the tools.
#
# Latency at half the limit (host by default; --no-latency skips it): an
# open-loop load (ss7-gen --cps 0 --sccp-rate Q) offering half the
# forwarder's best msg/s, through sgd and through the forwarder; p50/p99 of
# the query round trip.
#
# --transport sctp outside UML re-runs the script inside UML (kernel SCTP,
# addresses 198.18.0.1). BUILD_DIR holds sg/sgd, sg/gwc-sim, sg/ss7-gen,
# registrar/rserpool-registrar and tests/bench/m3ua-forwarder.
# Last lines: "result ..." (one per window, and one for the latency).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: sgd-vs-forwarder.sh BUILD_DIR [options]}
build=$(cd "$build" && pwd)
shift
args=("$@")
transport=tcp
windows="1 32"
seconds=4
rounds=2
ip=""
latency=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --transport) transport=$2; shift 2 ;;
    --windows) windows=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --ip) ip=$2; shift 2 ;;
    --no-latency) latency=0; shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for b in sg/sgd sg/gwc-sim sg/ss7-gen registrar/rserpool-registrar tests/bench/m3ua-forwarder; do
  [[ -x $build/$b ]] || { echo "missing $build/$b (ninja -C BUILD sgd gwc-sim ss7-gen rserpool-registrar m3ua-forwarder)" >&2; exit 2; }
done
if [[ $transport == sctp && ! -d /proc/sys/net/sctp ]]; then
  echo "# command: tests/bench/sgd-vs-forwarder.sh ${build#"$root"/} ${args[*]}"
  echo "# host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) before the UML boot"
  exec "$root/tests/uml/run-in-uml.sh" --timeout 900 -- "$0" "$build" "${args[@]}"
fi
if [[ -z $ip ]]; then
  ip=127.0.0.1
  [[ $transport == sctp ]] && ip=198.18.0.1
fi

work=$(mktemp -d /tmp/sgd-vs-fwd.XXXXXX)
# shellcheck source=relay-stack.sh
source "$here/relay-stack.sh"
cleanup() {
  stop_relay_stack
  if [[ ${SG_BENCH_KEEP:-0} == 1 ]]; then echo "# logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_per_s=$(getconf CLK_TCK)

echo "# command: tests/bench/sgd-vs-forwarder.sh ${build#"$root"/} ${args[*]}"
echo "# transport $transport on $ip, windows: $windows, ${seconds}s each, $rounds round(s); $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$work/results"
for r in $(seq 1 "$rounds"); do
  order="forwarder sgd"
  (( r % 2 == 0 )) && order="sgd forwarder"  # alternate, so neither always runs first
  for relay in $order; do
    d=$work/round-$r-$relay
    mkdir -p "$d"
    if ! start_relay "$relay" "$d"; then stop_relay_stack; continue; fi
    warm_up "$d"
    for w in $windows; do
      t0=$(proc_ticks "$relay_pid")
      s=$(run_load "$d" "w$w" --max-rate --window "$w" --duration "$seconds")
      t1=$(proc_ticks "$relay_pid")
      [[ -n $s ]] || { echo "no summary from ss7-gen ($relay, window $w): $(tail -3 "$d/gen-w$w.log")" >&2; continue; }
      cpu=$(awk -v a="$t0" -v b="$t1" -v n="$(field "$s" answered)" -v hz="$ticks_per_s" \
        'BEGIN { printf "%.2f", (n > 0 ? (b - a) * 1e6 / hz / (2 * n) : 0) }')
      printf 'run relay=%s round=%s window=%s msg_per_s=%s rtt_p50_us=%s rtt_p99_us=%s lost=%s relay_cpu_us_per_msg=%s\n' \
        "$relay" "$r" "$w" "$(field "$s" messages_per_s)" "$(field "$s" rtt_p50_us)" "$(field "$s" rtt_p99_us)" \
        "$(field "$s" lost)" "$cpu" | tee -a "$work/results"
    done
    stop_relay_stack
    sleep 0.5
  done
done

summary=$(python3 - "$work/results" "$transport" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    f = dict(x.split("=", 1) for x in line.split()[1:])
    rows.setdefault((f["relay"], int(f["window"])), []).append(f)
def med(rs, k):
    v = [float(r[k]) for r in rs if r.get(k) not in (None, "")]
    return statistics.median(v) if v else float("nan")
best = 0.0
for w in sorted({w for _, w in rows}):
    s, f = rows.get(("sgd", w), []), rows.get(("forwarder", w), [])
    fs = med(f, "msg_per_s")
    best = max(best, fs if fs == fs else 0)
    ratio = med(s, "msg_per_s") / fs if s and f and fs > 0 else float("nan")
    cpu = med(s, "relay_cpu_us_per_msg") / med(f, "relay_cpu_us_per_msg") if s and f and med(f, "relay_cpu_us_per_msg") > 0 else float("nan")
    print(f"result sgd-vs-forwarder transport={sys.argv[2]} window={w} sgd_msg_per_s={med(s,'msg_per_s'):.0f} "
          f"forwarder_msg_per_s={fs:.0f} ratio={ratio:.2f} (target >= 0.50) "
          f"sgd_rtt_p50/p99_us={med(s,'rtt_p50_us'):.0f}/{med(s,'rtt_p99_us'):.0f} "
          f"forwarder_rtt_p50/p99_us={med(f,'rtt_p50_us'):.0f}/{med(f,'rtt_p99_us'):.0f} "
          f"relay_cpu_us_per_msg sgd/forwarder={med(s,'relay_cpu_us_per_msg'):.2f}/{med(f,'relay_cpu_us_per_msg'):.2f} "
          f"(cpu ratio {cpu:.2f}) lost={sum(int(r['lost'] or 0) for r in s + f)}")
print(f"best_forwarder_msg_per_s={best:.0f}")
PY
)
grep -v '^best_forwarder' <<<"$summary"
best=$(sed -n 's/^best_forwarder_msg_per_s=//p' <<<"$summary")

if [[ $latency == 1 && ${best:-0} -gt 0 ]]; then
  # Half the forwarder's best message rate, offered open loop: queries/s =
  # messages/s / 2 (two relay passes each), halved.
  q=$(( best / 4 ))
  lat=()
  for relay in forwarder sgd; do
    d=$work/latency-$relay
    mkdir -p "$d"
    if ! start_relay "$relay" "$d"; then stop_relay_stack; continue; fi
    warm_up "$d"
    s=$(run_load "$d" half --cps 0 --sccp-rate "$q" --duration "$seconds" --drain-timeout 2000)
    stop_relay_stack
    printf 'run relay=%s offered_queries_per_s=%s sccp_sent=%s sccp_answered=%s sccp_p50_us=%s sccp_p99_us=%s\n' \
      "$relay" "$q" "$(field "$s" sccp_sent)" "$(field "$s" sccp_answered)" "$(field "$s" sccp_p50_us)" "$(field "$s" sccp_p99_us)"
    lat+=("$(field "$s" sccp_p50_us)/$(field "$s" sccp_p99_us)/$(field "$s" sccp_sent)/$(field "$s" sccp_answered)")
  done
  IFS=/ read -r fp50 fp99 _ _ <<<"${lat[0]:-///}"
  IFS=/ read -r sp50 sp99 ssent sans <<<"${lat[1]:-///}"
  echo "result sgd-latency-at-half transport=$transport offered_msg_per_s=$(( q * 2 )) (half of the forwarder's $best)" \
    "sgd_rtt_p50/p99_us=$sp50/$sp99 (target p99 < 1000) answered=$sans/$ssent forwarder_rtt_p50/p99_us=$fp50/$fp99"
fi
