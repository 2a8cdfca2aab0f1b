#!/bin/sh
# Regenerates rsplib-3.4.4.pcap: a real capture of rsplib's ASAP and ENRP on
# kernel SCTP inside User-Mode-Linux. Run from the repository root:
#   tests/uml/run-in-uml.sh --timeout 180 -- sh tests/captures/make-rsplib-capture.sh
# Two rspregistrars peer over ENRP, an echo PE (least-used policy) registers
# at the first, rspterminal resolves and talks to it, hsdump downloads the
# handlespace, then the PE deregisters. We commit the capture so that the
# codec tests can decode what rsplib really sends, without UML.
set -e
out=$(pwd)/tests/captures/rsplib-3.4.4.pcap
work=$(mktemp -d)
rm -f "$out"
dumpcap -q -P -i any -f sctp -w "$out" >"$work/dumpcap.log" 2>&1 &
cap=$!
for i in $(seq 50); do [ -s "$out" ] && break; sleep 0.2; done
rspregistrar -asap=198.18.0.1:3863 -enrp=198.18.0.1:9901 -asapannounce=off -enrpannounce=off \
  -peer=198.18.0.2:9901 -loglevel=0 >"$work/r1.out" 2>&1 &
r1=$!
rspregistrar -asap=198.18.0.2:3863 -enrp=198.18.0.2:9901 -asapannounce=off -enrpannounce=off \
  -peer=198.18.0.1:9901 -loglevel=0 >"$work/r2.out" 2>&1 &
r2=$!
sleep 7
rspserver -echo -poolhandle=EchoPool -registrar=198.18.0.1:3863 -asapannounce=off -local=198.18.0.2 \
  -policy=LeastUsed -loglevel=0 >"$work/pe.out" 2>&1 &
pe=$!
sleep 4
(echo hello; sleep 1) | timeout 5 rspterminal -poolhandle=EchoPool -registrar=198.18.0.2:3863 -asapannounce=off \
  >"$work/term.out" 2>&1 || true
timeout 5 hsdump 198.18.0.1:9901 >"$work/hsdump.out" 2>&1 || true
kill $pe; sleep 1
kill $r1 $r2; sleep 1
kill $cap; wait $cap 2>/dev/null || true
rm -rf "$work"
echo "wrote $out"
