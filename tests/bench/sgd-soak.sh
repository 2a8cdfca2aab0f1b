#!/usr/bin/env bash
# Bounded soak of sgd under attack (issue 14): ss7-gen makes ISUP calls
# through sgd with three gateway controllers (gwc-sim, cookies, aggressive
# profile) for SECONDS while a mix of the attacks runs the whole time:
# ENDPOINT_UNREACHABLE reports against every controller (co-located
# registrar), malformed M3UA on the SS7 listener and malformed ASAP on the
# controllers' listener (each answered with the protocol's ERR), and
# idle-association churn from another host on both listeners. Prints the
# calls (0 failed expected), sgd's RSS at start / peak / end, its
# descriptors, the log lines the attack caused and whether the CLI answered.
#
# It is the test SgdAttack.SoakCallsUnderMixedAttacks (tests/sgd_attack),
# run longer; every port is chosen by the kernel and read back.
#
#   tests/bench/sgd-soak.sh BUILD_DIR [SECONDS] [tcp|sctp]
#   (sctp: inside UML, tests/uml/run-in-uml.sh -- tests/bench/sgd-soak.sh build 60 sctp)
set -euo pipefail
build=${1:?usage: sgd-soak.sh BUILD_DIR [SECONDS] [tcp|sctp]}
seconds=${2:-60}
transport=${3:-tcp}
bin=$build/tests/sgd_attack/sgd_attack_test
[[ -x $bin ]] || { echo "missing $bin: ninja -C $build sgd_attack_test" >&2; exit 2; }
SG_SOAK_SECONDS=$seconds SG_TEST_TRANSPORT=$transport "$bin" --gtest_filter='SgdAttack.SoakCallsUnderMixedAttacks' 2>/dev/null |
  grep -E '^\[soak\]|^  [0-9]+ s:|OK|FAILED|Failure|Expected|Which is'
