#!/usr/bin/env bash
# Installs exactly the Debian 12 packages that are missing for building,
# testing and demonstrating the signaling gateway. Idempotent; needs root
# (or sudo) only when something is missing.
#   conf/install-deps.sh [build|test|demo]   (default: test, the superset)
set -euo pipefail

profile=${1:-test}
build_pkgs=(build-essential cmake ninja-build pkg-config
  libsctp-dev lksctp-tools libboost-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libosmocore-dev)
# Kernel SCTP inside User-Mode-Linux, and the real peers we test against.
uml_pkgs=(user-mode-linux kmod iproute2 procps psmisc tshark rsplib-registrar rsplib-tools osmo-stp)
# The demo's plot (and its test) use matplotlib; the packaging test builds
# and checks the Debian packages (debian/).
plot_pkgs=(python3 python3-matplotlib)
deb_pkgs=(debhelper lintian help2man)
test_pkgs=(clang valgrind "${plot_pkgs[@]}" "${deb_pkgs[@]}")
case "$profile" in
  build) want=("${build_pkgs[@]}") ;;
  demo) want=("${build_pkgs[@]}" "${uml_pkgs[@]}" "${plot_pkgs[@]}") ;;
  test) want=("${build_pkgs[@]}" "${uml_pkgs[@]}" "${test_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|demo]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# wireshark-common asks whether non-root users may capture; answer no.
echo "wireshark-common wireshark-common/install-setuid boolean false" | "${sudo_cmd[@]}" debconf-set-selections 2>/dev/null || true
# SG_APT_NO_UPDATE=1 (tests/run.sh: the build's packages first, then the
# rest beside the build) skips the update when the package lists are less
# than 30 minutes old.
fresh_lists=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -30 2>/dev/null | head -n 1)
if [[ ${SG_APT_NO_UPDATE:-0} != 1 || -z $fresh_lists ]]; then
  "${sudo_cmd[@]}" apt-get update -qq
fi
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
