#!/usr/bin/env python3
"""The rotation report at scale: an inventory of N distinct secrets (default 2,000), each with 1-4
copies in a generated tree of services owned through a CODEOWNERS file, reported in every format;
the HTML report is rendered in headless Chromium.

Measures:
  * `sprawl report --format md|csv|json|html`: median wall time of --runs runs and output size;
  * the HTML page in headless Chromium (`--dump-dom`), median of --runs: wall time of the whole
    browser run, and the same for a one-line page (the browser's own start-up), so the difference
    is what the report costs; and, from a copy of the page with one inline script appended, the
    time from navigation start until the document is parsed and laid out (`performance.now()`
    after forcing layout);
  * screenshots at a laptop's 1366x768 of the list and of one secret's page (`#s-1`), written
    next to the report (the work directory is kept with --keep).

Usage: benches/report_scale.py [--secrets 2000] [--runs 5] [--sprawl PATH] [--chromium PATH]
                               [--workdir DIR] [--keep] [--seed 1]
"""

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from org_audit import Fakes, KINDS  # noqa: E402

TEAMS = [f"@acme/team-{t}" for t in ("payments", "search", "identity", "billing", "data", "infra",
                                     "mobile", "web", "ml", "growth", "support", "platform")]


def build_tree(root, n, rng):
    """Services of 5 secrets each; every secret in 1-4 files; a CODEOWNERS naming a team per
    service. Returns the number of copies written."""
    fakes = Fakes(rng)
    services = (n + 4) // 5
    owners = ["* @acme/everyone"]
    copies = 0
    made = 0
    for s in range(services):
        svc = f"svc-{s:04d}"
        owners.append(f"/{svc}/ {TEAMS[s % len(TEAMS)]}")
        for j in range(5):
            if made >= n:
                break
            kind = KINDS[(s + j) % len(KINDS)]
            secret = fakes.secret(kind if kind != "aws" else "github", f"{svc}-{j}")
            made += 1
            name, text = secret["pairs"][0]
            for c in range(rng.randint(1, 4)):
                sub = ("config", "deploy", "scripts", "tests")[c]
                d = os.path.join(root, svc, sub)
                os.makedirs(d, exist_ok=True)
                with open(os.path.join(d, f"s{j}.env"), "w") as f:
                    f.write(f"# {svc} {sub}\n{name}={text}\n")
                copies += 1
    os.makedirs(os.path.join(root, ".github"), exist_ok=True)
    with open(os.path.join(root, ".github", "CODEOWNERS"), "w") as f:
        f.write("\n".join(owners) + "\n")
    return copies


def timed(cmd, **kw):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, **kw)
    return time.perf_counter() - t, p


def chromium_cmd(chromium, profile, url, extra):
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", *extra, url]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--secrets", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sprawl", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "sprawl"))
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--workdir")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    sprawl = os.path.abspath(a.sprawl)
    work = a.workdir or tempfile.mkdtemp(prefix="sprawl-report-scale-")
    os.makedirs(work, exist_ok=True)
    try:
        tree = os.path.join(work, "tree")
        copies = build_tree(tree, a.secrets, random.Random(a.seed))
        store = os.path.join(work, "inventory.db")
        t, p = timed([sprawl, "scan", tree, "--no-progress", "--store", store, "--format", "json",
                      "-o", os.devnull])
        if p.returncode not in (0, 1):
            sys.exit(f"scan failed: {p.stderr.decode(errors='replace')}")
        rows = []
        sizes = {}
        for fmt in ("md", "csv", "json", "html"):
            out = os.path.join(work, f"report.{fmt}")
            times = []
            for _ in range(a.runs):
                dt, p = timed([sprawl, "report", "--store", store, "--format", fmt, "-o", out])
                if p.returncode != 0:
                    sys.exit(f"report {fmt} failed: {p.stderr.decode(errors='replace')}")
                times.append(dt)
            sizes[fmt] = os.path.getsize(out)
            rows.append((f"report --format {fmt}", f"{statistics.median(times):.3f} s",
                         f"{sizes[fmt] / 1e6:.2f} MB"))
        page = os.path.join(work, "report.html")
        with open(page, encoding="utf-8") as f:
            html = f.read()
        secrets_shown = html.count('<tbody class="secret">')
        timing = os.path.join(work, "timing.html")
        with open(timing, "w", encoding="utf-8") as f:
            f.write(html.replace("</body></html>",
                                 "<script>document.body.offsetHeight;document.title='T'+"
                                 "performance.now().toFixed(1);</script></body></html>"))
        blank = os.path.join(work, "blank.html")
        with open(blank, "w") as f:
            f.write("<!DOCTYPE html><title>x</title><p>x</p>")
        profile = os.path.join(work, "profile")
        if os.path.exists(a.chromium):
            walls, blanks, parsed = [], [], []
            for _ in range(a.runs):
                dt, _ = timed(chromium_cmd(a.chromium, profile, "file://" + blank, ["--dump-dom"]))
                blanks.append(dt)
                dt, _ = timed(chromium_cmd(a.chromium, profile, "file://" + page, ["--dump-dom"]))
                walls.append(dt)
                _, p = timed(chromium_cmd(a.chromium, profile, "file://" + timing, ["--dump-dom"]))
                dom = p.stdout.decode(errors="replace")
                start = dom.find("<title>T")
                if start >= 0:
                    parsed.append(float(dom[start + 8:dom.find("</title>", start)]))
            rows.append(("Chromium --dump-dom, report page", f"{statistics.median(walls):.2f} s", ""))
            rows.append(("Chromium --dump-dom, one-line page", f"{statistics.median(blanks):.2f} s", ""))
            rows.append(("report's share (difference of medians)",
                         f"{statistics.median(walls) - statistics.median(blanks):.2f} s", ""))
            if parsed:
                rows.append(("navigation start → parsed and laid out", f"{statistics.median(parsed):.0f} ms", ""))
            for name, frag in (("list", ""), ("page", "#s-1")):
                shot = os.path.join(work, f"report-{name}.png")
                subprocess.run(chromium_cmd(a.chromium, profile, "file://" + page + frag,
                                            ["--window-size=1366,768", f"--screenshot={shot}"]),
                               capture_output=True)
                rows.append((f"screenshot ({name})", shot, ""))
        print(f"\n{secrets_shown} secrets, {copies} copies (scan into the inventory: {t:.2f} s)\n")
        print("| measurement | time | size |\n|---|---|---|")
        for r in rows:
            print(f"| {r[0]} | {r[1]} | {r[2]} |")
    finally:
        if not a.keep and not a.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
