#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine:
#   sudo tests/run.sh
# 1. installs the missing Debian packages (conf/install-deps.sh test)
# 2. builds everything with warnings as errors (build/)
# 3. runs the host tests (TCP mapping, sans-I/O cores, codecs + tshark)
# 4. boots a User-Mode-Linux kernel with real kernel SCTP and runs the
#    kernel-SCTP and interoperability tests (rsplib, osmo-stp) inside it
# 5. builds the libFuzzer targets with clang and fuzzes each for a bounded time
# Stages can be skipped for local work: SG_SKIP="fuzz uml" tests/run.sh
# SG_FUZZ_SECONDS sets the time per fuzz target (default 60).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
skip=" ${SG_SKIP:-} "
jobs=$(nproc)
build=${SG_BUILD_DIR:-$top/build}
summary=()
t0=$SECONDS

stage() { printf '\n===== %s =====\n' "$*"; }
skipped() { [[ $skip == *" $1 "* ]]; }

# Counts what ctest ran from its closing line "N% tests passed, F tests failed out of T".
ctest_counts() {
  local log=$1 line
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1 || true)
  if [[ -z $line ]]; then echo "0 0"; return; fi
  local failed total
  failed=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
  echo "$total $failed"
}

stage "dependencies"
conf/install-deps.sh test

stage "build ($build)"
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSG_WERROR=ON >/dev/null
cmake --build "$build" -j"$jobs"

status=0
stage "host tests"
set +e
ctest --test-dir "$build" -L host -j"$jobs" --output-on-failure --timeout 300 2>&1 | tee "$build/host-tests.log"
host_rc=${PIPESTATUS[0]}
set -e
read -r host_total host_failed < <(ctest_counts "$build/host-tests.log")
summary+=("host: $host_total tests ran, $host_failed failed")
[[ $host_rc -eq 0 && $host_total -gt 0 ]] || status=1

if ! skipped uml; then
  stage "kernel-SCTP and interop tests inside User-Mode-Linux"
  set +e
  tests/uml/run-in-uml.sh --timeout 2400 -- \
    ctest --test-dir "$build" -L 'kernel-sctp|interop' -j1 --output-on-failure --timeout 600 \
    2>&1 | tee "$build/uml-tests.log"
  uml_rc=${PIPESTATUS[0]}
  set -e
  read -r uml_total uml_failed < <(ctest_counts "$build/uml-tests.log")
  summary+=("uml (kernel SCTP): $uml_total tests ran, $uml_failed failed")
  if [[ $uml_total -eq 0 ]]; then
    echo "run.sh: the UML stage ran no test: that is a failure" >&2
    status=1
  fi
  [[ $uml_rc -eq 0 ]] || status=1
fi

if ! skipped fuzz; then
  stage "fuzzing (clang, libFuzzer, ${SG_FUZZ_SECONDS:-60} s per target)"
  fuzz_build=${SG_FUZZ_BUILD_DIR:-$top/build-fuzz}
  CC=clang CXX=clang++ cmake -S "$top" -B "$fuzz_build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSG_FUZZ=ON -DSG_BENCHMARKS=OFF -DSG_FUZZ_SECONDS="${SG_FUZZ_SECONDS:-60}" >/dev/null
  cmake --build "$fuzz_build" -j"$jobs"
  set +e
  ctest --test-dir "$fuzz_build" -L fuzz -j"$jobs" --output-on-failure 2>&1 | tee "$fuzz_build/fuzz-tests.log"
  fuzz_rc=${PIPESTATUS[0]}
  set -e
  read -r fuzz_total fuzz_failed < <(ctest_counts "$fuzz_build/fuzz-tests.log")
  summary+=("fuzz: $fuzz_total targets ran, $fuzz_failed failed")
  [[ $fuzz_rc -eq 0 && $fuzz_total -gt 0 ]] || status=1
fi

stage "summary ($((SECONDS - t0)) s)"
printf '%s\n' "${summary[@]}"
passed=0 failed=0
read -r t f < <(ctest_counts "$build/host-tests.log"); passed=$((passed + t - f)); failed=$((failed + f))
if [[ -f $build/uml-tests.log ]] && ! skipped uml; then
  read -r t f < <(ctest_counts "$build/uml-tests.log"); passed=$((passed + t - f)); failed=$((failed + f))
fi
echo "$passed passed, $failed failed"
exit $status
