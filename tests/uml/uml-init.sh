#!/bin/sh
# init (PID 1) of the User-Mode-Linux guest started by run-in-uml.sh.
# Sets up kernel SCTP and the test addresses, runs $SG_UML_RUN/cmd.sh, writes
# its exit status to $SG_UML_RUN/rc and halts.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
run="$SG_UML_RUN"
log="$run/output.log"

fail() { echo "uml-init: $*" >>"$log"; echo 125 >"$run/rc"; sync; halt -f; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /dev/shm 2>/dev/null
mount -t tmpfs tmpfs /run 2>/dev/null

mods=/usr/lib/uml/modules/$(uname -r)/kernel
for m in lib/crc-ccitt.ko net/ipv6/ipv6.ko net/ipv4/udp_tunnel.ko net/ipv6/ip6_udp_tunnel.ko \
         net/sctp/sctp.ko drivers/net/dummy.ko; do
  insmod "$mods/$m" 2>>"$log" || fail "insmod $m failed"
done
# UML lacks the hash transforms SCTP's cookie uses by default.
echo none >/proc/sys/net/sctp/cookie_hmac_alg || fail "cannot set sctp cookie_hmac_alg"

ip link set lo up
ip link show dummy0 >/dev/null 2>&1 || ip link add dummy0 type dummy
ip addr add 198.18.0.1/24 dev dummy0
ip addr add 198.18.0.2/24 dev dummy0
ip -6 addr add 2001:2::1/64 dev dummy0 nodad
ip -6 addr add 2001:2::2/64 dev dummy0 nodad
ip link set dummy0 up
hostname sg-uml

# The guest shares the host's file system (hostfs), and tests name their
# temporary files after their pid: a guest pid can equal the pid of a host
# test running at the same time (tests/run.sh runs both lanes at once).
# The guest's temporary files go to a directory of this run instead.
mkdir -p "$run/tmp"
export TMPDIR="$run/tmp" TEST_TMPDIR="$run/tmp/"

sh "$run/cmd.sh" >>"$log" 2>&1
echo $? >"$run/rc"
sync
halt -f
