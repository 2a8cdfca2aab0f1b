#!/bin/bash
# Compiler and linker launcher that records the CPU time of every command:
# one line "user_s sys_s max_rss_kb output" per command, appended to
# $TLAUNCH_LOG. For measuring where a cold build's CPU goes
# (docs/performance.md, "CI run time"):
#   CCACHE_DISABLE=1 cmake -S . -B build-x ... \
#     -DCMAKE_CXX_COMPILER_LAUNCHER=$PWD/cmake/cpu-time-launcher.sh \
#     -DCMAKE_CXX_LINKER_LAUNCHER=$PWD/cmake/cpu-time-launcher.sh
#   TLAUNCH_LOG=$PWD/x.tl ninja -C build-x -j2 sg_suite
#   sort -rn x.tl | head        # the costliest steps
# It can go in front of ccache too ("cpu-time-launcher.sh;ccache").
out="" prev=""
for a in "$@"; do
  [[ $prev == -o ]] && out=$a
  prev=$a
done
exec /usr/bin/time -f "%U %S %M $out" -a -o "${TLAUNCH_LOG:?set TLAUNCH_LOG to the log file}" "$@"
