#!/usr/bin/env bash
# Instructions per registrar operation in the daemon process, on the host
# over the TCP mapping (issue 16; docs/performance.md, "Registrar:
# instructions and allocations per operation"). One rserpool-registrar under
# callgrind per run: (base) 100 PEs registered over one association, then
# closed; (reg) 100 + N PEs; (res) 100 PEs and M resolutions of 3 items at
# window 1. Per operation = (Ir(run) - Ir(base)) / count, so a registration
# includes the PE's removal when the load generator's association closes.
#
#   tests/registrar/callgrind-host.sh [BUILD_DIR] [REGS] [RESOLUTIONS] [PES_BASE] [WINDOW]
#
# PES_BASE (default 100) sets the handlespace size around the measured
# operations (pools of 100, or one pool when PES_BASE <= 100). WINDOW, when
# given, is the load generator's window in all three runs; by default the
# registrations go at the load generator's default window and the
# resolutions at window 1 (the method of docs/performance.md). With a large
# PES_BASE give WINDOW 1: the base run's registrations must go at the
# resolution run's window, or the difference measures the window.
# SG_CG_KEEP=1 keeps the profiles (path printed).
set -euo pipefail
build=${1:-build}
regs=${2:-1000}
res=${3:-2000}
base=${4:-100}
window=${5:-}
reg_bin=$build/registrar/rserpool-registrar
lg=$build/registrar/rserpool-loadgen
[[ -x $reg_bin && -x $lg ]] || { echo "build $reg_bin and $lg first" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 2; }

work=$(mktemp -d /tmp/sg-regcg.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; if [[ ${SG_CG_KEEP:-0} == 1 ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi' EXIT

# The VTY on an ephemeral port: two runs at once (or a daemon on the
# default 4261) must not collide.
cat >"$work/reg.cfg" <<EOT
line vty
 bind 127.0.0.1 0
registrar
 server-id 0x5e000001
 transport tcp
 asap local-ip 127.0.0.1
 asap-port 0
 enrp local-ip 127.0.0.1
 enrp-port 0
 timer keep-alive-interval 600000
 timer keep-alive-timeout 600000
 rate-limit resolution 0 0
 rate-limit registration 0 0
 max-pes-per-association 1000000
 log-level all warn
EOT

pools() { local n=$1; if (( n <= 100 )); then echo 1; else echo $(( (n + 99) / 100 )); fi; }

run() {  # tag loadgen-args...
  local tag=$1; shift
  rm -f "$work/ports"
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.$tag" \
    "$reg_bin" -c "$work/reg.cfg" --ports-file "$work/ports" >"$work/reg.$tag.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do [[ -s $work/ports ]] && grep -q '^asap ' "$work/ports" && break; sleep 0.1; done
  local port; port=$(awk '$1 == "asap" { print $2 }' "$work/ports")
  [[ -n $port ]] || { echo "registrar did not report its ASAP port (log: $work/reg.$tag.log)" >&2; exit 1; }
  "$lg" --registrar "127.0.0.1:$port" --transport tcp --timeout 600 --no-deregister "$@" >"$work/lg.$tag" || true
  sleep 0.5
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  callgrind_annotate "$work/cg.$tag" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done { gsub(",", "", $1); print $1; done = 1 }'
}

p0=$(pools "$base"); p1=$(pools $((base + regs)))
w=(); [[ -n $window ]] && w=(--window "$window")
i0=$(run base --pes "$base" --pools "$p0" "${w[@]}")
ir=$(run reg --pes $((base + regs)) --pools "$p1" "${w[@]}")
is=$(run res --pes "$base" --pools "$p0" --resolutions "$res" --items 3 --window "${window:-1}")
per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.0f", (a - b) / n }'; }
echo "Ir_base=$i0 Ir_reg=$ir Ir_res=$is pes_base=$base regs=$regs resolutions=$res window=${window:-default/1}"
echo "register_one_pe=$(per "$ir" "$i0" "$regs") resolve_3_items=$(per "$is" "$i0" "$res")"
