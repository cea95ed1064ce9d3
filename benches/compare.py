#!/usr/bin/env python3
"""Throughput and peak memory of `sprawl scan` against peer scanners on one directory, one
git repository (whole history), or one container image archive (`docker save` tar).

Runs each command N times, alternating between tools so machine noise hits both alike, and
reports the median wall time, CPU time, MB/s and peak RSS (from wait4). With --git, TARGET is a
repository, MB/s counts its blob bytes, and the floor `git cat-file --batch-all-objects --batch`
(reading every object once, single-threaded) is timed alongside. With --image, TARGET is a
docker-save archive, MB/s counts the archive's bytes, Kingfisher runs `scan docker --archive`
(with --no-limits: its default 256 MiB extraction cap refuses larger images) and the floor is
`tar -xOf` of the whole archive to /dev/null. Usage:

    python3 benches/compare.py TARGET [--git|--image] [--runs 5] [--sprawl target/release/sprawl] [--kingfisher PATH] [--turbo]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time


def dir_bytes(path):
    total = 0
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d != ".git"]
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def blob_bytes(repo):
    out = subprocess.run(["git", "-C", repo, "cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectsize)"],
                         capture_output=True, text=True, check=True).stdout
    sizes = [int(l.split()[1]) for l in out.splitlines() if l.startswith("blob ")]
    return len(sizes), sum(sizes)


def run_once(cmd):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sprawl", default="target/release/sprawl")
    ap.add_argument("--kingfisher", default=None)
    ap.add_argument("--turbo", action="store_true", help="also run Kingfisher with --turbo (its fast mode)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--git", action="store_true", help="TARGET is a git repository: scan its history")
    ap.add_argument("--image", action="store_true", help="TARGET is a docker-save image archive")
    args = ap.parse_args()

    mode = ["--git-history", "full"] if args.git else [] if args.image else ["--no-ignore"]
    tools = {
        "sprawl": [args.sprawl, "scan", "--no-progress", *mode, "-j", str(args.threads), "--format", "json", args.dir],
    }
    if args.kingfisher and args.image:
        tools["kingfisher"] = [args.kingfisher, "scan", "docker", "--archive", args.dir, "--no-limits", "--no-validate",
                               "--no-update-check", "-j", str(args.threads), "--format", "json"]
    elif args.kingfisher:
        tools["kingfisher"] = [args.kingfisher, "scan", "--no-validate", "--no-update-check", "-j", str(args.threads),
                               "--format", "json", args.dir]
        if args.turbo:
            tools["kf-turbo"] = [*tools["kingfisher"][:2], "--turbo", *tools["kingfisher"][2:]]
    if args.git:
        tools["floor"] = ["git", "-C", args.dir, "cat-file", "--batch-all-objects", "--batch", "--unordered"]
        blobs, size = blob_bytes(args.dir)
        print(f"repository: {args.dir}: {blobs} blobs, {size / 1e6:.1f} MB of blob content, {args.runs} runs each, {args.threads} threads")
    elif args.image:
        tools["floor"] = ["tar", "-xOf", args.dir]
        size = os.path.getsize(args.dir)
        print(f"image archive: {args.dir}: {size / 1e6:.1f} MB, {args.runs} runs each, {args.threads} threads")
    else:
        size = dir_bytes(args.dir)
        print(f"corpus: {args.dir}: {size / 1e6:.1f} MB, {args.runs} runs each, {args.threads} threads")
    results = {name: [] for name in tools}
    for name, cmd in tools.items():  # warm the page cache and any rule cache
        run_once(cmd)
    for _ in range(args.runs):
        for name, cmd in tools.items():
            results[name].append(run_once(cmd))
    rows = {}
    for name, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        rss = statistics.median(r[1] for r in runs)
        cpu = statistics.median(r[3] for r in runs)
        codes = sorted({r[2] for r in runs})
        rows[name] = (wall, rss)
        print(f"{name:<11} median {wall:7.2f} s wall {cpu:7.2f} s CPU {size / 1e6 / wall:7.1f} MB/s  peak RSS {rss:7.1f} MB"
              f"  exit {codes}  runs: {', '.join(f'{r[0]:.2f}' for r in runs)}")
    if "kf-turbo" in rows:
        print(f"sprawl wall is {rows['sprawl'][0] / rows['kf-turbo'][0]:.2f}x Kingfisher --turbo")
    if "kingfisher" in rows:
        w = rows["kingfisher"][0] / rows["sprawl"][0]
        m = rows["sprawl"][1] / rows["kingfisher"][1]
        print(f"sprawl is {w:.2f}x faster than kingfisher (wall ratio {1 / w:.2f}); sprawl peak RSS is {m:.2f}x kingfisher's")
    if "floor" in rows:
        print(f"sprawl wall is {rows['sprawl'][0] / rows['floor'][0]:.2f}x the floor ({' '.join(tools['floor'][:2])})")


if __name__ == "__main__":
    sys.exit(main())
