#!/usr/bin/env bash
# Issue 15's two faults, repeated: (1) restart: sgd with three gateway
# controllers (gwc-sim, cookies) under ss7-gen calls gets SIGKILL and is
# started again 1 s later on the ports it had; (2) pair: two mated sgd
# (co-located registrars peered over ENRP, the controllers registered with
# both, ss7-gen load-sharing over both by SLS); one of them (A and B in
# turn) gets SIGKILL, and is started again 1.5 s later; new calls go on for
# 6.5 s after the restart (SIGTERM to ss7-gen, which lets its calls finish):
# a process start in a loaded UML takes up to 3 s, the share comes back
# 1.2-1.4 s after it. Per repetition and
# as min / p50 / max: the time until calls flow (restart: from the restart
# to the first message the SS7 side receives through the restarted sgd;
# pair: from the kill until the SS7 side has moved the lost sgd's traffic,
# and from the restart until the restarted sgd carries its share again),
# failed calls, messages for unknown calls at the controllers, duplicates
# (or any unexpected message) at the SS7 side. Every daemon binds port 0 and
# reports its ports (--ports-file); a restart binds the ports reported.
#
#   tests/bench/sgd-hitless.sh BUILD_DIR [--reps N] [--fault restart|pair|both] [--transport tcp|sctp]
#                              [--ip ADDR] [--cps N] [--settle MS] [--no-memory] [--standby]
#                              [--sack-frequency N]
# --settle MS: the pool's placement-settle (default: sgd's, 600 ms), with a
# pool-wait long enough for the messages held meanwhile (2 x MS + 400, at
# least 2 s). Every sgd keeps its pools' PE lists in a --pool-memory file
# (a restarted sgd alone settles once its list equals the remembered one);
# --no-memory: without it (the settle's timer alone). --standby (restart):
# a second sgd waits as a warm standby (--standby-lock) on the same ports and
# takes over the moment the first is killed; times are then from the kill.
# --sack-frequency N: sgd's SCTP sack-frequency on its SS7 side and its
# controller links (default: sgd's, 1 since stop 26: every packet SACKed as
# it arrives; 2 is the aggressive profile's delayed SACK of before). With
# kernel SCTP each repetition also reports the kernel's SCTP counters over
# the calls (every endpoint of the run shares the one kernel): DATA chunks,
# control chunks (SACKs, heartbeats), packets, delayed-SACK timer expiries.
# Kernel SCTP inside UML:
#   tests/uml/run-in-uml.sh --timeout 1800 -- tests/bench/sgd-hitless.sh build --transport sctp --ip 198.18.0.1 --cps 40
set -euo pipefail
build=${1:?usage: sgd-hitless.sh BUILD_DIR [options]}
shift
reps=10
fault=both
transport=tcp
ip=127.0.0.1
cps=200
settle=""
memory=1
standby=0
sack_frequency=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps) reps=$2; shift 2 ;;
    --fault) fault=$2; shift 2 ;;
    --transport) transport=$2; shift 2 ;;
    --ip) ip=$2; shift 2 ;;
    --cps) cps=$2; shift 2 ;;
    --settle) settle=$2; shift 2 ;;
    --no-memory) memory=0; shift ;;
    --standby) standby=1; shift ;;
    --sack-frequency) sack_frequency=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
sgd_bin=$build/sg/sgd
gwc_bin=$build/sg/gwc-sim
gen_bin=$build/sg/ss7-gen
work=$(mktemp -d /tmp/sgd-hitless.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}
trap cleanup EXIT
now_ms() { date +%s%3N; }
sleep_until_ms() { local d=$(( $1 - $(now_ms) )); (( d > 0 )) && sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"; return 0; }

# sgd_config NAME SS7_PORT ASAP_PORT ENRP_PORT SERVER_ID [registrar lines...]
sgd_config() {
  local name=$1 ss7=$2 asap=$3 enrp=$4 id=$5
  shift 5
  {
    printf 'line vty\n bind 127.0.0.1 0\nsg\n point-code-format itu\n point-code 0.23.1\n network-indicator national\n transport %s\n timer-profile aggressive\n' "$transport"
    [[ -n $sack_frequency ]] && printf ' pe-sctp sack-frequency %s\n' "$sack_frequency"
    printf 'ss7-side\n local-ip %s\n local-port %s\n accept-peers configured\n' "$ip" "$ss7"
    [[ -n $sack_frequency ]] && printf ' sctp sack-frequency %s\n' "$sack_frequency"
    printf ' peer ss7-gen\n  remote-ip %s\n  routing-context 100\n' "$ip"
    printf 'registrar\n colocated\n  asap-ip %s\n  asap-port %s\n  enrp-ip %s\n  enrp-port %s\n  server-id %s\n' "$ip" "$asap" "$ip" "$enrp" "$id"
    for line in "$@"; do printf '  %s\n' "$line"; done
    printf 'pool gwc\n'
    if [[ -n $settle ]]; then
      local wait=$(( 2 * settle + 400 ))
      printf ' placement-settle %s\n pool-wait %s\n' "$settle" $(( wait > 2000 ? wait : 2000 ))
    fi
    printf 'route isup-to-gwc\n dpc 0.23.1\n si isup\n pool gwc\nroute sccp-to-gwc\n dpc 0.23.1\n si sccp\n pool gwc\n'
  } >"$work/$name.cfg"
}
# start_sgd NAME: starts it, waits for its ports file; sets PORTS_<name>_*
start_sgd() {
  local name=$1
  rm -f "$work/$name.ports"
  local extra=()
  [[ $memory -eq 1 ]] && extra=(--pool-memory "$work/${name%-standby}.memory")
  [[ $standby -eq 1 ]] && extra+=(--standby-lock "$work/${name%-standby}.lock")
  "$sgd_bin" -c "$work/$name.cfg" -p 0 --ports-file "$work/$name.ports" "${extra[@]}" >>"$work/$name.log" 2>&1 &
  eval "pid_${name//-/_}=$!"
  pids+=($!)
  disown $!  # no "Killed" from the shell when the fault hits it
  for _ in $(seq 1 100); do [[ -s $work/$name.ports ]] && break; sleep 0.05; done
  [[ -s $work/$name.ports ]] || { echo "$name did not start: $(tail -5 "$work/$name.log")" >&2; exit 1; }
}
# The kernel's SCTP counters (kernel SCTP only; nothing otherwise).
sctp_snmp() { [[ -r /proc/net/sctp/snmp ]] && cp /proc/net/sctp/snmp "$work/$1.snmp" || true; }
port_of() { awk -v n="$2" '$1 == n { print $2 }' "$work/$1.ports"; }
start_pes() {
  local regs=() r
  for r in "$@"; do regs+=(--registrar "$r"); done
  for i in 1 2 3; do
    "$gwc_bin" --name "pe$i" "${regs[@]}" --listen "$ip:0" --transport "$transport" --cookies --aggressive \
      --stats-interval 250 >"$work/pe$i.log" 2>&1 &
    pids+=($!)
  done
  for i in 1 2 3; do
    for _ in $(seq 1 100); do grep -q '^event registered' "$work/pe$i.log" && break; sleep 0.05; done
  done
}
# Waits until every controller has N SG associations up.
pes_linked() {
  local n=$1
  for _ in $(seq 1 200); do
    local ok=1 i
    for i in 1 2 3; do
      local a
      a=$({ grep '^stats' "$work/pe$i.log" || true; } | tail -1 | tr ' ' '\n' | awk -F= '$1 == "associations" { print $2 }')
      [[ ${a:-0} -ge $n ]] || ok=0
    done
    [[ $ok -eq 1 ]] && return 0
    sleep 0.05
  done
  echo "controllers not linked to $n gateway(s)" >&2
  return 1
}
wait_active() {
  for _ in $(seq 1 200); do grep -q '^event active' "$work/gen.log" && return 0; sleep 0.05; done
  echo "ss7-gen never active" >&2
  exit 1
}
gen_active_ms() { { grep '^event active' "$work/gen.log" || true; } | head -1 | tr ' ' '\n' | awk -F= '$1 == "unix_ms" { print $2 }'; }

# report FAULT REP KILL_MS RESTART_MS VICTIM_SG -> one result line
report() {
  sleep 0.6  # the controllers' last stats lines
  python3 - "$work" "$@" <<'PY'
import sys, glob
work, fault, rep, kill, restart, victim = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
def fields(line):
    return dict(x.split("=", 1) for x in line.split()[1:] if "=" in x)
events, summary, stats = [], {}, []
for line in open(f"{work}/gen.log"):
    w = line.split()
    if not w: continue
    if w[0] == "event": events.append((w[1], fields(line)))
    elif w[0] == "summary": summary = fields(line)
    elif w[0] == "stats": stats.append(fields(line))
def first(name, sg, after):
    for n, f in events:
        if n == name and int(f.get("sg", -1)) == sg and int(f["unix_ms"]) >= after: return int(f["unix_ms"])
    return None
unknown = 0
seized_twice = 0  # an IAM for a circuit the controller holds: an IAM twice, or a failed call's circuit it still held
for p in sorted(glob.glob(f"{work}/pe*.log")):
    last = [l for l in open(p) if l.startswith("stats")]
    if last:
        unknown += int(fields(last[-1]).get("unknown_call", 0))
        seized_twice += int(fields(last[-1]).get("order_violations", 0))
def snmp(name):
    try:
        return {w[0]: int(w[1]) for w in (l.split() for l in open(f"{work}/{name}.snmp")) if len(w) == 2}
    except OSError:
        return None
sb, sa = snmp("before"), snmp("after")
out = [f"{fault} rep {rep}"]
if fault == "restart":
    t = first("sg-traffic", 0, restart)
    out.append(f"calls flow {t - restart if t else -1} ms after the restart")
    # Where the time goes, each phase from the restart: sgd wrote its ports
    # (listening), each controller's registrar hunt found it (home), each
    # controller's SG association came up, the SS7 side's ASP was active.
    import os, re, time, datetime
    def log_ms(line):
        m = re.match(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3})\]", line)
        if not m: return None
        t0 = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")
        return int(time.mktime(t0.timetuple())) * 1000 + int(m.group(2))
    phases = []
    # The restarted sgd's first listener (its log's clock, the guest's: a
    # file's mtime in UML comes from the host's clock).
    listen = None
    for line in open(f"{work}/sgd.log"):
        if "registrar/asap: SCTP listening" in line or "registrar/asap: TCP listening" in line or "listening on" in line:
            ms = log_ms(line)
            if ms is not None and ms >= restart:
                listen = ms
                break
    phases.append("listening %d" % (listen - restart if listen is not None else -1))
    # sgd's own start-up line: main() entered (exec and the dynamic loader
    # before it), the configuration read, every listener open.
    for line in open(f"{work}/sgd.log"):
        m = re.search(r"start-up: main at unix_ms=(\d+), configuration read \+(\d+) ms, listeners open \+(\d+) ms.*listening at unix_ms=(\d+)", line)
        if m and int(m.group(4)) >= restart:
            main_at = int(m.group(1)) - restart
            if main_at >= -50:
                phases.append("main %d config %d listeners %d" % (main_at, main_at + int(m.group(2)), main_at + int(m.group(3))))
            else:  # a standby: loaded and configured before the kill
                phases.append("main standby config standby listeners %d" % (int(m.group(4)) - restart))
            break
    # sgd's pool: the first PE listed, the last of the three listed, the
    # first and the last PE link active, and the settle's end.
    pool_ms = {"listed": [], "active": [], "settled": []}
    for line in open(f"{work}/sgd.log"):
        ms = log_ms(line)
        if ms is None or ms < restart: continue
        if re.search(r"pool gwc: PE \S+ registered at", line): pool_ms["listed"].append(ms - restart)
        elif re.search(r"pool gwc PE \S+ at \S+: M3UA active", line): pool_ms["active"].append(ms - restart)
        elif "placement settled" in line: pool_ms["settled"].append(ms - restart)
    def span(v): return "%d-%d" % (v[0], v[-1]) if v else "-1"
    phases.append("sgd listed %s active %s settled %s" % (span(pool_ms["listed"]), span(pool_ms["active"]), span(pool_ms["settled"])))
    homes, links = [], []
    for p in sorted(glob.glob(f"{work}/pe*.log")):
        h = l = None
        for line in open(p):
            if h is None and line.startswith("event home-registrar"):
                ms = int(fields(line)["unix_ms"])
                if ms >= restart: h = ms - restart
            if l is None and re.search(r"SG association \d+ up", line):
                ms = log_ms(line)
                if ms is not None and ms >= restart: l = ms - restart
        homes.append(-1 if h is None else h)
        links.append(-1 if l is None else l)
    phases.append("homes " + "/".join(map(str, homes)))
    phases.append("links " + "/".join(map(str, links)))
    a = first("sg-active", 0, restart)
    phases.append(f"ss7 active {a - restart if a else -1}")
    out.append("phases (ms after the restart): " + ", ".join(phases))
else:
    lost = first("sg-lost", victim, kill)
    back = first("sg-traffic", victim, restart)
    # Traffic moved: the worst answer latency in the second after the kill.
    worst = max([int(s.get("interval_max_answer_us", 0)) for s in stats if kill < int(s["unix_ms"]) <= kill + 1000] or [0])
    out.append(f"killed sg{victim}: moved {lost - kill if lost else -1} ms after the kill, worst answer {worst / 1000:.1f} ms, share back {back - restart if back else -1} ms after the restart")
# A failed call whose last message (IAM or REL) left the SS7 side from 200 ms
# before the kill until the SS7 side saw the loss was lost with the killed
# process (what its kernel acknowledged: kernel SCTP); any other is a loss
# of the design.
# The window opens as long before the kill as the path took just then (the
# worst answer in the second before it, at least 200 ms): a starved machine
# holds messages longer.
lost_at = first("sg-lost", victim if fault == "pair" else 0, kill - 200) or kill
path_ms = max([int(s.get("interval_max_answer_us", 0)) // 1000 + 50 for s in stats if kill - 1000 < int(s["unix_ms"]) <= kill + 100] or [0])
window = (kill - max(200, path_ms), max(kill, lost_at) + 50)
in_window = [f for n, f in events if n == "failed-call"
             and window[0] <= int(f.get("last_sent_unix_ms", f["started_unix_ms"])) <= window[1]]
at_kill = len(in_window)
rel_lost = sum(1 for f in in_window if f.get("last_sent") == "rel")
# Per cause: an IAM that got nothing back (lost inside the killed gateway,
# in its socket buffer or its memory, or its ACM was), an IAM whose ACM came
# back but not its ANM (the answer was lost there).
iam_silent = sum(1 for f in in_window if f.get("last_sent") == "iam" and f.get("acm", "0") == "0")
iam_acm = sum(1 for f in in_window if f.get("last_sent") == "iam" and f.get("acm", "0") == "1")
out.append(f"calls {summary.get('calls_attempted')} failed {summary.get('calls_failed')} at-kill {at_kill} unknown {unknown} unexpected {summary.get('unexpected')} seized-twice {seized_twice} sccp lost {summary.get('sccp_lost')} rel-repeated {summary.get('releases_repeated', 0)} at-kill-rel {rel_lost} at-kill-iam-silent {iam_silent} at-kill-iam-acm {iam_acm}")
if sb and sa:
    d = lambda k: sa.get(k, 0) - sb.get(k, 0)
    out.append(f"sctp data-chunks {d('SctpOutOrderChunks') + d('SctpOutUnorderChunks')} ctrl-chunks {d('SctpOutCtrlChunks')} packets {d('SctpOutSCTPPacks')} sack-timer {d('SctpDelaySackExpireds')}")
print("; ".join(out))
PY
}

run_restart() {
  local rep=$1
  rm -f "$work"/*.log "$work"/*.ports "$work"/*.memory "$work"/*.snmp
  sgd_config sgd 0 0 0 21313
  start_sgd sgd
  local ss7 asap enrp
  ss7=$(port_of sgd m3ua); asap=$(port_of sgd asap); enrp=$(port_of sgd enrp)
  start_pes "$ip:$asap"
  pes_linked 1
  "$gen_bin" --name ss7-gen --connect "$ip:$ss7" --transport "$transport" --cps "$cps" --hold 300 \
    --answer-timeout 4000 --t1 2000 --sccp-rate 50 --duration 5 --aggressive --hold-while-down 3000 --stats-interval 100 \
    >"$work/gen.log" 2>&1 &
  local gen=$!
  pids+=($gen)
  wait_active
  sctp_snmp before
  if [[ $standby -eq 1 ]]; then
    # The warm standby: the same configuration and ports, waiting on the lock.
    sgd_config sgd-standby "$ss7" "$asap" "$enrp" 21313
    "$sgd_bin" -c "$work/sgd-standby.cfg" -p 0 --ports-file "$work/sgd-standby.ports" --standby-lock "$work/sgd.lock" \
      $([[ $memory -eq 1 ]] && echo --pool-memory "$work/sgd.memory") >>"$work/sgd.log" 2>&1 &
    pids+=($!)
    disown $!
  fi
  local t0 kill restart
  t0=$(gen_active_ms)
  sleep_until_ms $((t0 + 2000))
  kill=$(now_ms)
  kill -KILL "$pid_sgd"
  if [[ $standby -eq 1 ]]; then
    restart=$kill
  else
    sleep_until_ms $((kill + 1000))
    sgd_config sgd "$ss7" "$asap" "$enrp" 21313
    restart=$(now_ms)
    start_sgd sgd
  fi
  wait "$gen" || true
  sctp_snmp after
  report restart "$rep" "$kill" "$restart" 0 | tee -a "$work/results"
  cleanup
  mkdir -p "$work/restart-$rep" && cp "$work"/*.log "$work/restart-$rep/" 2>/dev/null || true
}

run_pair() {
  local rep=$1 victim=$(( $1 % 2 ))
  rm -f "$work"/*.log "$work"/*.ports "$work"/*.memory "$work"/*.snmp
  sgd_config sgd-a 0 0 0 21313 "enrp-allow $ip"
  start_sgd sgd-a
  local a_ss7 a_asap a_enrp
  a_ss7=$(port_of sgd-a m3ua); a_asap=$(port_of sgd-a asap); a_enrp=$(port_of sgd-a enrp)
  sgd_config sgd-b 0 0 0 21314 "enrp-peer $ip $a_enrp"
  start_sgd sgd-b
  local b_ss7 b_asap b_enrp
  b_ss7=$(port_of sgd-b m3ua); b_asap=$(port_of sgd-b asap); b_enrp=$(port_of sgd-b enrp)
  start_pes "$ip:$a_asap" "$ip:$b_asap"
  pes_linked 2
  "$gen_bin" --name ss7-gen --connect "$ip:$a_ss7" --mate "$ip:$b_ss7" --transport "$transport" --cps "$cps" \
    --hold 300 --answer-timeout 4000 --t1 2000 --sccp-rate 50 --duration 60 --aggressive --hold-while-down 2000 \
    --stats-interval 100 >"$work/gen.log" 2>&1 &
  local gen=$!
  pids+=($gen)
  wait_active
  sctp_snmp before
  local t0 kill restart
  t0=$(gen_active_ms)
  sleep_until_ms $((t0 + 2000))
  kill=$(now_ms)
  if [[ $victim -eq 0 ]]; then kill -KILL "$pid_sgd_a"; else kill -KILL "$pid_sgd_b"; fi
  sleep_until_ms $((kill + 1500))
  restart=$(now_ms)
  if [[ $victim -eq 0 ]]; then
    sgd_config sgd-a "$a_ss7" "$a_asap" "$a_enrp" 21313 "enrp-allow $ip" "enrp-peer $ip $b_enrp"
    start_sgd sgd-a
  else
    sgd_config sgd-b "$b_ss7" "$b_asap" "$b_enrp" 21314 "enrp-peer $ip $a_enrp"
    start_sgd sgd-b
  fi
  # Calls stop 6.5 s after the restart whatever the start took (a loaded
  # UML runs this script's own commands slowly, so a fixed --duration ended
  # too soon after some restarts); calls in progress finish.
  sleep_until_ms $((restart + 6500))
  kill -TERM "$gen" 2>/dev/null || true
  wait "$gen" || true
  sctp_snmp after
  report pair "$rep" "$kill" "$restart" "$victim" | tee -a "$work/results"
  cleanup
  mkdir -p "$work/pair-$rep" && cp "$work"/*.log "$work/pair-$rep/" 2>/dev/null || true
}

: >"$work/results"
echo "# sgd-hitless: transport $transport, $cps calls/s, placement-settle ${settle:-default}, pool memory $memory, standby $standby, sack-frequency ${sack_frequency:-default}; $(uptime)"
for r in $(seq 1 "$reps"); do
  [[ $fault == restart || $fault == both ]] && run_restart "$r"
  [[ $fault == pair || $fault == both ]] && run_pair "$r"
done
python3 - "$work/results" <<'PY'
import re, sys
rows = [l.strip() for l in open(sys.argv[1]) if l.strip()]
def stat(vals):
    v = sorted(vals)
    return "min %s, p50 %s, max %s" % (v[0], v[len(v) // 2], v[-1]) if v else "none"
for fault in ("restart", "pair"):
    mine = [r for r in rows if r.startswith(fault)]
    if not mine: continue
    def n(key, conv=int):
        return [conv(m.group(1)) for r in mine for m in [re.search(key, r)] if m]
    print("== %s: %d repetitions" % (fault, len(mine)))
    if fault == "restart":
        print("  calls flow after the restart (ms): " + stat(n(r"calls flow (-?\d+) ms")))
        print("  sgd listening after the restart (ms): " + stat(n(r"listening (-?\d+)")))
        print("  sgd's main() entered after the restart (ms): " + stat(n(r"main (-?\d+) config")))
        print("  sgd's configuration read after the restart (ms): " + stat(n(r"config (-?\d+) listeners")))
        print("  sgd's listeners open after the restart (ms): " + stat(n(r"listeners (-?\d+),")))
        print("  SS7 side's ASP active after the restart (ms): " + stat(n(r"ss7 active (-?\d+)")))
        print("  placement settled after the restart (ms): " + stat(n(r"settled (-?\d+)")))
        homes = [max(int(x) for x in m.group(1).split("/")) for r in mine for m in [re.search(r"homes ([-\d/]+)", r)] if m]
        print("  last controller homed at it after the restart (ms): " + stat(homes))
    else:
        print("  traffic moved after the kill (ms): " + stat(n(r"moved (-?\d+) ms")))
        print("  worst answer in the second after the kill (ms): " + stat(n(r"worst answer ([\d.]+) ms", float)))
        back = n(r"share back (-?\d+) ms")
        print("  share back after the restart (ms): " + stat([b for b in back if b >= 0]) +
              "; not back within 6.5 s: %d" % sum(1 for b in back if b < 0))
    print("  calls per run: " + stat(n(r"calls (\d+) failed")))
    failed = n(r"failed (\d+)")
    at_kill = n(r"at-kill (\d+)")
    print("  failed calls: total %d, per run %s; of them lost in the kill's in-flight window: %d" % (sum(failed), stat(failed), sum(at_kill)))
    print("    in the window by cause: IAM with nothing back %d, IAM with its ACM but no ANM %d, REL %d" % (
        sum(n(r"at-kill-iam-silent (\d+)")), sum(n(r"at-kill-iam-acm (\d+)")), sum(n(r"at-kill-rel (\d+)"))))
    unknown = n(r"unknown (\d+)")
    print("  unknown-call messages at the controllers: total %d, per run %s" % (sum(unknown), stat(unknown)))
    dup = n(r"unexpected (\d+)")
    print("  duplicates / unexpected at the SS7 side: total %d, per run %s" % (sum(dup), stat(dup)))
    twice = n(r"seized-twice (\d+)")
    print("  IAMs for a circuit the controller still held (an IAM twice, or the circuit of a call that failed with the controller holding it): total %d" % sum(twice))
    data = n(r"sctp data-chunks (\d+)")
    if data:
        ctrl, packets, timer = n(r"ctrl-chunks (\d+)"), n(r"packets (\d+)"), n(r"sack-timer (\d+)")
        print("  kernel SCTP over the calls: %d DATA chunks, %d control chunks (%.2f per DATA chunk), %d packets (%.2f per DATA chunk), %d delayed-SACK timer expiries" % (
            sum(data), sum(ctrl), sum(ctrl) / max(1, sum(data)), sum(packets), sum(packets) / max(1, sum(data)), sum(timer)))
    lost = n(r"sccp lost (\d+)")
    print("  SCCP queries lost: total %d" % sum(lost))
    rep = n(r"rel-repeated (\d+)")
    print("  RELs repeated at T1 (2 s) by the SS7 side: total %d" % sum(rep))
PY
echo "# logs of the last run and every result line: $work"
