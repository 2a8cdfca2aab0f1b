#!/usr/bin/env python3
"""Groups an `strace -f -tt` of an Asio process (sgd) into turns, from one
blocking epoll_wait to the next, and charges each turn's system calls to
what it carried: woken by the timerfd or by a socket, and the messages it
sent (>) and received (<), named by their first bytes (M3UA BEAT and BEAT
ACK, ASAP message types). Used by sgd-idle-syscalls.sh --turns.

    strace-turns.py TRACE
"""
import collections
import re
import sys

ASAP = {1: "REGISTRATION", 2: "DEREGISTRATION", 3: "REGISTRATION_RESPONSE", 4: "DEREGISTRATION_RESPONSE",
        5: "HANDLE_RESOLUTION", 6: "HANDLE_RESOLUTION_RESPONSE", 7: "ENDPOINT_KEEP_ALIVE",
        8: "ENDPOINT_KEEP_ALIVE_ACK", 9: "ENDPOINT_UNREACHABLE", 14: "ASAP_ERROR"}
CALL = re.compile(r"^\d+\s+[\d:.]+\s+(\w+)\(")
WAKE = re.compile(r"epoll_wait\(\d+, \[\{events=EPOLLIN, data=\{u32=\d+, u64=(\d+)\}\}\], \d+, -1\) = 1")


def first_bytes(line, n=4):
    """The first n bytes of the first iov_base string of a strace line."""
    m = re.search(r'iov_base="((?:\\[0-7]{1,3}|\\.|[^\\"])*)', line)
    if not m:
        return []
    s, out, i = m.group(1), [], 0
    escapes = {"t": 9, "n": 10, "r": 13, "v": 11, "f": 12, "\\": 92, '"': 34}
    while i < len(s) and len(out) < n:
        if s[i] == "\\":
            octal = re.match(r"\\([0-7]{1,3})", s[i:])
            if octal:
                out.append(int(octal.group(1), 8))
                i += len(octal.group(0))
            else:
                out.append(escapes.get(s[i + 1], ord(s[i + 1])))
                i += 2
        else:
            out.append(ord(s[i]))
            i += 1
    return out


def message_kind(line):
    b = first_bytes(line)
    if len(b) < 4:
        return "?"
    # M3UA: version 1, reserved 0, class, type (small numbers). An ASAP
    # REGISTRATION also starts 1 0, then its length (at least 12).
    if b[0] == 1 and b[1] == 0 and b[2] in (0, 1, 2, 3, 4, 9) and b[3] <= 10:
        names = {(3, 3): "BEAT", (3, 6): "BEAT_ACK", (1, 1): "DATA"}
        return names.get((b[2], b[3]), "M3UA-%d/%d" % (b[2], b[3]))
    return ASAP.get(b[0], "ASAP-%d" % b[0])


def main(path):
    lines = [l for l in open(path, errors="replace")
             if re.match(r"^\d+\s+\d", l) and "<unfinished" not in l and "resumed>" not in l]
    # The timerfd's epoll data: the wake-up most often followed by Asio's
    # expiry (two clock readings, then timerfd_settime).
    candidates = collections.Counter()
    for i, l in enumerate(lines[:-3]):
        m = WAKE.search(l)
        if m and "clock_gettime" in lines[i + 1] and "clock_gettime" in lines[i + 2] and "timerfd_settime" in lines[i + 3]:
            candidates[m.group(1)] += 1
    timer = candidates.most_common(1)[0][0] if candidates else None
    turns, current = [], None
    for l in lines:
        m = CALL.match(l)
        if not m:
            continue
        name = m.group(1)
        if name == "epoll_wait" and ", -1)" in l:
            current = {"calls": collections.Counter(), "carried": set(),
                       "timer": timer is not None and "u64=%s}" % timer in l}
            turns.append(current)
        if current is None:
            continue
        current["calls"][name] += 1
        if name in ("sendmmsg", "recvmmsg") and "EAGAIN" not in l:
            current["carried"].add((">" if name == "sendmmsg" else "<") + message_kind(l))
    groups = collections.defaultdict(lambda: [0, collections.Counter()])
    for t in turns:
        label = ("timer: " if t["timer"] else "io: ") + (" ".join(sorted(t["carried"])) or "(nothing sent or received)")
        groups[label][0] += 1
        groups[label][1].update(t["calls"])
    total = 0
    for label, (n, calls) in sorted(groups.items(), key=lambda g: -sum(g[1][1].values())):
        s = sum(calls.values())
        total += s
        detail = " ".join("%s=%d" % kv for kv in sorted(calls.items()))
        print("%4d turns %5d calls (%4.1f per turn)  %s  [%s]" % (n, s, s / n, label, detail))
    print("result traced-calls %d in %d turns" % (total, len(turns)))


if __name__ == "__main__":
    main(sys.argv[1])
