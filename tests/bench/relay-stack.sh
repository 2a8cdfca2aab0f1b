# Sourced by the issue-16 relay benchmarks (sgd-vs-forwarder.sh,
# sgd-instructions.sh, sgd-syscalls.sh): the same closed loop with either
# relay in the middle, every process on port 0 (ports read back), so several
# runs can share a host.
#
#   ss7-gen (ASP, RC 100) -> RELAY -> three gwc-sim (M3UA IPSP, each echoes
#   the SCCP UDT with the addresses swapped) -> RELAY -> ss7-gen
#
# RELAY is sgd (SGP, co-located registrar, pool of three, timer-profile
# standard) or m3ua-forwarder (the same three gwc-sim, registered with a
# separate rserpool-registrar so their start-up is identical; the forwarder
# connects to their M3UA ports and does nothing but forward).
#
# The caller sets: build (BUILD_DIR), transport (tcp|sctp), ip, work (a
# directory), and may set relay_wrap (an array: a command the relay runs
# under, e.g. valgrind). After start_relay: relay_pid, relay_port.

relay_pids=()
relay_wrap=(${relay_wrap[@]+"${relay_wrap[@]}"})

stop_relay_stack() {
  local p
  for p in "${relay_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    local alive=0
    for p in "${relay_pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  for p in "${relay_pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait "${relay_pids[@]}" 2>/dev/null || true
  relay_pids=()
}

# wait_for FILE PATTERN TENTHS
wait_for() {
  for _ in $(seq 1 "$3"); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# start_gwcs DIR REGISTRAR_ADDR: three gwc-sim, registered; their M3UA ports in gwc_ports.
start_gwcs() {
  local d=$1 reg=$2 i
  gwc_ports=()
  for i in 1 2 3; do
    "$build/sg/gwc-sim" --name "gwc-$i" --registrar "$reg" --listen "$ip:0" --transport "$transport" \
      --stats-interval 1000 >"$d/gwc-$i.log" 2>&1 &
    relay_pids+=($!)
  done
  for i in 1 2 3; do
    wait_for "$d/gwc-$i.log" '^event registered' 150 || { echo "gwc-$i did not register: $(tail -3 "$d/gwc-$i.log")" >&2; return 1; }
    gwc_ports+=("$(sed -n 's/^event listening .* port=\([0-9]*\) .*/\1/p' "$d/gwc-$i.log" | head -1)")
  done
}

# The controllers' associations from the relay are ACTIVE (IPSP) at all three.
wait_gwcs_active() {
  local d=$1
  for _ in $(seq 1 300); do
    [[ $(grep -l 'peer ASP ASP-INACTIVE -> ASP-ACTIVE' "$d"/gwc-*.log 2>/dev/null | wc -l) -ge 3 ]] && return 0
    sleep 0.1
  done
  echo "the relay did not bring up all three controller links" >&2
  return 1
}

start_sgd() {  # DIR
  local d=$1
  rm -f "$d/sgd.ports" "$d"/gwc-*.log
  cat >"$d/sgd.cfg" <<CFG
line vty
 bind 127.0.0.1 0
sg
 point-code-format itu
 point-code 0.23.1
 network-indicator national
 transport $transport
 timer-profile standard
 log-level all warn
ss7-side
 local-ip $ip
 local-port 0
 accept-peers configured
 peer ss7-gen
  remote-ip $ip
  routing-context 100
registrar
 colocated
  asap-ip $ip
  asap-port 0
  enrp-ip $ip
  enrp-port 0
pool gwc
route sccp-to-gwc
 dpc 0.23.1
 si sccp
 pool gwc
CFG
  ${relay_wrap[@]+"${relay_wrap[@]}"} "$build/sg/sgd" -c "$d/sgd.cfg" -p 0 --ports-file "$d/sgd.ports" >"$d/sgd.log" 2>&1 &
  relay_pid=$!
  relay_pids+=($!)
  for _ in $(seq 1 600); do [[ -s $d/sgd.ports ]] && break; sleep 0.1; done
  [[ -s $d/sgd.ports ]] || { echo "sgd did not start: $(tail -5 "$d/sgd.log")" >&2; return 1; }
  relay_port=$(awk '$1 == "m3ua" { print $2 }' "$d/sgd.ports")
  local asap
  asap=$(awk '$1 == "asap" { print $2 }' "$d/sgd.ports")
  start_gwcs "$d" "$ip:$asap" || return 1
  # sgd re-resolves the pool every 5 s with the standard profile (sooner on
  # the registrar's notification).
  wait_gwcs_active "$d"
}

start_forwarder() {  # DIR
  local d=$1
  rm -f "$d/registrar.ports" "$d/forwarder.log" "$d"/gwc-*.log
  cat >"$d/registrar.cfg" <<CFG
line vty
 bind 127.0.0.1 0
registrar
 transport $transport
 asap local-ip $ip
 asap-port 0
 enrp local-ip $ip
 enrp-port 0
 log-level all warn
CFG
  "$build/registrar/rserpool-registrar" -c "$d/registrar.cfg" --ports-file "$d/registrar.ports" >"$d/registrar.log" 2>&1 &
  relay_pids+=($!)
  for _ in $(seq 1 100); do [[ -s $d/registrar.ports ]] && break; sleep 0.1; done
  [[ -s $d/registrar.ports ]] || { echo "rserpool-registrar did not start: $(tail -5 "$d/registrar.log")" >&2; return 1; }
  start_gwcs "$d" "$ip:$(awk '$1 == "asap" { print $2 }' "$d/registrar.ports")" || return 1
  local args=() p
  for p in "${gwc_ports[@]}"; do args+=(--controller "$ip:$p"); done
  ${relay_wrap[@]+"${relay_wrap[@]}"} "$build/tests/bench/m3ua-forwarder" --listen "$ip:0" --transport "$transport" "${args[@]}" \
    >"$d/forwarder.log" 2>&1 &
  relay_pid=$!
  relay_pids+=($!)
  wait_for "$d/forwarder.log" '^event ready' 300 || { echo "m3ua-forwarder not ready: $(tail -5 "$d/forwarder.log")" >&2; return 1; }
  relay_port=$(sed -n 's/^event listening ss7_port=\([0-9]*\).*/\1/p' "$d/forwarder.log" | head -1)
}

start_relay() {  # sgd|forwarder DIR
  case "$1" in
    sgd) start_sgd "$2" || return 1 ;;
    forwarder) start_forwarder "$2" || return 1 ;;
    *) echo "unknown relay $1" >&2; return 2 ;;
  esac
  # Every process has started and the controllers' links are ACTIVE; let the
  # start-up's stragglers (registrations, the pool's first resolution) end
  # before anything is measured.
  sleep 0.5
}

# warm_up DIR: one short run through the fresh stack, not reported (the
# first queries through a new stack find cold caches and sockets).
warm_up() {
  run_load "$1" warm-up --max-rate --window 8 --duration 0.5 >/dev/null
}

# run_load DIR LOGNAME ARGS...: ss7-gen against the relay; prints its summary line.
run_load() {
  local d=$1 name=$2
  shift 2
  "$build/sg/ss7-gen" --name "$name" --connect "$ip:$relay_port" --transport "$transport" "$@" >"$d/gen-$name.log" 2>&1 || true
  grep '^summary ' "$d/gen-$name.log" | tail -1
}

# field LINE KEY: the value of KEY=... in a key=value line.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
