#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine:
#   sudo tests/run.sh
# 1. installs the missing Debian packages the compilation needs
#    (conf/install-deps.sh build); the rest (conf/install-deps.sh test: UML,
#    tshark, the interop peers, clang, lintian, ...) installs beside step 2
# 2. builds what the suite runs (target sg_suite) with warnings as errors,
#    without debug information, the libraries with a precompiled header,
#    Asio's implementation compiled once (SG_ASIO_SEPARATE), the test
#    binaries' own code at -Og, the multi-file test binaries whose files
#    compile together as one TU each (SG_TEST_UNITY), and each library's
#    and program's sources as one TU (SG_LIB_UNITY)
# 3. then runs four lanes at once on the two CPUs (the UML and host tests
#    mostly wait, the fuzzing build uses what they leave):
#    - the kernel-SCTP and interoperability tests (rsplib, osmo-stp) inside
#      User-Mode-Linux kernels with real kernel SCTP, in two lanes of about
#      the same length, each its own UML kernel: the interop and SCTP tuning
#      tests (which wait on the peers' and tshark's start-up) in one, the
#      other kernel-SCTP tests in the other;
#    - the host tests (TCP mapping, sans-I/O cores, codecs + tshark), then
#      the Debian packages: built from this build, checked, installed where
#      allowed (tests/packaging/deb-test.sh);
#    - the libFuzzer targets (clang; only the fuzz targets and what they link
#      are built), each fuzzed for a bounded time.
#    Each stage writes its own log, printed whole when the stage ends, so
#    the stages never interleave.
# 4. one summary line per place the tests ran, with times, and the total
#    "N passed, N failed". Any failing stage fails the run, and so does a
#    UML stage that ran no test.
#
# Stages can be skipped for local work: SG_SKIP="fuzz uml deb host" tests/run.sh
# ("uml" skips both UML lanes; "uml-interop" or "uml-sctp" skips one).
# SG_FUZZ_SECONDS sets the time per fuzz target (default 45).
# SG_TEST_OPT sets the test binaries' own optimisation (default -Og; set
# and empty: the build type's -O2).
# SG_DEB_INSTALL=1 (default when CI=true and root) installs the packages
# into this machine to test them, and purges them again.
# SG_SERIAL=1 runs the stages one after the other, each with every CPU.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
skip=" ${SG_SKIP:-} "
jobs=$(nproc)
build=${SG_BUILD_DIR:-$top/build}
fuzz_build=${SG_FUZZ_BUILD_DIR:-$top/build-fuzz}
fuzz_seconds=${SG_FUZZ_SECONDS:-45}
logs=$build/run-logs
mkdir -p "$build"
# GoogleTest's TempDir() (files named after their test) is the host's /tmp
# unless TEST_TMPDIR says otherwise: two suites running at once on one
# machine (two clones, a developer's run beside CI) wrote the same files.
# One directory per build tree, emptied per run.
export TEST_TMPDIR=$build/test-tmp
rm -rf "$TEST_TMPDIR" && mkdir -p "$TEST_TMPDIR"
t0=$SECONDS
declare -A took

stage() { printf '\n===== %s =====\n' "$*"; }
skipped() { [[ $skip == *" $1 "* || ($1 == uml-* && $skip == *" uml "*) ]]; }

# timed NAME COMMAND...: runs a stage, writes "rc wall_s cpu_user_s cpu_sys_s"
# to $logs/NAME.status (CPU time of the stage and all it started, which the
# load of a shared machine distorts less than wall time). The time is taken
# in a subshell of its own: bash's `time` counts every child its shell reaps
# meanwhile, and this shell reaps the background lanes whenever they end, so
# a stage timed here directly was charged the CPU of every lane that ended
# before it (stop 26's host lane "489 + 635 s" held both UML lanes and the
# fuzzing lane; docs/performance.md, "Stop 27: CI run time").
timed() {
  local name=$1 rc=0
  shift
  (
    TIMEFORMAT='%R %U %S'
    time "$@"
  ) 2>"$logs/$name.time" || rc=$?
  echo "$rc $(tail -n 1 "$logs/$name.time")" >"$logs/$name.status"
}

# Counts what ctest ran from its closing line "N% tests passed, F tests failed out of T".
ctest_counts() {
  local log=$1 line
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" 2>/dev/null | tail -n 1 || true)
  if [[ -z $line ]]; then echo "0 0"; return; fi
  local failed total
  failed=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
  echo "$total $failed"
}
# Counts the packaging test's closing line "packages: N checks passed, M failed".
deb_counts() {
  local line
  line=$(grep -E '^packages: [0-9]+ checks passed, [0-9]+ failed' "$1" 2>/dev/null | tail -n 1 || true)
  [[ -n $line ]] || { echo "0 0"; return; }
  sed -E 's/^packages: ([0-9]+) checks passed, ([0-9]+) failed.*/\1 \2/' <<<"$line"
}

rm -rf "$logs" && mkdir -p "$logs"
stage "dependencies"
# What the compilation needs first; the test tools (a fresh machine: most of
# the packages, about 60 of the 83 s of x40's apt-get install) then install
# beside the build, which they share the CPUs with only for unpacking. Both
# must have succeeded before any test runs.
conf/install-deps.sh build
deps_stage() { SG_APT_NO_UPDATE=1 conf/install-deps.sh test >"$logs/deps.log" 2>&1; }
timed deps deps_stage &
deps_pid=$!

# The CI build: the developers' optimisation (-O2), no debug information, a
# shared precompiled header for the libraries and programs, Asio's
# implementation compiled in one TU instead of in every TU that includes
# Asio, and the GoogleTest binaries' own code at -Og (about a third less CPU
# for those TUs; the libraries and programs they test stay at -O2), and the
# multi-file test binaries listed in tests/CMakeLists.txt as one TU each
# (about half their CPU: the TUs shared the same headers' code generation),
# and the same for each library and program (SG_LIB_UNITY: their -O2 TUs
# about half, measured per library). docs/performance.md, "CI run time",
# "Stop 26: CI run time", "Stop 27: CI run time" and "Stop 28: CI time".
build_stage() {
  cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSG_DEBUG_INFO=OFF -DSG_PCH=ON \
    -DSG_ASIO_SEPARATE=ON -DSG_TEST_OPT="${SG_TEST_OPT--Og}" -DSG_TEST_UNITY=ON -DSG_LIB_UNITY=ON -DSG_WERROR=ON -DSG_BENCHMARKS=OFF 2>&1 >/dev/null &&
    cmake --build "$build" --target sg_suite -j"$jobs" 2>&1
}
stage "build ($build, target sg_suite)"
timed build build_stage
read -r rc secs user sys <"$logs/build.status"
took[build]="${secs%.*} s, CPU ${user%.*} + ${sys%.*} s"
wait "$deps_pid" || true
read -r deps_rc deps_secs _ <"$logs/deps.status"
stage "dependencies for the tests (beside the build: ${deps_secs%.*} s)"
cat "$logs/deps.log"
if [[ $deps_rc -ne 0 ]]; then
  stage "summary ($((SECONDS - t0)) s)"
  echo "dependencies: conf/install-deps.sh test failed, no test ran"
  echo "0 passed, 1 failed"
  exit 1
fi
if [[ $rc -ne 0 ]]; then
  stage "summary ($((SECONDS - t0)) s)"
  echo "build: failed, no test ran"
  echo "0 passed, 1 failed"
  exit 1
fi

# Every tshark test must run here: a missing tshark fails them.
export SG_REQUIRE_TSHARK=1

# --- the stages -----------------------------------------------------------------
# The UML tests in two lanes, each in its own UML kernel (one UML kernel
# runs on one CPU). The split is by name, so the two lanes are disjoint and
# together run every test labelled kernel-sctp or interop; the summary
# checks that both ran tests.
uml_split='interop|transport_sctp_tuning'
uml_stage() {  # uml_stage NAME CTEST-SELECTION...
  local name=$1
  shift
  tests/uml/run-in-uml.sh --timeout 1500 -- \
    ctest --test-dir "$build" -L 'kernel-sctp|interop' "$@" -j1 --output-on-failure --timeout 600 \
    >"$logs/$name.log" 2>&1
}

host_stage() {
  ctest --test-dir "$build" -L host -j"$1" --output-on-failure --timeout 300 >"$logs/host.log" 2>&1
}

fuzz_stage() {
  local t=$SECONDS
  {
    echo "fuzzing: clang, libFuzzer, $fuzz_seconds s per target"
    CC=clang CXX=clang++ cmake -S "$top" -B "$fuzz_build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DSG_DEBUG_INFO=OFF -DSG_FUZZ=ON -DSG_BENCHMARKS=OFF -DSG_FUZZ_SECONDS="$fuzz_seconds" >/dev/null &&
      cmake --build "$fuzz_build" --target sg_fuzz_targets -j"$1" || return 1
    echo "fuzz build: $((SECONDS - t)) s"
    echo "fuzz targets: $(ctest --test-dir "$fuzz_build" -L fuzz -N | grep -c 'Test *#')"
    ctest --test-dir "$fuzz_build" -L fuzz -j"$1" --output-on-failure
  } >"$logs/fuzz.log" 2>&1
}

deb_stage() {
  local install=${SG_DEB_INSTALL:-}
  if [[ -z $install ]]; then
    install=0
    [[ ${CI:-} == true && $(id -u) -eq 0 ]] && install=1
  fi
  # The packages take the programs of this build (compiled and tested
  # above) rather than compiling them a second time.
  SG_DEB_PREBUILT=$build SG_DEB_INSTALL=$install SG_DEB_JOBS=$1 tests/packaging/deb-test.sh "$build/deb" \
    >"$logs/deb.log" 2>&1
}

show() {  # show NAME TITLE: prints a finished stage's log whole
  local rc wall user sys
  read -r rc wall user sys <"$logs/$1.status"
  stage "$2 (${wall%.*} s, CPU ${user%.*} + ${sys%.*} s)"
  cat "$logs/$1.log"
}

# Four lanes at once. Measured (docs/performance.md, "CI run time"), one
# UML lane alone took 948 s of wall time and 836 s of CPU: the UML kernel
# keeps about one CPU busy, so two UML lanes fill the two CPUs and halve the
# longest lane; the host tests (340 CPU-s in 470 s) and the fuzzing build
# use what is left. Each stage's log is printed whole when it ends, under a
# lock, so nothing interleaves.
run_stage() {  # run_stage NAME
  local title
  case $1 in
    uml-interop) timed uml-interop uml_stage uml-interop -R "$uml_split"
      title="interop and SCTP tuning tests inside User-Mode-Linux" ;;
    uml-sctp) timed uml-sctp uml_stage uml-sctp -E "$uml_split"
      title="kernel-SCTP tests inside User-Mode-Linux" ;;
    host) timed host host_stage "$jobs"; title="host tests" ;;
    fuzz) timed fuzz fuzz_stage "$jobs"; title="fuzzing (clang, libFuzzer, $fuzz_seconds s per target)" ;;
    deb) timed deb deb_stage "$jobs"; title="Debian packages" ;;
  esac
  { flock 9; show "$1" "$title"; } 9>"$logs/print.lock"
}
lane() {  # lane STAGE...: the stages one after the other (skipped ones left out)
  local s
  for s in "$@"; do skipped "$s" || run_stage "$s"; done
}

if [[ ${SG_SERIAL:-0} == 1 ]]; then
  lane uml-interop uml-sctp host fuzz deb
else
  echo "four lanes at once: [uml-interop] [uml-sctp] [host, deb] [fuzz]"
  lane uml-interop &
  uml_interop_lane=$!
  lane uml-sctp &
  uml_sctp_lane=$!
  lane fuzz &
  fuzz_lane=$!
  lane host deb
  wait "$uml_interop_lane" "$uml_sctp_lane" "$fuzz_lane" || true
fi

# --- summary --------------------------------------------------------------------
status=0 passed=0 failed=0
summary=()
if ! skipped host; then
  read -r rc secs _ <"$logs/host.status"
  read -r total nfail < <(ctest_counts "$logs/host.log")
  summary+=("host: $total tests ran, $nfail failed (${secs%.*} s)")
  passed=$((passed + total - nfail)) failed=$((failed + nfail))
  [[ $rc -eq 0 && $total -gt 0 ]] || status=1
fi
for lane_name in uml-interop uml-sctp; do
  skipped "$lane_name" && continue
  read -r rc secs _ <"$logs/$lane_name.status"
  read -r total nfail < <(ctest_counts "$logs/$lane_name.log")
  summary+=("$lane_name (UML kernel SCTP): $total tests ran, $nfail failed (${secs%.*} s)")
  passed=$((passed + total - nfail)) failed=$((failed + nfail))
  if [[ $total -eq 0 ]]; then
    summary+=("$lane_name: the UML lane ran no test: that is a failure")
    status=1 failed=$((failed + 1))
  fi
  [[ $rc -eq 0 ]] || status=1
done
if ! skipped fuzz; then
  read -r rc secs _ <"$logs/fuzz.status"
  read -r total nfail < <(ctest_counts "$logs/fuzz.log")
  summary+=("fuzz: $total targets ran, $nfail failed (${secs%.*} s, $fuzz_seconds s each)")
  passed=$((passed + total - nfail)) failed=$((failed + nfail))
  if [[ $rc -ne 0 || $total -eq 0 ]]; then
    status=1
    [[ $nfail -gt 0 ]] || failed=$((failed + 1))  # a broken build counts as a failure
  fi
fi
if ! skipped deb; then
  read -r rc secs _ <"$logs/deb.status"
  read -r npass nfail < <(deb_counts "$logs/deb.log")
  summary+=("packages: $npass checks passed, $nfail failed (${secs%.*} s)")
  passed=$((passed + npass)) failed=$((failed + nfail))
  if [[ $rc -ne 0 || $npass -eq 0 ]]; then
    status=1
    [[ $nfail -gt 0 ]] || failed=$((failed + 1))
  fi
fi

stage "summary ($((SECONDS - t0)) s; build ${took[build]})"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
exit $status
