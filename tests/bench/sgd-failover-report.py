#!/usr/bin/env python3
"""Report of one sgd-failover-uml.sh setting, from its log directory.

    sgd-failover-report.py DIR NAME INTERVAL_S CPS

DIR holds sgd.log, gen.log (ss7-gen), gwc-*.log, kills ("unix_ms victim"
per line), probe.log and optionally lo.pcap. All timestamps come from the
one (UML) clock: spdlog's local-time stamps (the guest runs in UTC, as the
host) and unix milliseconds.
"""
import calendar
import glob
import os
import re
import statistics
import subprocess
import sys

STAMP = re.compile(r"^\[(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3})\]")


def stamp_ms(line):
    m = STAMP.match(line)
    if not m:
        return None
    y, mo, d, h, mi, s, ms = (int(x) for x in m.groups())
    return calendar.timegm((y, mo, d, h, mi, s)) * 1000 + ms


def fields(line):
    return dict(x.split("=", 1) for x in line.split()[1:] if "=" in x)


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def main():
    d, name, interval_s, cps = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    interval = interval_s * 1000

    # Controllers: name -> PE id (hex, as sgd prints it).
    pe_of, name_of = {}, {}
    cookie_echoes = []  # (ms, controller)
    for path in sorted(glob.glob(os.path.join(d, "gwc-*.log"))):
        n = os.path.basename(path)[:-4]
        for line in open(path, errors="replace"):
            if line.startswith("event listening"):
                pid = fields(line)["pe_id"][2:].lower()
                pe_of[n], name_of[pid] = pid, n
            elif "COOKIE_ECHO," in line:
                t = stamp_ms(line)
                if t:
                    cookie_echoes.append((t, n))
    cookie_echoes.sort()

    kills = []
    for line in open(os.path.join(d, "kills")):
        t, victim = line.split()
        kills.append((int(t), victim))

    # sgd: link failures and what preceded them.
    link_failed = []  # (ms, pe, cause)
    beat_timeouts = []  # ms of "no answer to BEAT"
    keepalive_timeouts = []  # (ms, pe)
    comm_lost = []
    last_down = {}  # pe -> (ms, reason)
    assoc_ports = []  # (ms, pe, sgd_port, pe_port)
    lines = open(os.path.join(d, "sgd.log"), errors="replace").read().splitlines()
    for line in lines:
        t = stamp_ms(line)
        if t is None:
            continue
        m = re.search(r"gwc/([0-9a-f]+): association #\d+ \S*?:(\d+)\S* -> \S+:(\d+) up", line)
        if m:
            assoc_ports.append((t, m.group(1), int(m.group(2)), int(m.group(3))))
        m = re.search(r"gwc/([0-9a-f]+): association .* down: ([a-z-]+)", line)
        if m:
            last_down[m.group(1)] = (t, m.group(2))
        if "no answer to BEAT" in line:
            beat_timeouts.append(t)
        m = re.search(r"pe-keep-alive-timeout pool '[^']*' PE ([0-9a-f]+)", line)
        if m:
            keepalive_timeouts.append((t, m.group(1)))
        m = re.search(r"gwc/([0-9a-f]+): association #\d+: COMM_LOST", line)
        if m:
            comm_lost.append((t, m.group(1)))
        m = re.search(r"PE ([0-9a-f]+): link failed", line)
        if m:
            pe = m.group(1)
            cause = "link-down"
            if pe in last_down and t - last_down[pe][0] < 500:
                reason = last_down[pe][1]
                cause = reason
                if reason == "local-close" and any(0 <= t - b < 500 for b in beat_timeouts):
                    cause = "m3ua-beat-timeout"
            if any(p == pe and 0 <= t - k < 500 for k, p in keepalive_timeouts):
                cause += "+registrar-keep-alive"
            link_failed.append((t, pe, cause))

    # ss7-gen
    stats, failed, summary = [], [], {}
    for line in open(os.path.join(d, "gen.log"), errors="replace"):
        if line.startswith("stats ") and "interval_max_answer_us=" in line:
            f = fields(line)
            stats.append((int(f["unix_ms"]), int(f["interval_max_answer_us"])))
        elif line.startswith("event failed-call"):
            failed.append(int(fields(line)["started_unix_ms"]))
        elif line.startswith("summary "):
            summary = fields(line)

    print(f"== setting {name}: {len(kills)} kills, {cps} calls/s")
    detect, heir, answer = [], [], []
    for i, (k, victim) in enumerate(kills, 1):
        end = kills[i][0] if i < len(kills) else k + interval
        pe = pe_of.get(victim, "?")
        det = next((t - k for t, p, _ in link_failed if p == pe and t >= k - 50), None)
        he = next(((t - k, n) for t, n in cookie_echoes if k <= t < end and n != victim), None)
        worst = max([us for t, us in stats if k < t <= end] or [0])
        ans = max(0.0, worst / 1000.0 - 20)
        lost = sum(1 for s in failed if k - 4000 <= s < end)
        if det is not None:
            detect.append(det)
        if he is not None:
            heir.append(he[0])
        answer.append(ans)
        print(f"kill {i:2d} {victim:>9} ({pe}): detect {det if det is not None else '-':>5} ms, "
              f"heir {str(he[0]) + ' ms (' + he[1] + ')' if he else '-':>20}, worst extra answer delay {ans:7.1f} ms, "
              f"failed calls started in [kill-4s, next kill) {lost}")

    def dist(label, v):
        if v:
            print(f"{label}: n={len(v)} min {min(v):.0f} ms, p50 {statistics.median(v):.0f} ms, "
                  f"p90 {pct(v, 90):.0f} ms, max {max(v):.0f} ms")
        else:
            print(f"{label}: none")

    dist("kill -> sgd detects the link failure", detect)
    dist("kill -> heir receives the COOKIE_ECHO (first message of the moved calls)", heir)
    dist("worst extra answer delay after a kill (ss7-gen)", answer)

    kill_time = {pe_of.get(v): k for k, v in kills}
    false = [(t, pe, c) for t, pe, c in link_failed if pe not in kill_time or t < kill_time[pe] - 50]
    print(f"false link failures (controllers not killed): {len(false)}")
    for t, pe, c in false:
        print(f"  {t} PE {pe} ({name_of.get(pe, '?')}): {c}")
    print(f"timers that fired at sgd: M3UA BEAT timeouts {len(beat_timeouts)}, registrar keep-alive timeouts "
          f"{len(keepalive_timeouts)} ({sum(1 for t, p in keepalive_timeouts if p not in kill_time or t < kill_time[p])} on live PEs), "
          f"SCTP COMM_LOST on PE links {len(comm_lost)}")

    stalls = []
    probe = os.path.join(d, "probe.log")
    if os.path.exists(probe):
        for line in open(probe):
            if line.startswith("stall "):
                f = fields(line)
                stalls.append((int(f["ms"]), int(f["end_unix_ms"])))
    if stalls:
        top = sorted(stalls, reverse=True)[:5]
        print(f"guest scheduling stalls seen by the probe (sleep 20 ms): {len(stalls)} over 100 ms, "
              f"longest {', '.join(str(s) for s, _ in top)} ms")
    else:
        print("guest scheduling stalls seen by the probe: none over 100 ms")

    cpu = os.path.join(d, "cpu")
    if os.path.exists(cpu):
        rows = [[int(x) for x in line.split()] for line in open(cpu) if line.strip()]
        if len(rows) == 2 and rows[1][1] > rows[0][1]:
            total = rows[1][1] - rows[0][1]
            line = f"guest CPU busy during the load: {100.0 * (rows[1][0] - rows[0][0]) / total:.0f} %"
            sgd_cpu = os.path.join(d, "sgd-cpu")
            if os.path.exists(sgd_cpu):
                t = [int(x) for x in open(sgd_cpu).read().split()]
                if len(t) == 2:
                    line += f", of which sgd (user + system) {100.0 * (t[1] - t[0]) / total:.0f} %"
            print(line)

    a = summary
    if a:
        print(f"calls: attempted {a.get('calls_attempted')}, completed {a.get('calls_completed')}, "
              f"failed {a.get('calls_failed')}, unfinished {a.get('calls_unfinished')}, "
              f"unexpected messages {a.get('unexpected')}, answer p50 {a.get('answer_p50_us')} us, "
              f"p99 {a.get('answer_p99_us')} us, max {a.get('answer_max_us')} us")

    pcap = os.path.join(d, "lo.pcap")
    if os.path.exists(pcap) and false:
        beat_evidence(pcap, false, assoc_ports)


def beat_evidence(pcap, false, assoc_ports):
    """For each false failure: the controller's last packets on that link before it."""
    out = subprocess.run(
        ["tshark", "-r", pcap, "-Y", "m3ua", "-T", "fields", "-e", "frame.time_epoch", "-e", "sctp.srcport",
         "-e", "sctp.dstport", "-e", "m3ua.message_class", "-e", "m3ua.message_type"],
        capture_output=True, text=True, timeout=600).stdout.splitlines()
    pkts = []
    for line in out:
        w = line.split("\t")
        if len(w) < 5:
            continue
        pkts.append((int(float(w[0]) * 1000), int(w[1].split(",")[0]), int(w[2].split(",")[0]),
                     w[3].split(","), w[4].split(",")))
    print("wire evidence (lo capture) for each false failure: BEAT = class 3 type 3, BEAT ACK = class 3 type 6")
    for t, pe, cause in false:
        ports = [(s, p) for at, q, s, p in assoc_ports if q == pe and at <= t]
        if not ports:
            continue
        sgd_port, pe_port = ports[-1]
        link = [x for x in pkts if {x[1], x[2]} == {sgd_port, pe_port} and x[0] <= t + 50]
        beats = [x[0] for x in link if x[1] == sgd_port and any(c == "3" and ty == "3" for c, ty in zip(x[3], x[4]))]
        acks = [x[0] for x in link if x[1] == pe_port and any(c == "3" and ty == "6" for c, ty in zip(x[3], x[4]))]
        from_pe = [x[0] for x in link if x[1] == pe_port]
        last_beats = [b - t for b in beats[-3:]]
        last_acks = [a - t for a in acks[-3:]]
        print(f"  PE {pe} failed at {t} ({cause}): BEATs sent at {last_beats} ms, BEAT ACKs on the wire at "
              f"{last_acks} ms, last M3UA packet from the PE at {from_pe[-1] - t if from_pe else '-'} ms "
              f"(relative to the failure)")


if __name__ == "__main__":
    main()
