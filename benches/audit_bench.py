#!/usr/bin/env python3
"""Audit of N generated repositories (default 50, 20 commits each adding a 27 KB file) into one
inventory.

Measures, as medians of --rounds runs, each into a fresh database:
  * one worker (`sprawl audit`, default threads),
  * four shards at once (`--shard i/4 -j 1` each, the Indexed-Job shape),
then, on the last four-shard inventory:
  * a re-audit with nothing changed,
  * a re-audit after one new commit in one repository (a new file with a new secret),
and checks that the one-worker and four-shard inventories are identical (same fingerprint
key, `sprawl report --format json` without timestamps) and that the incremental inventory
equals a full audit of the same repositories.

Usage: benches/audit_bench.py [--repos N] [--commits C] [--kb K] [--rounds R]
                              [--store sqlite|postgres] [--sprawl PATH]
With --store postgres a server is started with initdb + pg_ctl on 127.0.0.1 (as the
`postgres` user when run as root) and stopped at the end.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

KEY = "bench-fingerprint-key"
GIT_ENV = dict(
    os.environ,
    GIT_AUTHOR_NAME="bench",
    GIT_AUTHOR_EMAIL="bench@example.com",
    GIT_COMMITTER_NAME="bench",
    GIT_COMMITTER_EMAIL="bench@example.com",
)


def git(repo, *args):
    subprocess.run(["git", "-C", repo, *args], check=True, env=GIT_ENV, capture_output=True)


def make_repos(work, n, commits, kb):
    targets = []
    for i in range(n):
        repo = os.path.join(work, f"repo{i:03}")
        os.makedirs(repo)
        git(repo, "init", "-q", "-b", "main")
        for c in range(1, commits + 1):
            with open(os.path.join(repo, f"notes{c}.txt"), "w") as f:
                f.write(os.urandom(kb * 512).hex() + "\n")
            if c == 5:
                with open(os.path.join(repo, ".env"), "w") as f:
                    f.write(f"DB_PASSWORD={os.urandom(12).hex()}Zx9\n")
            git(repo, "add", "-A")
            git(repo, "commit", "-q", "-m", f"commit {c}")
        targets.append(repo)
    path = os.path.join(work, "targets.txt")
    with open(path, "w") as f:
        f.write("\n".join(targets) + "\n")
    return path, targets


class Postgres:
    def __init__(self, work):
        bins = sorted(
            os.path.join("/usr/lib/postgresql", v, "bin")
            for v in os.listdir("/usr/lib/postgresql")
        )
        self.bin = bins[-1]
        self.dir = os.path.join(work, "pg")
        os.makedirs(self.dir)
        self.root = os.getuid() == 0
        if self.root:
            shutil.chown(self.dir, "postgres", "postgres")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        data = os.path.join(self.dir, "data")
        self.run("initdb", "-A", "trust", "-U", "sprawl", "--no-sync", "-D", data)
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} "
            f"-c unix_socket_directories={self.dir} -c max_connections=40"
        )
        self.run("pg_ctl", "-w", "-D", data, "-o", opts, "-l",
                 os.path.join(self.dir, "log"), "start")
        self.data = data
        self.n = 0

    def run(self, tool, *args):
        cmd = [os.path.join(self.bin, tool), *args]
        if self.root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True)

    def fresh(self):
        self.n += 1
        name = f"bench{self.n}"
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "sprawl", name)
        return f"postgres://sprawl@127.0.0.1:{self.port}/{name}"

    def stop(self):
        self.run("pg_ctl", "-m", "fast", "-D", self.data, "stop")


class Sqlite:
    def __init__(self, work):
        self.work = work
        self.n = 0

    def fresh(self):
        self.n += 1
        return os.path.join(self.work, f"bench{self.n}.db")

    def stop(self):
        pass


def audit(sprawl, targets, store, *extra):
    return subprocess.Popen(
        [sprawl, "audit", "--no-progress", "--fingerprint-key", KEY,
         "--targets", targets, "--store", store, *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )


def timed(procs):
    start = time.monotonic()
    errs = []
    for p in procs:
        _, err = p.communicate()
        if p.returncode not in (0, 1):
            sys.exit(f"audit failed ({p.returncode}):\n{err}")
        errs.append(err)
    return time.monotonic() - start, errs


def shape(sprawl, store):
    out = subprocess.run([sprawl, "report", "--format", "json", "--store", store],
                         check=True, capture_output=True, text=True).stdout
    secrets = json.loads(out)["secrets"]
    for s in secrets:
        s.pop("first_seen", None)
        s.pop("last_seen", None)
    return sorted(secrets, key=lambda s: (s["fingerprint"], s["rule_id"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repos", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--commits", type=int, default=20, help="commits per repository")
    ap.add_argument("--kb", type=int, default=27, help="size of the file each commit adds")
    ap.add_argument("--store", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--sprawl", default="target/release/sprawl")
    a = ap.parse_args()
    sprawl = os.path.abspath(a.sprawl)
    work = tempfile.mkdtemp(prefix="sprawl-audit-bench-")
    os.chmod(work, 0o755)
    try:
        targets, repos = make_repos(work, a.repos, a.commits, a.kb)
        db = Postgres(work) if a.store == "postgres" else Sqlite(work)
        one_t, four_t = [], []
        for _ in range(a.rounds):
            one = db.fresh()
            one_t.append(timed([audit(sprawl, targets, one)])[0])
            four = db.fresh()
            four_t.append(timed([audit(sprawl, targets, four, "--shard", f"{k}/4", "-j", "1")
                                 for k in range(4)])[0])
        same = shape(sprawl, one) == shape(sprawl, four)
        copies = sum(len(s["occurrences"]) for s in shape(sprawl, one))
        unchanged_t, commit_t = [], []
        for r in range(a.rounds):
            unchanged_t.append(timed([audit(sprawl, targets, four)])[0])
            repo = repos[r % len(repos)]
            with open(os.path.join(repo, f"new{r}.env"), "w") as f:
                f.write(f"API_SECRET={os.urandom(12).hex()}Qz7\n")
            git(repo, "add", "-A")
            git(repo, "commit", "-q", "-m", f"new secret {r}")
            t, errs = timed([audit(sprawl, targets, four)])
            commit_t.append(t)
        full = db.fresh()
        timed([audit(sprawl, targets, full)])
        incremental_ok = shape(sprawl, four) == shape(sprawl, full)
        med = statistics.median
        print(f"store: {a.store}; {a.repos} repositories x {a.commits} commits "
              f"(+{a.kb} KB each); medians of {a.rounds}")
        print(f"one worker:                       {med(one_t):6.2f} s  {sorted(round(x, 2) for x in one_t)}")
        print(f"4 shards at once (-j 1 each):     {med(four_t):6.2f} s  {sorted(round(x, 2) for x in four_t)}"
              f"  ({med(one_t) / med(four_t):.2f}x)")
        print(f"identical inventories:            {same} ({copies} copies)")
        print(f"re-audit, nothing changed:        {med(unchanged_t):6.2f} s  ({med(unchanged_t) / med(one_t):.1%} of the first)")
        print(f"re-audit after 1 commit in 1 repo: {med(commit_t):6.2f} s  ({med(commit_t) / med(one_t):.1%} of the first)")
        print(f"incremental inventory = full:     {incremental_ok}")
        db.stop()
        if not (same and incremental_ok):
            sys.exit(1)
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
