#!/usr/bin/env python3
"""Two sprawl binaries on one target, alternated: did a change move speed, memory or findings?

For refactors that must not change behaviour: runs `OLD scan` and `NEW scan` N times each,
alternating so machine noise hits both alike, reports the median wall time, CPU time and peak
RSS (from wait4), and compares the findings and errors of the last run of each (JSON: rule, fingerprint,
where, line, column, provenance), which must be identical. Modes: a directory (`--git-history
none --no-ignore`), a repository's whole history (`--git`), a docker-save image (`--image`).
Usage:

    python3 benches/before_after.py OLD NEW TARGET [--git|--image] [--runs 5] [--threads 2]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run(cmd):
    """Runs `cmd` (stdout to a file), returns (wall s, cpu s, peak RSS MB, stdout path)."""
    out = tempfile.NamedTemporaryFile(delete=False, suffix=".json")
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1, 2):  # 2: an input could not be read (compared below)
        sys.exit(f"{cmd[0]} exited {code}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.name


def findings(path):
    """The findings and errors of a JSON report, in a comparable form."""
    with open(path) as f:
        doc = json.load(f)
    return (sorted(json.dumps(x, sort_keys=True) for x in doc["findings"]),
            sorted(doc.get("errors", [])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("target")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--git", action="store_true")
    ap.add_argument("--image", action="store_true")
    args = ap.parse_args()
    extra = [] if args.git or args.image else ["--git-history", "none", "--no-ignore"]
    tools = {
        name: [binary, "scan", args.target, "-f", "json", "--no-progress", "-j", str(args.threads), *extra]
        for name, binary in (("old", args.old), ("new", args.new))
    }
    results = {name: [] for name in tools}
    last = {}
    for _ in range(args.runs):
        for name, cmd in tools.items():
            wall, cpu, rss, out = run(cmd)
            results[name].append((wall, cpu, rss))
            if name in last:
                os.unlink(last[name])
            last[name] = out
    print("| binary | median wall | runs (s) | median CPU | peak RSS |")
    print("|---|---|---|---|---|")
    for name, rs in results.items():
        walls = sorted(r[0] for r in rs)
        print(f"| {name} | {statistics.median(walls):.2f} s | {', '.join(f'{w:.2f}' for w in walls)} | "
              f"{statistics.median(r[1] for r in rs):.2f} s | {max(r[2] for r in rs):.0f} MB |")
    (old, old_errors), (new, new_errors) = findings(last["old"]), findings(last["new"])
    same = old == new and old_errors == new_errors
    print(f"\nfindings: old {len(old)}, new {len(new)}; errors: old {len(old_errors)}, new {len(new_errors)}: "
          f"{'identical' if same else 'DIFFERENT'}")
    for p in last.values():
        os.unlink(p)
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
