#!/usr/bin/env python3
"""Builds a repository with many refs and many findings, the shape where fan-out (which ref tips
still hold each secret) used to dominate a history scan: hundreds of branches and tags over a
tree of thousands of files, hundreds of planted secrets (generated fakes with valid checksums).

    python3 benches/many_refs.py OUT [--branches 230] [--tags 350] [--secret-files 350]
        [--other-files 4000] [--seed 1]

Then time it (`SPRAWL_TIMINGS=1` prints the phases of the history scan, fan-out included):

    SPRAWL_TIMINGS=1 target/release/sprawl scan OUT -f json -o /dev/null --no-progress
"""
import argparse
import os
import random
import subprocess
import zlib

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(n, width):
    out = ""
    while n:
        out = B62[n % 62] + out
        n //= 62
    return out.rjust(width, "0")


def fake_github(rng):
    """A GitHub-style token with a valid CRC32 checksum (fake: random, never issued)."""
    body = "".join(rng.choice(B62) for _ in range(30))
    return "ghp_" + body + base62(zlib.crc32(body.encode()), 6)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--branches", type=int, default=230)
    ap.add_argument("--tags", type=int, default=350)
    ap.add_argument("--secret-files", type=int, default=350)
    ap.add_argument("--other-files", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", args.out], check=True)

    def path_for(i, kind):
        return f"{kind}/d{i % 17}/s{i % 5}/{kind}-{i}.{'env' if kind == 'svc' else 'txt'}"

    secret_files = {path_for(i, "svc"): i for i in range(args.secret_files)}
    other_files = [path_for(i, "lib") for i in range(args.other_files)]
    stream = []
    mark = [0]

    def blob(data):
        mark[0] += 1
        stream.append(f"blob\nmark :{mark[0]}\ndata {len(data)}\n".encode() + data + b"\n")
        return mark[0]

    def commit(ref, parent, changes, msg, t):
        mark[0] += 1
        m = mark[0]
        body = msg.encode()
        head = (f"commit {ref}\nmark :{m}\nauthor Dev <dev@example.com> {t} +0000\n"
                f"committer Dev <dev@example.com> {t} +0000\ndata {len(body)}\n").encode() + body + b"\n"
        if parent:
            head += f"from :{parent}\n".encode()
        for op in changes:
            head += op.encode() + b"\n"
        stream.append(head + b"\n")
        return m

    t = 1_700_000_000
    changes = []
    for p in other_files:
        data = ("library file %s\nnothing secret here\n" % p).encode()
        changes.append(f"M 100644 :{blob(data)} {p}")
    for p in secret_files:
        text = f"# service config\nGITHUB_TOKEN={fake_github(rng)}\nDEPLOY_TOKEN={fake_github(rng)}\n"
        changes.append(f"M 100644 :{blob(text.encode())} {p}")
    base = commit("refs/heads/main", None, changes, "base", t)
    heads = [base]
    names = list(secret_files)
    for b in range(args.branches):
        t += 60
        ops = []
        # Rotate the secret of one file, delete another, touch a library file.
        p = rng.choice(names)
        data = ("GITHUB_TOKEN=%s\n" % fake_github(rng)).encode()
        ops.append(f"M 100644 :{blob(data)} {p}")
        ops.append(f"D {rng.choice(names)}")
        q = rng.choice(other_files)
        data = ("library file %s v%d\n" % (q, b)).encode()
        ops.append(f"M 100644 :{blob(data)} {q}")
        parent = rng.choice(heads[: 1 + len(heads) // 4])
        heads.append(commit(f"refs/heads/feature/b{b}", parent, ops, f"branch {b}", t))
    for k in range(args.tags):
        stream.append(f"reset refs/tags/t{k}\nfrom :{rng.choice(heads)}\n\n".encode())
    subprocess.run(["git", "-C", args.out, "fast-import", "--quiet"], input=b"".join(stream), check=True)
    subprocess.run(["git", "-C", args.out, "checkout", "-q", "main"], check=True)
    subprocess.run(["git", "-C", args.out, "gc", "-q"], check=True)
    refs = subprocess.run(["git", "-C", args.out, "for-each-ref"], capture_output=True, text=True).stdout
    print(f"{args.out}: {len(refs.splitlines())} refs, {len(secret_files) * 2} planted secrets "
          f"(+{args.branches} rotated), {len(other_files) + len(secret_files)} files")


if __name__ == "__main__":
    main()
