#!/usr/bin/env bash
# Does this machine stop running us now and then? N threads (default: one
# per CPU) each spin on CLOCK_MONOTONIC for S seconds and report every gap
# between two consecutive readings longer than 5 ms: time in which the
# thread was not running although it was runnable. On a virtual machine with
# a CPU quota below its vCPU count the gaps are the hypervisor's throttling
# (fixed-length pauses, e.g. 100 ms), and no latency figure taken while the
# machine is that busy can be better than them.
#
#   tests/bench/vm-freeze-probe.sh [--threads N] [--seconds S]
set -euo pipefail
threads=$(nproc); seconds=5
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d /tmp/vm-freeze.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/probe.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}
int main(int argc, char** argv) {
  const double seconds = atof(argv[1]);
  const double start = now();
  double prev = start, t, longest = 0, total = 0;
  int gaps = 0;
  while ((t = now()) - start < seconds) {
    const double g = t - prev;
    if (g > 0.005) {
      ++gaps;
      total += g;
      if (g > longest) longest = g;
    }
    prev = t;
  }
  printf("gaps_over_5ms=%d longest_ms=%.1f stopped_ms=%.0f of %.0f\n", gaps, longest * 1e3, total * 1e3, seconds * 1e3);
  return 0;
}
C
cc -O2 -o "$work/probe" "$work/probe.c"
echo "# $threads spinning thread(s), ${seconds}s, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$threads"); do "$work/probe" "$seconds" >"$work/out.$i" & done
wait
for i in $(seq 1 "$threads"); do echo "thread $i: $(cat "$work/out.$i")"; done
