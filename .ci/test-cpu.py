#!/usr/bin/env python3
"""CPU of each CTest test: user and system seconds (the test and every
process it started and waited for), wall seconds, and with --perf the
system calls, context switches and page faults perf counts for it.

    .ci/test-cpu.py BUILD_DIR [-L host] [-R REGEX] [-j 2] [--perf] > cpu.tsv

Runs the tests CTest would run (its own list, commands, environment and
working directory), N at a time, and prints one tab-separated line per test,
the costliest first. CPU seconds are what a test costs a shared 2-core CI
machine whatever the load; wall seconds are not (docs/performance.md,
"Stop 27: CI run time").
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time


def tests_of(build, args):
    cmd = ["ctest", "--test-dir", build, "--show-only=json-v1"]
    if args.label:
        cmd += ["-L", args.label]
    if args.regex:
        cmd += ["-R", args.regex]
    if args.exclude:
        cmd += ["-E", args.exclude]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)["tests"]


def run_one(test, perf, timeout):
    props = {p["name"]: p["value"] for p in test.get("properties", [])}
    env = dict(os.environ)
    for kv in props.get("ENVIRONMENT", []):
        k, _, v = kv.partition("=")
        env[k] = v
    cmd = test["command"]
    stat = None
    if perf:
        stat = tempfile.NamedTemporaryFile(prefix="perf-", suffix=".csv", delete=False).name
        cmd = ["perf", "stat", "-x,", "-o", stat, "-e",
               "raw_syscalls:sys_enter,context-switches,page-faults"] + cmd
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, cwd=props.get("WORKING_DIRECTORY"),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _, status, ru = os.wait4(p.pid, 0)
    finally:
        p.returncode = 0  # reaped above
    wall = time.monotonic() - t0
    counts = {}
    if stat:
        with open(stat) as f:
            for line in f:
                parts = line.strip().split(",")
                if len(parts) >= 3 and parts[0].replace(".", "").isdigit():
                    counts[parts[2]] = int(float(parts[0]))
        os.unlink(stat)
    rc = os.waitstatus_to_exitcode(status)
    return (test["name"], ru.ru_utime, ru.ru_stime, wall, rc,
            counts.get("raw_syscalls:sys_enter", -1), counts.get("context-switches", -1),
            counts.get("page-faults", -1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("-L", dest="label", default="host")
    ap.add_argument("-R", dest="regex")
    ap.add_argument("-E", dest="exclude")
    ap.add_argument("-j", dest="jobs", type=int, default=2)
    ap.add_argument("--perf", action="store_true")
    ap.add_argument("--timeout", type=int, default=600)
    args = ap.parse_args()
    tests = tests_of(args.build, args)
    rows = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for row in pool.map(lambda t: run_one(t, args.perf, args.timeout), tests):
            rows.append(row)
            print("\t".join(str(x) for x in row), file=sys.stderr, flush=True)
    rows.sort(key=lambda r: -(r[1] + r[2]))
    print("test\tuser_s\tsys_s\twall_s\trc\tsyscalls\tctx_switches\tpage_faults")
    for r in rows:
        print(f"{r[0]}\t{r[1]:.2f}\t{r[2]:.2f}\t{r[3]:.2f}\t{r[4]}\t{r[5]}\t{r[6]}\t{r[7]}")
    u = sum(r[1] for r in rows)
    s = sum(r[2] for r in rows)
    print(f"# {len(rows)} tests, user {u:.1f} s, sys {s:.1f} s, failed {sum(1 for r in rows if r[4] != 0)}")


if __name__ == "__main__":
    main()
