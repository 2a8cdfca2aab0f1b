#!/usr/bin/env bash
# The Debian packages (debian/): builds them from a copy of the tree with
# dpkg-buildpackage, checks what they contain (files, units, conffiles, man
# pages, lintian), and, where the machine may be changed (CI, as root:
# SG_DEB_INSTALL=1), installs them with dpkg -i and checks the result (the
# system users, /etc permissions, the units enabled, the installed binaries
# run and accept the installed configurations), then purges them again.
#
#   tests/packaging/deb-test.sh [WORKDIR]
#
# SG_DEB_PREBUILT=DIR packages the programs of that CMake build tree (the
# test suite's, compiled and tested already; tests/run.sh passes it)
# instead of compiling them again: the test is about the packaging, and a
# second full compilation does not fit the suite's time budget. Without it,
# dpkg-buildpackage compiles everything as a release build does.
#
# SG_DEB_BUILD_OPTIONS (default "noopt nocheck") is passed as
# DEB_BUILD_OPTIONS, and SG_DEB_CXXFLAGS_APPEND (default -g0) as
# DEB_CXXFLAGS_APPEND: the test checks the packaging, and an -O0 build
# without debug information takes a third of the time in CI; a release
# build is plain `dpkg-buildpackage -b -us -uc`.
# Prints one line per check and ends with "packages: N checks passed, M failed".
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=${1:-$(mktemp -d /tmp/sg-deb.XXXXXX)}
jobs=${SG_DEB_JOBS:-$(nproc)}
install=${SG_DEB_INSTALL:-0}
passed=0 failed=0
ok() { echo "  ok   $*"; passed=$((passed + 1)); }
bad() { echo "  FAIL $*"; failed=$((failed + 1)); }
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@" >"$work/check.out" 2>&1; then ok "$what"; else bad "$what: $(tail -3 "$work/check.out" | tr '\n' ' ')"; fi
}
finish() {
  echo "packages: $passed checks passed, $failed failed"
  [[ $failed -eq 0 && $passed -gt 0 ]]
  exit $?
}

# 1. Build, from a copy of the tracked (and new, not ignored) files, so the
#    checkout stays clean.
src="$work/signaling-gateway-0.1.0"
rm -rf "$src" && mkdir -p "$src"
(cd "$top" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - --no-recursion) \
  | tar -xf - -C "$src"
if [[ -n ${SG_DEB_PREBUILT:-} ]]; then
  SG_DEB_PREBUILT=$(cd "$SG_DEB_PREBUILT" && pwd)
  echo "deb: packaging in $src the programs built in $SG_DEB_PREBUILT"
else
  echo "deb: building in $src (DEB_BUILD_OPTIONS=${SG_DEB_BUILD_OPTIONS:-noopt nocheck}, DEB_CXXFLAGS_APPEND=${SG_DEB_CXXFLAGS_APPEND--g0}, -j$jobs)"
fi
export SG_DEB_PREBUILT=${SG_DEB_PREBUILT:-}
# The test build has no debug information: no -dbgsym packages then (they
# would be empty, and lintian says so).
extra_options=
[[ -n $SG_DEB_PREBUILT ]] && extra_options=noautodbgsym
t0=$SECONDS
if (cd "$src" && dpkg-checkbuilddeps && \
    DEB_BUILD_OPTIONS="${SG_DEB_BUILD_OPTIONS:-noopt nocheck} $extra_options parallel=$jobs" \
    DEB_CXXFLAGS_APPEND="${SG_DEB_CXXFLAGS_APPEND--g0}" DEB_CFLAGS_APPEND="${SG_DEB_CXXFLAGS_APPEND--g0}" \
    dpkg-buildpackage -b -us -uc) >"$work/build.log" 2>&1; then
  ok "dpkg-buildpackage -b -us -uc ($((SECONDS - t0)) s)"
else
  bad "dpkg-buildpackage failed ($((SECONDS - t0)) s); last lines:"
  tail -25 "$work/build.log"
  finish
fi

deb() { ls "$work"/"$1"_*_*.deb 2>/dev/null | grep -v dbgsym | head -1; }
for p in sgd rserpool-registrar sg-tools; do
  [[ -n $(deb "$p") ]] && ok "$p package built: $(basename "$(deb "$p")")" || bad "no $p package"
done
[[ -n $(deb sgd) && -n $(deb rserpool-registrar) && -n $(deb sg-tools) ]] || finish

# 2. Contents, without installing.
has() { dpkg-deb -c "$1" | awk '{print $6}' | sed 's|^\./|/|' | grep -qx -- "$2"; }
for f in /usr/bin/sgd /lib/systemd/system/sgd.service /etc/sgd/sgd.cfg /usr/share/man/man8/sgd.8.gz \
         /usr/share/doc/sgd/README.Debian /usr/share/doc/sgd/examples/sgd-example-remote-sctp.cfg; do
  check "sgd contains $f" has "$(deb sgd)" "$f"
done
for f in /usr/bin/rserpool-registrar /lib/systemd/system/rserpool-registrar.service \
         /etc/rserpool/rserpool-registrar.cfg /usr/share/man/man8/rserpool-registrar.8.gz; do
  check "rserpool-registrar contains $f" has "$(deb rserpool-registrar)" "$f"
done
for t in gwc-sim ss7-gen rserpool-loadgen; do
  check "sg-tools contains $t and its man page" \
    sh -c "dpkg-deb -c '$(deb sg-tools)' | grep -q ' ./usr/bin/$t\$' && dpkg-deb -c '$(deb sg-tools)' | grep -q ' ./usr/share/man/man1/$t.1.gz\$'"
done
conffiles() { dpkg-deb --ctrl-tarfile "$1" | tar -xOf - ./conffiles 2>/dev/null; }
check "sgd conffile /etc/sgd/sgd.cfg" sh -c "dpkg-deb --ctrl-tarfile '$(deb sgd)' | tar -xOf - ./conffiles | grep -qx /etc/sgd/sgd.cfg"
check "rserpool-registrar conffile /etc/rserpool/rserpool-registrar.cfg" \
  sh -c "dpkg-deb --ctrl-tarfile '$(deb rserpool-registrar)' | tar -xOf - ./conffiles | grep -qx /etc/rserpool/rserpool-registrar.cfg"
unit_of() { dpkg-deb --fsys-tarfile "$1" | tar -xOf - "./lib/systemd/system/$2"; }
check "sgd.service runs /usr/bin/sgd as _sgd" \
  bash -c "u=\$(dpkg-deb --fsys-tarfile '$(deb sgd)' | tar -xOf - ./lib/systemd/system/sgd.service) && \
         grep -qx 'ExecStart=/usr/bin/sgd -c /etc/sgd/sgd.cfg' <<<\"\$u\" && grep -qx 'User=_sgd' <<<\"\$u\" && ! grep -q /usr/local <<<\"\$u\""
check "rserpool-registrar.service runs /usr/bin/rserpool-registrar as _rserpool" \
  bash -c "u=\$(dpkg-deb --fsys-tarfile '$(deb rserpool-registrar)' | tar -xOf - ./lib/systemd/system/rserpool-registrar.service) && \
         grep -q '^ExecStart=/usr/bin/rserpool-registrar ' <<<\"\$u\" && grep -qx 'User=_rserpool' <<<\"\$u\" && ! grep -q '^DynamicUser' <<<\"\$u\""
check "sgd postinst creates _sgd and enables the unit" \
  bash -c "p=\$(dpkg-deb --ctrl-tarfile '$(deb sgd)' | tar -xOf - ./postinst) && grep -q 'adduser --system' <<<\"\$p\" && grep -q 'deb-systemd-helper' <<<\"\$p\""
check "sgd depends on adduser and its libraries" \
  bash -c "d=\$(dpkg-deb -f '$(deb sgd)' Depends) && grep -q adduser <<<\"\$d\" && grep -q libosmovty <<<\"\$d\" && grep -q libsctp <<<\"\$d\""

# lintian: errors fail the test; warnings are shown.
if command -v lintian >/dev/null; then
  changes=$(ls "$work"/*.changes | head -1)
  # (Informational tags left: hardening-no-bindnow/-fortify-functions when the
  # programs come from the test build, SG_DEB_PREBUILT; no init.d script.)
  lintian --tag-display-limit 0 "$changes" >"$work/lintian.log" 2>&1
  grep -E '^[EW]: ' "$work/lintian.log" | sed 's/^/  lintian: /'
  if grep -q '^E: ' "$work/lintian.log"; then bad "lintian reports errors"; else ok "lintian: no errors"; fi
else
  bad "lintian is not installed (conf/install-deps.sh test)"
fi

# 3. Installed, where the machine may be changed.
if [[ $install != 1 ]]; then
  echo "deb: not installing (SG_DEB_INSTALL=1 installs into this machine: CI on a throwaway machine, as root)"
  finish
fi
if [[ $(id -u) -ne 0 ]]; then
  bad "SG_DEB_INSTALL=1 needs root"
  finish
fi
for p in sgd rserpool-registrar sg-tools; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    bad "$p is already installed on this machine: not touching it"
    finish
  fi
done
export DEBIAN_FRONTEND=noninteractive
check "dpkg -i sgd rserpool-registrar sg-tools" dpkg -i "$(deb sgd)" "$(deb rserpool-registrar)" "$(deb sg-tools)"
check "system user _sgd exists, without a shell" sh -c "getent passwd _sgd | grep -q ':/usr/sbin/nologin\$'"
check "system user _rserpool exists" getent passwd _rserpool
check "/etc/sgd is root:_sgd 2775, sgd.cfg root:_sgd 664" \
  sh -c "[ \"\$(stat -c '%U:%G %a' /etc/sgd)\" = 'root:_sgd 2775' ] && [ \"\$(stat -c '%U:%G %a' /etc/sgd/sgd.cfg)\" = 'root:_sgd 664' ]"
check "dpkg lists the conffiles" \
  sh -c "dpkg-query -W -f='\${Conffiles}\n' sgd | grep -q ' /etc/sgd/sgd.cfg ' && dpkg-query -W -f='\${Conffiles}\n' rserpool-registrar | grep -q ' /etc/rserpool/rserpool-registrar.cfg '"
check "units enabled (multi-user.target.wants)" \
  sh -c "[ -L /etc/systemd/system/multi-user.target.wants/sgd.service ] && [ -L /etc/systemd/system/multi-user.target.wants/rserpool-registrar.service ]"
if command -v systemd-analyze >/dev/null; then
  check "systemd-analyze verify the units" \
    sh -c "systemd-analyze verify /lib/systemd/system/sgd.service /lib/systemd/system/rserpool-registrar.service 2>&1 | grep -v -e 'Failed to put bus name' -e 'running in chroot' -e '^\$' | (! grep -q .)"
fi
check "sgd --version" sh -c "/usr/bin/sgd --version | grep -q '^sgd '"
check "sgd -t accepts /etc/sgd/sgd.cfg, as _sgd" runuser -u _sgd -- /usr/bin/sgd -t -c /etc/sgd/sgd.cfg
check "_sgd may save the configuration (write file)" runuser -u _sgd -- test -w /etc/sgd -a -w /etc/sgd/sgd.cfg
check "rserpool-registrar -t accepts its configuration, as _rserpool" \
  runuser -u _rserpool -- /usr/bin/rserpool-registrar -t -c /etc/rserpool/rserpool-registrar.cfg
check "the tools answer --help" sh -c "/usr/bin/gwc-sim --help && /usr/bin/ss7-gen --help && /usr/bin/rserpool-loadgen --help"
check "man sgd" sh -c "man -P cat sgd 2>/dev/null | grep -q -- '--ports-file'"
check "dpkg --purge" dpkg --purge sgd rserpool-registrar sg-tools
check "purge removed /etc/sgd and the units" \
  sh -c "[ ! -e /etc/sgd/sgd.cfg ] && [ ! -e /lib/systemd/system/sgd.service ] && [ ! -e /etc/systemd/system/multi-user.target.wants/sgd.service ]"
finish
