#!/usr/bin/python3
"""The demo's picture, drawn with matplotlib (Debian: python3-matplotlib).

Input: the CSV the demo writes, one row per sample:
    t_ms,series,value
where a series is a gateway controller's messages/s ("PE 11", ...), what
the SS7 side sends to each gateway of a mated pair, messages/s ("sgd A",
"sgd B": any series named "sgd ..."), or the SS7 side's running call totals
("calls completed", "calls failed"), and event rows mark what happened (the
SIGKILL of a controller or of a gateway, a gateway's restart):
    t_ms,event,LABEL

Output: a PNG (and an SVG with --svg) with panels on one time axis:
messages/s per controller, messages/s per gateway (only when there are
"sgd ..." series), and calls completed and failed; every event is a dashed
vertical line across all of them, labelled.

Usage: plot_traffic.py traffic.csv out.png [--svg out.svg] [--title TITLE]
"""
import argparse
import csv
import sys
from collections import defaultdict

CALL_SERIES = ("calls completed", "calls failed")
GATEWAY_PREFIX = "sgd "


def load(path):
    series = defaultdict(list)
    events = []
    with open(path, newline="") as f:
        for row in csv.reader(f):
            if len(row) < 3 or row[0].startswith("#") or row[0] == "t_ms":
                continue
            t = float(row[0]) / 1000.0
            if row[1] == "event":
                events.append((t, row[2]))
            else:
                series[row[1]].append((t, float(row[2])))
    for points in series.values():
        points.sort()
    return series, events


def render(series, events, title, outputs):
    import matplotlib
    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    gateways = sorted(name for name in series if name.startswith(GATEWAY_PREFIX))
    controllers = sorted(name for name in series if name not in CALL_SERIES and name not in gateways)
    calls = [name for name in CALL_SERIES if name in series]
    if gateways:
        fig, (top, middle, bottom) = plt.subplots(3, 1, sharex=True, figsize=(10, 8.5), dpi=100,
                                                  gridspec_kw={"height_ratios": [2, 1.3, 1]})
        for name in gateways:
            ts, vs = zip(*series[name])
            middle.plot(ts, vs, linewidth=1.8, label=name)
        middle.set_ylabel("SS7 side, msg/s")
        middle.set_ylim(bottom=0)
        middle.grid(True, alpha=0.3)
        middle.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title="gateway")
        panels = (top, middle, bottom)
    else:
        fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 6.5), dpi=100,
                                          gridspec_kw={"height_ratios": [2, 1]})
        panels = (top, bottom)
    fig.suptitle(title)
    for name in controllers:
        ts, vs = zip(*series[name])
        top.plot(ts, vs, linewidth=1.8, label=name)
    top.set_ylabel("messages/s")
    top.set_ylim(bottom=0)
    top.grid(True, alpha=0.3)
    if controllers:
        top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title="controller")

    styles = {"calls completed": ("black", "-"), "calls failed": ("tab:red", "-")}
    for name in calls:
        ts, vs = zip(*series[name])
        color, style = styles[name]
        bottom.step(ts, vs, where="post", color=color, linestyle=style, linewidth=1.8,
                    label=f"{name} ({int(vs[-1])})")
    bottom.set_ylabel("calls")
    bottom.set_xlabel("time (s)")
    bottom.set_ylim(bottom=0)
    bottom.grid(True, alpha=0.3)
    if calls:
        bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))

    for i, (t, label) in enumerate(events):
        for ax in panels:
            ax.axvline(t, color="black", linestyle="--", linewidth=1.2)
        # staggered, so that labels of nearby events do not overlap
        top.annotate(label, xy=(t, 0.5 - 0.12 * (i % 3)), xycoords=("data", "axes fraction"), xytext=(6, 0),
                     textcoords="offset points", fontsize=9,
                     bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85})

    fig.tight_layout()
    for path in outputs:
        fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv")
    ap.add_argument("png")
    ap.add_argument("--svg")
    ap.add_argument("--title", default="Traffic per gateway controller")
    args = ap.parse_args(argv[1:])
    series, events = load(args.csv)
    if not series:
        print(f"{args.csv}: no samples", file=sys.stderr)
        return 1
    try:
        render(series, events, args.title, [args.png] + ([args.svg] if args.svg else []))
    except ImportError as e:
        print(f"plot_traffic: {e}: install python3-matplotlib (conf/install-deps.sh demo)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
