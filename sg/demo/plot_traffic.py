#!/usr/bin/env python3
"""Per-PE traffic over time, with events marked, as a standalone SVG.

Input: a CSV written by the demo, one row per sample:
    t_ms,series,value
and optional event rows:
    t_ms,event,LABEL
Usage: plot_traffic.py traffic.csv out.svg [--title TITLE]
No third-party modules: the demo must run on a bare Debian 12.
"""
import csv
import sys
from collections import defaultdict
from xml.sax.saxutils import escape

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def load(path):
    series = defaultdict(list)
    events = []
    with open(path, newline="") as f:
        for row in csv.reader(f):
            if not row or row[0].startswith("#") or row[0] == "t_ms":
                continue
            t = float(row[0])
            if row[1] == "event":
                events.append((t, row[2]))
            else:
                series[row[1]].append((t, float(row[2])))
    for points in series.values():
        points.sort()
    return series, events


def nice_max(v):
    if v <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(v))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= v:
            return step * magnitude
    return 10 * magnitude


def render(series, events, title, unit="messages/s"):
    width, height = 960, 480
    left, right, top, bottom = 70, 160, 50, 50
    pw, ph = width - left - right, height - top - bottom
    all_t = [t for pts in series.values() for t, _ in pts] + [t for t, _ in events]
    t0, t1 = (min(all_t), max(all_t)) if all_t else (0.0, 1.0)
    if t1 <= t0:
        t1 = t0 + 1
    ymax = nice_max(max([v for pts in series.values() for _, v in pts] or [1]))

    def x(t):
        return left + (t - t0) / (t1 - t0) * pw

    def y(v):
        return top + ph - v / ymax * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="25" text-anchor="middle" font-size="16">{escape(title)}</text>']
    for i in range(6):  # horizontal grid and y labels
        v = ymax * i / 5
        out.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{left + pw}" y2="{y(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    span_s = (t1 - t0) / 1000
    step_s = max(1, round(span_s / 10))
    s = 0
    while s <= span_s:  # x labels in seconds
        t = t0 + s * 1000
        out.append(f'<line x1="{x(t):.1f}" y1="{top + ph}" x2="{x(t):.1f}" y2="{top + ph + 4}" stroke="black"/>')
        out.append(f'<text x="{x(t):.1f}" y="{top + ph + 18}" text-anchor="middle">{s:g}</text>')
        s += step_s
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="black"/>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 10}" text-anchor="middle">time (s)</text>')
    out.append(f'<text x="18" y="{top + ph / 2}" text-anchor="middle" '
               f'transform="rotate(-90 18 {top + ph / 2})">{escape(unit)}</text>')
    for t, label in events:
        out.append(f'<line x1="{x(t):.1f}" y1="{top}" x2="{x(t):.1f}" y2="{top + ph}" '
                   f'stroke="black" stroke-dasharray="6,4"/>')
        out.append(f'<text x="{x(t) + 4:.1f}" y="{top + 14}">{escape(label)}</text>')
    for i, (name, pts) in enumerate(sorted(series.items())):
        color = COLORS[i % len(COLORS)]
        path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        ly = top + 20 + i * 20
        out.append(f'<line x1="{left + pw + 15}" y1="{ly}" x2="{left + pw + 40}" y2="{ly}" '
                   f'stroke="{color}" stroke-width="3"/>')
        out.append(f'<text x="{left + pw + 46}" y="{ly + 4}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    title = "Traffic per gateway controller"
    if "--title" in argv:
        title = argv[argv.index("--title") + 1]
    series, events = load(argv[1])
    if not series:
        print(f"{argv[1]}: no samples", file=sys.stderr)
        return 1
    with open(argv[2], "w") as f:
        f.write(render(series, events, title))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
