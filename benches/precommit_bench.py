#!/usr/bin/env python3
"""What the sprawl pre-commit hook adds to a normal commit, with the real `pre-commit`.

A generated repository (--files text files, default 5,000 in 100 directories, about 4 KB
each) uses this checkout's `sprawl-system` hook. Each round edits three files, stages them and
commits once through the hook and once with --no-verify (same kind of change); the difference
of the medians is the hook's cost. Also reports `sprawl scan --staged` alone, and pre-commit
running a no-op hook, to split sprawl's share from pre-commit's own start-up.

Usage: benches/precommit_bench.py [--files N] [--rounds R] [--sprawl PATH] [--pre-commit PATH]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time

ENV = dict(
    os.environ,
    GIT_AUTHOR_NAME="bench",
    GIT_AUTHOR_EMAIL="bench@example.com",
    GIT_COMMITTER_NAME="bench",
    GIT_COMMITTER_EMAIL="bench@example.com",
)


def sh(cwd, *args, env=ENV):
    subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True)


def timed(cwd, *args, env=ENV):
    start = time.monotonic()
    subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True)
    return time.monotonic() - start


def hook_repo(work, hooks_yaml):
    d = os.path.join(work, "hooks")
    os.makedirs(d)
    shutil.copy(hooks_yaml, os.path.join(d, ".pre-commit-hooks.yaml"))
    sh(d, "git", "init", "-q", "-b", "main")
    sh(d, "git", "add", ".")
    sh(d, "git", "commit", "-q", "-m", "hooks")
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=d, capture_output=True,
                         text=True, check=True).stdout.strip()
    return d, rev


def project(work, name, files, config):
    d = os.path.join(work, name)
    os.makedirs(d)
    sh(d, "git", "init", "-q", "-b", "main")
    for i in range(files):
        sub = os.path.join(d, f"pkg{i % 100:02}")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"mod{i}.py"), "w") as f:
            f.write(f"# module {i}\n" + "".join(f"def f{j}(x):\n    return x * {j}\n" for j in range(120)))
    with open(os.path.join(d, ".pre-commit-config.yaml"), "w") as f:
        f.write(config)
    sh(d, "git", "add", "-A")
    sh(d, "git", "commit", "-q", "-m", "init")
    return d


def edit(d, r):
    for k in range(3):
        with open(os.path.join(d, f"pkg{(r * 3 + k) % 100:02}", f"mod{(r * 3 + k) % 100}.py"), "a") as f:
            f.write(f"def added_{r}_{k}(x):\n    return x + {r}\n")
    sh(d, "git", "add", "-A")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--sprawl", default="target/release/sprawl")
    ap.add_argument("--pre-commit", default="target/test-venv/bin/pre-commit")
    a = ap.parse_args()
    sprawl = os.path.abspath(a.sprawl)
    pre_commit = os.path.abspath(a.pre_commit)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = tempfile.mkdtemp(prefix="sprawl-hook-bench-")
    try:
        hooks, rev = hook_repo(work, os.path.join(here, ".pre-commit-hooks.yaml"))
        env = dict(ENV, PATH=os.path.dirname(sprawl) + os.pathsep + ENV["PATH"],
                   PRE_COMMIT_HOME=os.path.join(work, "cache"))
        sprawl_cfg = f"repos:\n  - repo: {hooks}\n    rev: {rev}\n    hooks:\n      - id: sprawl-system\n"
        noop_cfg = ("repos:\n  - repo: local\n    hooks:\n      - id: noop\n        name: noop\n"
                    "        entry: 'true'\n        language: system\n        pass_filenames: false\n"
                    "        always_run: true\n")
        with_hook = project(work, "with-hook", a.files, sprawl_cfg)
        with_noop = project(work, "with-noop", a.files, noop_cfg)
        for d in (with_hook, with_noop):
            sh(d, pre_commit, "install", env=env)
        hook_t, plain_t, noop_t, staged_t = [], [], [], []
        for r in range(a.rounds):
            edit(with_hook, 2 * r)
            staged_t.append(timed(with_hook, sprawl, "scan", "--staged", "--no-progress", env=env))
            hook_t.append(timed(with_hook, "git", "commit", "-q", "-m", f"r{r}", env=env))
            edit(with_hook, 2 * r + 1)
            plain_t.append(timed(with_hook, "git", "commit", "-q", "--no-verify", "-m", f"p{r}", env=env))
            edit(with_noop, r)
            noop_t.append(timed(with_noop, "git", "commit", "-q", "-m", f"n{r}", env=env))
        med = lambda xs: statistics.median(xs) * 1000
        print(f"{a.files} files, 3 edited per commit; medians of {a.rounds} (ms)")
        print(f"git commit --no-verify:              {med(plain_t):7.1f}")
        print(f"git commit, pre-commit no-op hook:   {med(noop_t):7.1f}")
        print(f"git commit, sprawl-system hook:      {med(hook_t):7.1f}")
        print(f"hook adds (vs --no-verify):          {med(hook_t) - med(plain_t):7.1f}")
        print(f"  of which sprawl (vs no-op hook):   {med(hook_t) - med(noop_t):7.1f}")
        print(f"sprawl scan --staged alone:          {med(staged_t):7.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
