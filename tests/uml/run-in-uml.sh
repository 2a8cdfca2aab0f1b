#!/usr/bin/env bash
# Runs one command inside a User-Mode-Linux kernel that has real kernel SCTP
# (the build machines' kernel has none), and carries back its output and exit
# status. The guest sees the host's filesystem through hostfs, so the command
# can use binaries and files from the build tree directly.
#
#   tests/uml/run-in-uml.sh [--timeout SECONDS] [--mem SIZE] -- COMMAND [ARGS...]
#
# Inside the guest: root, lo up (127.0.0.1, ::1), and dummy0 with 198.18.0.1/24,
# 198.18.0.2/24, 2001:2::1/64 and 2001:2::2/64 (benchmarking ranges; nothing
# leaves the guest). The current directory and every SG_*, GTEST_* and CTEST_*
# variable are carried in; TMPDIR (and gtest's TEST_TMPDIR) is a directory of
# this run, not the host's /tmp. Exit status: the command's, or 124 on
# timeout, or 125 when the kernel did not run the command at all.
set -euo pipefail

timeout_s=900
mem=2048M
while [[ $# -gt 0 ]]; do
  case "$1" in
    --timeout) timeout_s=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
if [[ $# -eq 0 ]]; then
  echo "run-in-uml: no command given (see --help)" >&2
  exit 2
fi
if ! command -v linux.uml >/dev/null; then
  echo "run-in-uml: linux.uml not found: apt-get install user-mode-linux kmod iproute2" >&2
  exit 125
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
run=$(mktemp -d /tmp/sg-uml.XXXXXX)
keep=${SG_UML_KEEP:-0}
cleanup() { [[ $keep == 1 ]] || rm -rf "$run"; }
trap cleanup EXIT

{
  echo "cd $(printf %q "$PWD") || exit 125"
  while IFS='=' read -r name _; do
    case "$name" in
      SG_*|GTEST_*|CTEST_*) printf 'export %s=%q\n' "$name" "${!name}" ;;
    esac
  done < <(env)
  printf '%q ' "$@"
  echo
} >"$run/cmd.sh"
: >"$run/output.log"

# The guest writes output.log through hostfs; follow it live.
tail -n +1 -F "$run/output.log" 2>/dev/null &
tail_pid=$!

set +e
timeout --kill-after=15 "$timeout_s" linux.uml mem="$mem" umid="sg$$" uml_dir="$run" \
  rootfstype=hostfs rootflags=/ rw init="$here/uml-init.sh" SG_UML_RUN="$run" \
  con=null con0=null,fd:2 </dev/null 2>"$run/console.log"
uml_status=$?
set -e
sleep 0.3
kill "$tail_pid" 2>/dev/null || true
wait "$tail_pid" 2>/dev/null || true

if [[ $uml_status -eq 124 || $uml_status -eq 137 ]]; then
  echo "run-in-uml: timed out after ${timeout_s}s" >&2
  tail -n 20 "$run/console.log" >&2 || true
  exit 124
fi
if [[ ! -s "$run/rc" ]]; then
  echo "run-in-uml: the guest did not run the command (kernel status $uml_status); console:" >&2
  tail -n 40 "$run/console.log" >&2 || true
  exit 125
fi
exit "$(cat "$run/rc")"
