#!/usr/bin/env python3
"""Builds a large, deterministic git history for benchmarks.

Replays real source files into a repository through `git fast-import`: every commit replaces a
few files of a fixed set of paths with the next file of a seeded shuffle of SOURCE_DIR (and,
once the pool is used up, edits of them), so blobs are real code and the history is long.
Every 500th commit plants a generated fake GitHub token (valid checksum), and some are removed
later, so the scanners have real findings and history-only secrets to report.

    python3 benches/make_history.py SOURCE_DIR OUT_REPO [--commits 20000] [--files-per-commit 5]
"""
import argparse
import os
import random
import subprocess
import sys
import zlib

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def fake_github(rng):
    body = "".join(rng.choice(B62) for _ in range(30))
    n = zlib.crc32(body.encode())
    check = ""
    while n:
        check = B62[n % 62] + check
        n //= 62
    return "ghp_" + body + check.rjust(6, "0")


def pool(source, limit_bytes=256 << 10):
    files = []
    for root, dirs, names in os.walk(source):
        dirs.sort()
        for n in sorted(names):
            p = os.path.join(root, n)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if not os.path.isfile(p) or os.path.islink(p) or st.st_size == 0 or st.st_size > limit_bytes:
                continue
            with open(p, "rb") as f:
                head = f.read(8192)
            if b"\0" in head:
                continue
            files.append(p)
    return files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("out")
    ap.add_argument("--commits", type=int, default=20000)
    ap.add_argument("--files-per-commit", type=int, default=5)
    ap.add_argument("--paths", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=20261123)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    files = pool(args.source)
    rng.shuffle(files)
    paths = sorted({os.path.relpath(f, args.source) for f in files[: args.paths]})
    subprocess.run(["git", "init", "-q", "--bare", args.out], check=True)
    fi = subprocess.Popen(["git", "-C", args.out, "fast-import", "--quiet", "--done"], stdin=subprocess.PIPE)
    out = fi.stdin
    total = 0
    planted = []
    t0 = 1_600_000_000
    cursor = 0
    for i in range(args.commits):
        changes = []
        for _ in range(args.files_per_commit):
            path = paths[rng.randrange(len(paths))]
            src = files[cursor % len(files)]
            with open(src, "rb") as f:
                data = f.read()
            if cursor >= len(files):
                data += f"\n// revision {cursor}\n".encode()
            cursor += 1
            changes.append((path, data))
        if i % 500 == 250:
            tok = fake_github(rng)
            path = f"config/deploy-{i}.env"
            changes.append((path, f"# deploy settings\nGITHUB_TOKEN={tok}\n".encode()))
            planted.append((i, path))
        deletes = []
        if i % 500 == 400 and planted and planted[-1][0] % 1000 == 250:
            deletes.append(planted[-1][1])
        out.write(f"commit refs/heads/main\ncommitter Bench <bench@example.org> {t0 + i * 600} +0000\n".encode())
        msg = f"change {i}\n".encode()
        out.write(b"data %d\n%s" % (len(msg), msg))
        if i == 0:
            out.write(b"deleteall\n")
        for path, data in changes:
            out.write(f"M 100644 inline {path}\n".encode())
            out.write(b"data %d\n" % len(data))
            out.write(data)
            out.write(b"\n")
            total += len(data)
        for path in deletes:
            out.write(f"D {path}\n".encode())
        out.write(b"\n")
    out.write(b"done\n")
    out.close()
    if fi.wait() != 0:
        sys.exit("git fast-import failed")
    print(f"{args.commits} commits, {total / 1e6:.1f} MB of blob content written, {len(planted)} tokens planted")


if __name__ == "__main__":
    main()
