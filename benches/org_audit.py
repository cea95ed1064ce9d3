#!/usr/bin/env python3
"""Org-wide audit: N generated repositories and K image archives, audited by 8 concurrent shards
into one PostgreSQL inventory, then reported in every format and re-audited after 1% changed.

The organisation (deterministic for a given --seed and --repos/--images):
  * repositories of varied size, written with `git fast-import` into bare repositories:
    ~86% small (1-10 commits, 3-8 files), ~12% medium (50-200 commits, 20-60 files), ~2% large
    (500-900 commits, 150-300 files); each commit edits 1-3 files, some add a file;
  * fake credentials generated at run time (AWS key pairs, GitHub classic PATs with a valid
    checksum, Stripe live keys, Slack bot tokens, passwords in postgres:// URLs):
      - a pool of SHARED secrets (N/20, at least 8), each planted in 3-10 repositories, in a
        file still at the tip (present) or only in history (added, then deleted or replaced by
        a `${VAR}` reference in a later commit),
      - per-repository secrets (0-3 each, present or history-only);
  * some repositories with `.github/CODEOWNERS` (@org/team owners) and `.github/workflows/*.yml`
    using `${{ secrets.NAME }}` (a third of those also carry a shared secret as a literal `env:`);
  * K image archives (docker-save / OCI layout, built with benches/make_image.py's helpers): a
    base layer common to all, an app layer with a credentials file the last layer deletes
    (hidden), a last layer with a visible one, and a secret in the config's `Env`; all three
    are shared secrets that also live in repositories.

Then:
  1. `sprawl audit --targets FILE --shard i/S -j T --store postgres://…` for i in 0..S at once
     (default S=8, T=1): wall time of the whole audit, each shard's time, targets and findings;
     every shard must exit 0 or 1 (findings) and report no target with errors;
  2. database size (pg_database_size) and row counts (secrets, occurrences, scans, seen_objects),
     and the number of distinct secrets in the inventory against the number planted;
  3. `sprawl report --store URL --format md|csv|json|html -o FILE`: median of 3 runs, output size;
  4. a re-audit with nothing changed (the fixed cost of a re-audit);
  5. 1% of the repositories changed (at least 2): half get a commit with a new secret, the others
     a commit editing a file; re-audit with S shards, wall time, and the database again.
A Markdown table of all figures is printed and, with --json-out, written as JSON.

Usage: benches/org_audit.py [--repos 1000] [--images 5] [--shards 8] [--threads-per-shard 1]
                            [--sprawl PATH] [--workdir DIR] [--keep] [--seed 1]
                            [--json-out FILE] [--gen-jobs J] [--pg-bin DIR] [--generate-only]
PostgreSQL is started with initdb + pg_ctl on 127.0.0.1 (as the `postgres` user when run as
root), binaries from --pg-bin, /usr/lib/postgresql/*/bin or PATH, and is always stopped at the
end. The work directory (a temp dir by default) is removed at the end unless --keep.
"""

import argparse
import concurrent.futures
import io
import json
import os
import pwd
import random
import re
import shutil
import socket
import statistics
import string
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # importing the sibling benches leaves no __pycache__ behind
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from audit_bench import GIT_ENV, KEY  # noqa: E402
import make_image as mi  # noqa: E402

FORMATS = ("md", "csv", "json", "html")
KINDS = ("aws", "github", "stripe", "slack", "postgres")
ORG = "acme-platform"
T0 = 1_700_000_000

# Fragments the scanner's placeholder filter treats as "not a real credential" (see
# crates/detect/src/placeholder.rs): a random token that happens to spell one is drawn again, so
# every planted secret is one the scanner must report.
PLACEHOLDER = ("example", "changeme", "replaceme", "yourkey", "yourtoken", "yoursecret",
               "yourapi", "notareal", "placeholder", "redacted", "insert", "dummy", "sample",
               "fake", "lorem", "qwerty", "123456", "abcdef", "abcxyz", "todo", "fixme",
               "0000000", "1111111", "your", "xxxx")

WORDS = ("account", "order", "invoice", "customer", "report", "cache", "queue", "worker", "route",
         "handler", "metric", "event", "batch", "record", "ledger", "shipment", "catalog", "price",
         "session_id", "profile", "audit", "window", "bucket", "stream", "schema", "index", "page",
         "filter", "render", "parse", "merge", "split", "score", "weight", "limit", "offset")


# --------------------------------------------------------------------------------------------
# Fake credentials


class Fakes(mi.Tokens):
    """make_image's token shapes from a given PRNG, plus Stripe and postgres:// passwords; drawn
    again when a token contains a placeholder fragment."""

    def __init__(self, rng):
        self.rng = rng
        self.choice = rng.choice

    def _clean(self, make):
        while True:
            v = make()
            low = v.lower()
            if not any(p in low for p in PLACEHOLDER):
                return v

    def secret(self, kind, tag):
        """A planted secret: {'kind', 'values': [...], 'pairs': [(NAME, text)]}."""
        up = tag.upper().replace("-", "_")
        if kind == "aws":
            kid = self._clean(self.aws_key_id)
            sk = self._clean(self.aws_secret)
            return {"kind": kind, "values": [kid, sk],
                    "pairs": [(f"{up}_AWS_ACCESS_KEY_ID", kid), (f"{up}_AWS_SECRET_ACCESS_KEY", sk)]}
        if kind == "github":
            v = self._clean(self.github_pat)
            return {"kind": kind, "values": [v], "pairs": [(f"{up}_GITHUB_TOKEN", v)]}
        if kind == "stripe":
            v = self._clean(lambda: "sk_live_" + self._draw(mi.ALNUM, self.rng.randint(24, 40)))
            return {"kind": kind, "values": [v], "pairs": [(f"{up}_STRIPE_SECRET_KEY", v)]}
        if kind == "slack":
            v = self._clean(self.slack_bot)
            return {"kind": kind, "values": [v], "pairs": [(f"{up}_SLACK_BOT_TOKEN", v)]}
        if kind == "postgres":
            pw = self._clean(lambda: self._draw(mi.ALNUM, self.rng.randint(16, 28)))
            user = "svc_" + tag.replace("-", "_")
            host = f"pg-{self.rng.randint(1, 40)}.prod.nimbusops.io"
            return {"kind": kind, "values": [pw],
                    "pairs": [(f"{up}_DATABASE_URL", f"postgres://{user}:{pw}@{host}:5432/{tag.replace('-', '_')}")]}
        raise ValueError(kind)


# --------------------------------------------------------------------------------------------
# Repositories


def filler_line(rng, ext):
    a, b = rng.choice(WORDS), rng.choice(WORDS)
    n, m = rng.randint(1, 9999), rng.randint(1, 99)
    if ext == "py":
        return rng.choice((f"def {a}_{b}_{n}(value):\n", f"    {a} = load_{b}(value, {m})\n",
                           f"    return {a} * {m} + {n}\n", f"# {a} {b} handling, see #{n}\n"))
    if ext == "go":
        return rng.choice((f"func {a.title()}{b.title()}{n}(v int) int {{\n", f"\t{a} := v * {m}\n",
                           f"\treturn {a} + {n}\n}}\n", f"// {a} then {b} ({n})\n"))
    if ext == "js":
        return rng.choice((f"export function {a}{b.title()}{n}(v) {{\n", f"  const {a} = v.{b} * {m};\n",
                           f"  return {a} + {n};\n}}\n", f"// {a} before {b}, issue {n}\n"))
    return rng.choice((f"- {a} {b}: step {n}\n", f"The {a} of each {b} is read {m} times.\n",
                       f"## {a.title()} {b} {n}\n", "\n"))


def source_file(rng, path):
    ext = path.rsplit(".", 1)[-1]
    return [filler_line(rng, ext) for _ in range(rng.randint(20, 120))]


def edit_file(rng, path, lines):
    ext = path.rsplit(".", 1)[-1]
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        if r < 0.5 and lines:
            lines[rng.randrange(len(lines))] = filler_line(rng, ext)
        elif r < 0.85 or len(lines) < 10:
            lines.insert(rng.randint(0, len(lines)), filler_line(rng, ext))
        else:
            del lines[rng.randrange(len(lines))]
    if len(lines) > 300:
        i = rng.randrange(len(lines) - 50)
        del lines[i:i + 50]


def new_source_path(rng, taken):
    while True:
        d = rng.choice(("src", "lib", "internal", "pkg", "web", "docs", "scripts"))
        ext = {"docs": "md", "web": "js", "pkg": "go", "internal": "go"}.get(d, "py")
        p = f"{d}/{rng.choice(WORDS)}_{rng.choice(WORDS)}_{rng.randint(1, 999)}.{ext}"
        if p not in taken:
            return p


def plant_text(secret, style):
    if style == "env":
        return "".join(f"{k}={v}\n" for k, v in secret["pairs"])
    if style == "yaml":
        return "settings:\n" + "".join(f"  {k}: \"{v}\"\n" for k, v in secret["pairs"])
    return "".join(f"{k} = \"{v}\"\n" for k, v in secret["pairs"])  # py


def reference_text(secret, style):
    """What a cleaned-up file holds once the secret is removed from it."""
    if style == "env":
        return "".join(f"{k}=${{{k}}}\n" for k, _ in secret["pairs"])
    if style == "yaml":
        return "settings:\n" + "".join(f"  {k}: \"${{{k}}}\"\n" for k, _ in secret["pairs"])
    return "import os\n" + "".join(f"{k} = os.environ[\"{k}\"]\n" for k, _ in secret["pairs"])


def plant_path(style, tag, j):
    return {"env": f"config/{tag}-{j}.env", "yaml": f"deploy/{tag}-{j}.yaml",
            "py": f"src/settings_{tag.replace('-', '_')}_{j}.py"}[style]


def codeowners(rng):
    teams = rng.sample(("platform", "backend", "frontend", "security", "data", "sre", "payments"), 4)
    return (f"# Code owners of this repository\n*       @{ORG}/{teams[0]}\n"
            f"/src/   @{ORG}/{teams[1]} @{rng.choice(('alice', 'bob', 'chen', 'dana'))}\n"
            f"*.go    @{ORG}/{teams[2]}\n/config/ @{ORG}/{teams[3]} @{ORG}/security\n"
            f"/.github/ @{ORG}/platform\n")


def workflow(rng, literal, planted_names=()):
    """A GitHub Actions workflow consuming three repository secrets, plus (as teams do) the
    names of the secrets planted in the repository's files: the inventory joins those."""
    refs = rng.sample(("NPM_TOKEN", "DEPLOY_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                       "SLACK_WEBHOOK", "DOCKERHUB_PASSWORD", "SENTRY_AUTH"), 3)
    refs += [n for n in planted_names if n not in refs]
    env = ""
    if literal is not None:
        env = "    env:\n" + "".join(f"      {k}: {v}\n" for k, v in literal["pairs"])
    steps = "".join(f"          {r}: ${{{{ secrets.{r} }}}}\n" for r in refs)
    return (f"name: ci\non:\n  push:\n    branches: [main]\n  pull_request:\n"
            f"jobs:\n  build:\n    runs-on: ubuntu-latest\n{env}"
            f"    steps:\n      - uses: actions/checkout@v4\n      - name: test\n        run: make test\n"
            f"      - name: deploy\n        if: github.ref == 'refs/heads/main'\n        env:\n{steps}"
            f"        run: make deploy\n")


class Repo:
    def __init__(self, i, path, kind, rng):
        self.i = i
        self.name = os.path.basename(path)
        self.path = path
        self.kind = kind
        self.commits = {"small": (1, 10), "medium": (50, 200), "large": (500, 900)}[kind]
        self.commits = rng.randint(*self.commits)
        self.files = rng.randint(*{"small": (3, 8), "medium": (20, 60), "large": (150, 300)}[kind])
        self.plants = []          # (secret, mode 'present'|'history', style)
        self.ci_literal = None    # secret written as a literal in the workflow's env
        self.has_codeowners = False
        self.has_workflow = False
        self.blob_bytes = 0
        self.seconds = 0.0


def commit_header(out, msg, ts, author, parent=None):
    out.append(f"commit refs/heads/main\nauthor {author} {ts} +0000\n"
               f"committer {author} {ts} +0000\n".encode())
    m = msg.encode()
    out.append(b"data %d\n%s\n" % (len(m), m))
    if parent:
        out.append(f"from {parent}\n".encode())


def put(out, path, text):
    data = text.encode()
    out.append(f"M 100644 inline {path}\n".encode())
    out.append(b"data %d\n%s\n" % (len(data), data))
    return len(data)


def fast_import(path, chunks_iter):
    """Feeds a fast-import stream (an iterator of lists of bytes, one per commit) to git."""
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen(["git", "-C", path, "fast-import", "--quiet", "--done"],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err, env=GIT_ENV)
        try:
            for chunk in chunks_iter:
                p.stdin.write(b"".join(chunk))
            p.stdin.write(b"done\n")
            p.stdin.close()
        except BrokenPipeError:
            pass
        if p.wait() != 0:
            err.seek(0)
            raise RuntimeError(f"git fast-import failed in {path}:\n{err.read().decode(errors='replace')[-2000:]}")


def build_repo(repo, seed):
    start = time.monotonic()
    rng = random.Random(f"org_audit:{seed}:repo:{repo.i}")
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", repo.path], check=True,
                   capture_output=True, env=GIT_ENV)
    authors = [f"{n} <{n.lower()}@nimbusops.io>" for n in
               rng.sample(("Alice", "Bob", "Chen", "Dana", "Emil", "Farah", "Goran", "Hana"), 3)]
    c = repo.commits
    # Which commit adds (and, for history-only ones, removes) each planted secret.
    actions = {}
    for j, (secret, mode, style) in enumerate(repo.plants):
        path = plant_path(style, secret["tag"], j)
        if mode == "history" and c >= 2:
            a = rng.randrange(c - 1)
            b = rng.randint(a + 1, c - 1)
            actions.setdefault(a, []).append(("add", path, plant_text(secret, style)))
            if rng.random() < 0.5:
                actions.setdefault(b, []).append(("del", path, None))
            else:
                actions.setdefault(b, []).append(("add", path, reference_text(secret, style)))
        else:
            actions.setdefault(rng.randrange(c), []).append(("add", path, plant_text(secret, style)))

    def commits():
        files = {}
        while len(files) < repo.files:
            p = new_source_path(rng, files)
            files[p] = source_file(rng, p)
        for k in range(c):
            out = []
            commit_header(out, "initial import" if k == 0 else f"{rng.choice(WORDS)}: update {rng.choice(WORDS)}",
                          T0 + repo.i * 7 + k * 600, rng.choice(authors))
            if k == 0:
                out.append(b"deleteall\n")
                repo.blob_bytes += put(out, "README.md", f"# {repo.name}\n\nService of the {ORG} organisation.\n")
                for p, lines in files.items():
                    repo.blob_bytes += put(out, p, "".join(lines))
                if repo.has_codeowners:
                    repo.blob_bytes += put(out, ".github/CODEOWNERS", codeowners(rng))
                if repo.has_workflow:
                    repo.blob_bytes += put(out, ".github/workflows/ci.yml", workflow(
                        rng, repo.ci_literal, [name for s, _, _ in repo.plants[:1] for name, _ in s["pairs"]]))
            else:
                for p in rng.sample(sorted(files), min(len(files), rng.randint(1, 3))):
                    edit_file(rng, p, files[p])
                    repo.blob_bytes += put(out, p, "".join(files[p]))
                if repo.kind != "small" and rng.random() < 0.05:
                    p = new_source_path(rng, files)
                    files[p] = source_file(rng, p)
                    repo.blob_bytes += put(out, p, "".join(files[p]))
            for op, path, text in actions.get(k, ()):
                if op == "del":
                    out.append(f"D {path}\n".encode())
                else:
                    repo.blob_bytes += put(out, path, text)
            out.append(b"\n")
            yield out

    fast_import(repo.path, commits())
    repo.seconds = time.monotonic() - start
    return repo


def plan_org(a, work):
    """Decides sizes, shared and per-repository secrets, CODEOWNERS and workflows."""
    rng = random.Random(f"org_audit:{a.seed}:plan")
    fakes = Fakes(random.Random(f"org_audit:{a.seed}:secrets"))
    n = a.repos
    large = max(1, round(n * 0.02)) if n >= 20 else 0
    medium = max(1, round(n * 0.12)) if n >= 5 else 0
    kinds = ["large"] * large + ["medium"] * medium + ["small"] * (n - large - medium)
    rng.shuffle(kinds)
    repos = [Repo(i, os.path.join(work, "org", f"svc-{i:04}.git"), kinds[i], rng) for i in range(n)]

    planted = {}  # value -> kind: every distinct secret value that is audited somewhere

    def make(kind, tag):
        s = fakes.secret(kind, tag)
        s["tag"] = tag
        for v in s["values"]:
            planted[v] = kind
        return s

    styles = ("env", "yaml", "py")
    shared = [make(KINDS[k % len(KINDS)], f"shared-{k}") for k in range(max(8, n // 20))]
    for s in shared:
        s["repos"] = rng.sample(range(n), min(n, rng.randint(3, 10)))
        for r in s["repos"]:
            repos[r].plants.append((s, "history" if rng.random() < 0.4 else "present", rng.choice(styles)))
    own = 0
    for r in repos:
        for k in range(rng.choice((0, 1, 1, 2, 3))):
            s = make(rng.choice(KINDS), f"{r.name[:8]}-own-{k}")
            r.plants.append((s, "history" if rng.random() < 0.3 else "present", rng.choice(styles)))
            own += 1
    n_owners = max(1, n // 20)
    n_ci = max(1, n // 10)
    for r in rng.sample(repos, min(n, n_owners)):
        r.has_codeowners = True
    for k, r in enumerate(rng.sample(repos, min(n, n_ci))):
        r.has_workflow = True
        if k % 3 == 0:
            r.ci_literal = rng.choice(shared)
    return repos, shared, own, planted, fakes


# --------------------------------------------------------------------------------------------
# Images


def write_image(out, tag, layer_fills, env):
    """A docker-save archive (Docker 25+ layout, as make_image.py writes it) from layer fill
    functions [(fill, created_by)] and config Env entries."""
    out_dir = os.path.dirname(out)
    layers = []
    with open(out, "wb") as out_f, tarfile.open(fileobj=out_f, mode="w|", format=tarfile.PAX_FORMAT) as outer:
        outer.addfile(mi.tar_info("blobs/", tarfile.DIRTYPE, mode=0o755))
        outer.addfile(mi.tar_info("blobs/sha256/", tarfile.DIRTYPE, mode=0o755))
        for fill, created_by in layer_fills:
            path, digest, size, diff_id = mi.build_layer(out_dir, False, fill)
            try:
                mi.add_blob_file(outer, path, digest)
            finally:
                os.unlink(path)
            layers.append((digest, size, diff_id, created_by))
        config = {
            "architecture": "amd64", "os": "linux", "created": mi.CREATED,
            "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", *env],
                       "Cmd": ["python3", "-m", "app"], "WorkingDir": "/opt/app"},
            "rootfs": {"type": "layers", "diff_ids": [d for _, _, d, _ in layers]},
            "history": [{"created": mi.CREATED, "created_by": cb, "comment": "buildkit.dockerfile.v0"}
                        for _, _, _, cb in layers],
        }
        config_bytes, config_digest = mi.json_blob(config)
        manifest = {
            "schemaVersion": 2, "mediaType": mi.OCI_MANIFEST,
            "config": {"mediaType": mi.OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
            "layers": [{"mediaType": mi.OCI_LAYER, "digest": d, "size": s} for d, s, _, _ in layers],
        }
        manifest_bytes, manifest_digest = mi.json_blob(manifest)
        for data, digest in ((config_bytes, config_digest), (manifest_bytes, manifest_digest)):
            outer.addfile(mi.tar_info("blobs/sha256/" + digest[7:], tarfile.REGTYPE, len(data)),
                          io.BytesIO(data))
        name, _, version = tag.rpartition(":")
        mi.add_json(outer, "index.json", {
            "schemaVersion": 2, "mediaType": mi.OCI_INDEX,
            "manifests": [{"mediaType": mi.OCI_MANIFEST, "digest": manifest_digest, "size": len(manifest_bytes),
                           "annotations": {"io.containerd.image.name": f"docker.io/{tag}",
                                           "org.opencontainers.image.ref.name": version}}],
        })
        mi.add_json(outer, "manifest.json", [{"Config": "blobs/sha256/" + config_digest[7:], "RepoTags": [tag],
                                              "Layers": ["blobs/sha256/" + d[7:] for d, _, _, _ in layers]}])
        mi.add_json(outer, "oci-layout", {"imageLayoutVersion": "1.0.0"})
        mi.add_json(outer, "repositories", {name: {version: layers[-1][0][7:]}})
    return len(layers)


def build_images(a, work, shared):
    """K images; each holds three shared secrets: config Env, a hidden layer file, a visible one."""
    rng = random.Random(f"org_audit:{a.seed}:images")
    os.makedirs(os.path.join(work, "images"))
    paths = []

    def base(w):  # identical bytes in every image: one distinct layer
        brng = random.Random(f"org_audit:{a.seed}:base-layer")
        for k in range(40):
            p = f"usr/lib/python3/dist-packages/{WORDS[k % len(WORDS)]}_{k}.py"
            w.add_bytes(p, "".join(source_file(brng, p)).encode())

    for k in range(a.images):
        env_s, hidden_s, live_s = rng.sample(shared, 3)
        irng = random.Random(f"org_audit:{a.seed}:image:{k}")
        tag = f"{ORG}/app-{k}:1.{k}"

        def app(w, irng=irng, hidden_s=hidden_s):
            for j in range(30):
                p = f"opt/app/app/{irng.choice(WORDS)}_{j}.py"
                w.add_bytes(p, "".join(source_file(irng, p)).encode())
            w.add_bytes("opt/app/old-credentials.env", plant_text(hidden_s, "env").encode(), 0o600)

        def last(w, live_s=live_s):
            w.add_bytes("opt/app/.wh.old-credentials.env", b"")
            w.add_bytes("opt/app/config/secrets.env", plant_text(live_s, "env").encode(), 0o600)

        path = os.path.join(work, "images", f"app-{k}.tar")
        write_image(path, tag, [
            (base, "COPY dist-packages /usr/lib/python3/dist-packages # buildkit"),
            (app, "COPY . /opt/app # buildkit"),
            (last, "RUN /bin/sh -c rm /opt/app/old-credentials.env && install -m600 secrets.env /opt/app/config/ # buildkit"),
        ], [f"{name}={v}" for name, v in env_s["pairs"]])
        paths.append(path)
    return paths


# --------------------------------------------------------------------------------------------
# PostgreSQL


def find_pg_bin(explicit):
    need = ("initdb", "pg_ctl", "createdb", "psql")
    cands = []
    if explicit:
        cands.append(explicit)
    root = "/usr/lib/postgresql"
    if os.path.isdir(root):
        def ver(v):
            return [int(x) if x.isdigit() else 0 for x in re.split(r"[.]", v)]
        cands += [os.path.join(root, v, "bin") for v in sorted(os.listdir(root), key=ver, reverse=True)]
    which = shutil.which("pg_ctl")
    if which:
        cands.append(os.path.dirname(os.path.realpath(which)))
    for d in cands:
        if all(os.access(os.path.join(d, t), os.X_OK) for t in need):
            return d
    sys.exit("PostgreSQL server binaries not found (need " + ", ".join(need) + " in --pg-bin, "
             "/usr/lib/postgresql/*/bin or PATH): install them, e.g. `apt-get install postgresql`")


class PgServer:
    """A throwaway PostgreSQL on 127.0.0.1, trust authentication, role `sprawl`."""

    def __init__(self, work, bindir):
        self.bin = bindir
        self.dir = os.path.join(work, "pg")
        self.data = os.path.join(self.dir, "data")
        self.started = False
        self.root = os.getuid() == 0

    def start(self, max_connections):
        if self.root:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                sys.exit("running as root: initdb refuses root, and there is no `postgres` user to run it as")
            if not shutil.which("runuser"):
                sys.exit("running as root: `runuser` is needed to run initdb/pg_ctl as `postgres`")
        os.makedirs(self.dir)
        if self.root:
            shutil.chown(self.dir, "postgres", "postgres")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.run("initdb", "-A", "trust", "-U", "sprawl", "--no-sync", "-E", "UTF8", "-D", self.data)
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.dir} "
                f"-c max_connections={max_connections}")
        self.started = True  # from here on, always try to stop it
        self.run("pg_ctl", "-w", "-t", "60", "-D", self.data, "-o", opts, "-l",
                 os.path.join(self.dir, "log"), "start")
        self.version = self.psql("postgres", "SHOW server_version")

    def run(self, tool, *args):
        cmd = [os.path.join(self.bin, tool), *args]
        if self.root and tool in ("initdb", "pg_ctl"):
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            log = ""
            logf = os.path.join(self.dir, "log")
            if tool == "pg_ctl" and os.path.exists(logf):
                with open(logf, errors="replace") as f:
                    log = "\nserver log:\n" + f.read()[-2000:]
            raise RuntimeError(f"{tool} failed ({p.returncode}): {p.stderr.strip() or p.stdout.strip()}{log}")
        return p.stdout

    def psql(self, db, sql):
        return self.run("psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "sprawl", "-d", db, "-c", sql).strip()

    def create(self, name):
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "sprawl", name)
        return f"postgres://sprawl@127.0.0.1:{self.port}/{name}"

    def stop(self):
        if self.started:
            self.started = False
            self.run("pg_ctl", "-m", "fast", "-w", "-D", self.data, "stop")


def db_figures(pg, db):
    out = {"database_bytes": int(pg.psql(db, "SELECT pg_database_size(current_database())"))}
    for t in ("secrets", "occurrences", "scans", "seen_objects"):
        out[f"{t}_rows"] = int(pg.psql(db, f"SELECT count(*) FROM {t}"))
    out["secrets_present"] = int(pg.psql(db, "SELECT count(DISTINCT secret_id) FROM occurrences WHERE present = 1"))
    out["occurrences_present"] = int(pg.psql(db, "SELECT count(*) FROM occurrences WHERE present = 1"))
    return out


# --------------------------------------------------------------------------------------------
# Audit and reports

SUMMARY = re.compile(r"audit: (\d+) target\(s\).*?, (\d+) finding\(s\), (\d+) target\(s\) with errors")
RUNNING = []  # shard processes still running, killed if we stop early


def run_shards(a, sprawl, targets, store, logdir, label):
    os.makedirs(logdir, exist_ok=True)
    procs = []
    start = time.monotonic()
    for i in range(a.shards):
        log = open(os.path.join(logdir, f"{label}-shard{i}.log"), "w+")
        p = subprocess.Popen(
            [sprawl, "audit", "--no-progress", "--fingerprint-key", KEY, "--targets", targets,
             "--shard", f"{i}/{a.shards}", "-j", str(a.threads_per_shard), "--store", store],
            stdout=log, stderr=subprocess.STDOUT)
        RUNNING.append(p)
        procs.append((i, p, log, time.monotonic()))
    results = [None] * a.shards

    def wait(i, p, log, t):
        p.wait()
        results[i] = {"shard": i, "seconds": time.monotonic() - t, "exit": p.returncode}

    threads = [threading.Thread(target=wait, args=x) for x in procs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    failed = []
    for i, p, log, _ in procs:
        RUNNING.remove(p)
        log.seek(0)
        text = log.read()
        log.close()
        r = results[i]
        m = None
        for m in SUMMARY.finditer(text):
            pass
        r["targets"], r["findings"], r["errors"] = (int(x) for x in m.groups()) if m else (None, None, None)
        if r["exit"] not in (0, 1) or m is None or r["errors"]:
            why = "no `audit:` summary line" if m is None else f"{r['errors']} target(s) with errors"
            failed.append(f"shard {i}/{a.shards} ({label}) exited {r['exit']}, {why}; "
                          f"its output ends with:\n{text[-3000:]}")
    if failed:
        sys.exit("audit failed:\n" + "\n".join(failed))
    return wall, results


def time_reports(a, sprawl, store, outdir):
    os.makedirs(outdir, exist_ok=True)
    res = {}
    for fmt in FORMATS:
        out = os.path.join(outdir, f"report.{fmt}")
        times = []
        for _ in range(a.report_runs):
            t = time.monotonic()
            p = subprocess.run([sprawl, "report", "--store", store, "--format", fmt, "-o", out],
                               capture_output=True, text=True)
            times.append(time.monotonic() - t)
            if p.returncode != 0:
                sys.exit(f"sprawl report --format {fmt} failed ({p.returncode}):\n{p.stderr[-3000:]}")
        res[fmt] = {"median_seconds": statistics.median(times), "runs": times, "bytes": os.path.getsize(out)}
    return res


def change_repos(a, repos, fakes, planted):
    """1% of the repositories (at least 2): half a commit with a new secret, half an edit."""
    rng = random.Random(f"org_audit:{a.seed}:change")
    chosen = rng.sample(repos, min(len(repos), max(2, round(len(repos) * 0.01))))
    new_secrets = 0
    for k, repo in enumerate(chosen):
        out = []
        ts = T0 + 10_000_000 + k
        if k % 2 == 0:
            s = fakes.secret(rng.choice(KINDS), f"{repo.name[:8]}-new")
            for v in s["values"]:
                planted[v] = s["kind"]
            new_secrets += 1
            commit_header(out, "add deployment settings", ts, "Zoe <zoe@nimbusops.io>", "refs/heads/main^0")
            put(out, f"config/{repo.name[:8]}-new.env", plant_text(s, "env"))
        else:
            names = subprocess.run(["git", "-C", repo.path, "ls-tree", "-r", "--name-only", "main"],
                                   check=True, capture_output=True, text=True).stdout.split()
            path = rng.choice([p for p in names if p.startswith(("src/", "lib/", "docs/", "README"))] or names)
            old = subprocess.run(["git", "-C", repo.path, "cat-file", "blob", f"main:{path}"],
                                 check=True, capture_output=True, text=True).stdout
            lines = old.splitlines(keepends=True)
            edit_file(rng, path, lines)
            commit_header(out, f"{rng.choice(WORDS)}: tweak {rng.choice(WORDS)}", ts,
                          "Zoe <zoe@nimbusops.io>", "refs/heads/main^0")
            put(out, path, "".join(lines))
        out.append(b"\n")
        fast_import(repo.path, [out])
    return len(chosen), new_secrets


# --------------------------------------------------------------------------------------------
# Output


def time_peers(a, sprawl, repos, planted):
    """One run each over every repository: `sprawl scan` (no store) and Kingfisher default and
    --turbo (`--no-validate --no-update-check`), under /usr/bin/time for peak memory; the share
    of planted values each reports (sprawl with --show-secrets, Kingfisher's snippets)."""
    paths = [r.path for r in repos]
    out_dir = tempfile.mkdtemp(prefix="peers-")
    runs = {
        "sprawl scan": [sprawl, "scan", *paths, "--no-progress", "--format", "json", "--show-secrets",
                        "-o", os.path.join(out_dir, "sprawl.json")],
        "kingfisher": [a.kingfisher, "scan", *paths, "--no-validate", "--no-update-check", "--format",
                       "json", "--output", os.path.join(out_dir, "kingfisher.json")],
        "kingfisher --turbo": [a.kingfisher, "scan", *paths, "--no-validate", "--no-update-check", "--turbo",
                               "--format", "json", "--output", os.path.join(out_dir, "kingfisher-turbo.json")],
    }
    result = {}
    try:
        for name, cmd in runs.items():
            t = time.monotonic()
            p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True)
            wall = time.monotonic() - t
            rss_kb = int((p.stderr.strip().splitlines() or ["0"])[-1] or 0)
            found = set()
            path = cmd[cmd.index("-o") + 1] if "-o" in cmd else cmd[cmd.index("--output") + 1]
            try:
                with open(path) as f:
                    text = f.read()
                if name == "sprawl scan":
                    found = {x.get("secret") for x in json.loads(text)["findings"]}
                else:
                    for line in text.splitlines():
                        d = json.loads(line) if line.strip() else {}
                        for x in (d.get("findings") if isinstance(d, dict) else None) or []:
                            found.add(x["finding"]["snippet"])
            except (OSError, ValueError, KeyError) as e:
                print(f"warning: {name}: cannot read its output: {e}", file=sys.stderr)
            result[name] = {"wall_seconds": wall, "peak_rss_bytes": rss_kb * 1024,
                            "planted_found": len(set(planted) & found), "planted": len(planted)}
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    return result


def fmt_s(x):
    return f"{x:.2f} s"


def fmt_b(n):
    for unit, k in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= k:
            return f"{n / k:.1f} {unit}"
    return f"{n} B"


def shard_line(results):
    ts = [r["seconds"] for r in results]
    return f"min {min(ts):.2f} / median {statistics.median(ts):.2f} / max {max(ts):.2f} s"


def print_tables(R):
    g, au = R["org"], R["audit"]
    rows = [
        ("repositories (small / medium / large)",
         f"{g['repos']} ({g['small']} / {g['medium']} / {g['large']})"),
        ("commits / blob bytes written", f"{g['commits']} / {fmt_b(g['blob_bytes'])}"),
        ("git objects on disk", fmt_b(g["repos_disk_bytes"])),
        ("repos with CODEOWNERS / workflows (literal secret)",
         f"{g['codeowners']} / {g['workflows']} ({g['workflow_literals']})"),
        ("images (size)", f"{g['images']} ({fmt_b(g['images_bytes'])})"),
        ("shared secrets (plantings) / per-repo secrets",
         f"{g['shared_secrets']} ({g['shared_plantings']}) / {g['own_secrets']}"),
        ("distinct secret values planted", str(g["planted_values"])),
        ("generation time (repos + images)",
         f"{fmt_s(g['generation_seconds'])} ({fmt_s(g['repos_seconds'])} + {fmt_s(g['images_seconds'])}, {g['gen_jobs']} jobs)"),
        (f"audit, {au['shards']} shards x -j {au['threads_per_shard']} (wall)", fmt_s(au["wall_seconds"])),
        ("  per shard", shard_line(au["shards_detail"])),
        ("  findings (sum over shards)", str(sum(r["findings"] for r in au["shards_detail"]))),
        ("database size", fmt_b(au["db"]["database_bytes"])),
        ("rows: secrets / occurrences", f"{au['db']['secrets_rows']} / {au['db']['occurrences_rows']}"),
        ("rows: scans / seen_objects", f"{au['db']['scans_rows']} / {au['db']['seen_objects_rows']}"),
        ("secrets still present / present copies",
         f"{au['db']['secrets_present']} / {au['db']['occurrences_present']}"),
        ("inventory secrets = planted", f"{au['db']['secrets_rows']} vs {g['planted_values']}: "
                                        f"{'yes' if au['matches_plants'] else 'NO'}"),
    ]
    for fmt, r in R["reports"].items():
        rows.append((f"report --format {fmt} (median of {len(r['runs'])})", f"{fmt_s(r['median_seconds'])}, {fmt_b(r['bytes'])}"))
    un, re_ = R["reaudit_unchanged"], R["reaudit_changed"]
    rows += [
        ("re-audit, nothing changed (wall)", f"{fmt_s(un['wall_seconds'])} ({un['wall_seconds'] / au['wall_seconds']:.1%} of the first)"),
        ("changed repositories (new secret / edit)",
         f"{re_['changed_repos']} ({re_['new_secrets']} / {re_['changed_repos'] - re_['new_secrets']})"),
        ("re-audit after the change (wall)", f"{fmt_s(re_['wall_seconds'])} ({re_['wall_seconds'] / au['wall_seconds']:.1%} of the first)"),
        ("  per shard", shard_line(re_["shards_detail"])),
        ("database size after", fmt_b(re_["db"]["database_bytes"])),
        ("rows after: secrets / occurrences", f"{re_['db']['secrets_rows']} / {re_['db']['occurrences_rows']}"),
        ("inventory secrets = planted, after", f"{re_['db']['secrets_rows']} vs {re_['planted_values']}: "
                                               f"{'yes' if re_['matches_plants'] else 'NO'}"),
    ]
    print(f"\n## Org audit: {g['repos']} repositories + {g['images']} images, "
          f"{au['shards']} shards into PostgreSQL {R['postgres_version']}\n")
    print("| figure | value |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    print("\n| shard | targets | findings | first audit | re-audit, unchanged | re-audit, after change |")
    print("|---|---|---|---|---|---|")
    for r, u, c in zip(au["shards_detail"], un["shards_detail"], re_["shards_detail"]):
        print(f"| {r['shard']} | {r['targets']} | {r['findings']} | {r['seconds']:.2f} s "
              f"| {u['seconds']:.2f} s | {c['seconds']:.2f} s |")
    if R.get("peers"):
        print(f"\n| the {g['repos']} repositories, no inventory, one run | wall | peak RSS | planted values found |")
        print("|---|---|---|---|")
        for name, p in R["peers"].items():
            print(f"| {name} | {p['wall_seconds']:.2f} s | {fmt_b(p['peak_rss_bytes'])} "
                  f"| {p['planted_found']} / {p['planted']} |")


def dir_bytes(path):
    total = 0
    for root, _, names in os.walk(path):
        for n in names:
            try:
                total += os.lstat(os.path.join(root, n)).st_size
            except OSError:
                pass
    return total


# --------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repos", type=int, default=1000)
    ap.add_argument("--images", type=int, default=5)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--threads-per-shard", type=int, default=1, help="-j of each shard")
    ap.add_argument("--report-runs", type=int, default=3)
    ap.add_argument("--sprawl", default="target/release/sprawl")
    ap.add_argument("--workdir", help="where to generate (must be empty or absent; default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (and its repositories)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json-out", help="also write every figure as JSON to this file")
    ap.add_argument("--gen-jobs", type=int, default=os.cpu_count() or 2, help="repositories generated at once")
    ap.add_argument("--pg-bin", help="directory of initdb, pg_ctl, createdb, psql")
    ap.add_argument("--generate-only", action="store_true", help="stop after generating the organisation")
    ap.add_argument("--kingfisher", help="Kingfisher binary: also time it (and a plain sprawl scan) over the "
                    "same repositories")
    a = ap.parse_args()
    if a.repos < 1 or a.shards < 1 or a.images < 0 or a.report_runs < 1:
        sys.exit("--repos, --shards and --report-runs must be at least 1, --images at least 0")
    sprawl = os.path.abspath(a.sprawl)
    if not os.access(sprawl, os.X_OK):
        sys.exit(f"no sprawl binary at {sprawl} (build it, or pass --sprawl PATH)")
    if not shutil.which("git"):
        sys.exit("git not found")
    pg_bin = None if a.generate_only else find_pg_bin(a.pg_bin)

    if a.workdir:
        work = os.path.abspath(a.workdir)
        if os.path.exists(work) and os.listdir(work):
            sys.exit(f"--workdir {work} is not empty")
        os.makedirs(work, exist_ok=True)
    else:
        work = tempfile.mkdtemp(prefix="sprawl-org-audit-")
    os.chmod(work, 0o755)
    pg = None
    R = {"sprawl": sprawl, "seed": a.seed, "workdir": work}
    try:
        # 1. The organisation.
        t = time.monotonic()
        repos, shared, own, planted, fakes = plan_org(a, work)
        os.makedirs(os.path.join(work, "org"))
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.gen_jobs)) as ex:
            for f in concurrent.futures.as_completed([ex.submit(build_repo, r, a.seed) for r in repos]):
                f.result()
        repos_s = time.monotonic() - t
        t = time.monotonic()
        images = build_images(a, work, shared) if a.images else []
        images_s = time.monotonic() - t
        targets = os.path.join(work, "targets.txt")
        with open(targets, "w") as f:
            f.write(f"# {ORG}: {len(repos)} repositories, {len(images)} images\n")
            f.write("".join(r.path + "\n" for r in repos) + "".join(p + "\n" for p in images))
        by_kind = {k: [r for r in repos if r.kind == k] for k in ("small", "medium", "large")}
        R["org"] = {
            "repos": len(repos), **{k: len(v) for k, v in by_kind.items()},
            "commits": sum(r.commits for r in repos), "blob_bytes": sum(r.blob_bytes for r in repos),
            "repos_disk_bytes": dir_bytes(os.path.join(work, "org")),
            "codeowners": sum(r.has_codeowners for r in repos),
            "workflows": sum(r.has_workflow for r in repos),
            "workflow_literals": sum(r.ci_literal is not None for r in repos),
            "images": len(images), "images_bytes": sum(os.path.getsize(p) for p in images),
            "shared_secrets": len(shared), "shared_plantings": sum(len(s["repos"]) for s in shared),
            "own_secrets": own, "planted_values": len(planted),
            "generation_seconds": repos_s + images_s, "repos_seconds": repos_s, "images_seconds": images_s,
            "gen_jobs": a.gen_jobs,
            "repo_seconds_by_kind": {k: {"repos": len(v), "sum_seconds": sum(r.seconds for r in v),
                                         "commits": sum(r.commits for r in v),
                                         "blob_bytes": sum(r.blob_bytes for r in v)}
                                     for k, v in by_kind.items()},
        }
        g = R["org"]
        print(f"generated {g['repos']} repositories ({g['small']} small, {g['medium']} medium, {g['large']} large; "
              f"{g['commits']} commits, {fmt_b(g['blob_bytes'])} of blobs) in {repos_s:.1f} s and "
              f"{len(images)} images in {images_s:.1f} s; {len(planted)} distinct secret values planted; "
              f"targets in {targets}", file=sys.stderr)
        if a.generate_only:
            for k, v in g["repo_seconds_by_kind"].items():
                if v["repos"]:
                    print(f"  {k}: {v['repos']} repos, {v['sum_seconds'] / v['repos']:.3f} s each "
                          f"(summed over {a.gen_jobs} jobs), {v['commits'] / v['repos']:.0f} commits each", file=sys.stderr)
            if a.json_out:
                with open(a.json_out, "w") as f:
                    json.dump(R, f, indent=1)
            return

        # 2. The audit, 8 shards at once into one PostgreSQL.
        pg = PgServer(work, pg_bin)
        pg.start(max(40, 4 * a.shards + 10))
        R["postgres_version"] = pg.version
        store = pg.create("inventory")
        logs = os.path.join(work, "logs")
        print(f"PostgreSQL {pg.version} on 127.0.0.1:{pg.port}; auditing {len(repos) + len(images)} targets "
              f"with {a.shards} shards", file=sys.stderr)
        wall, shards = run_shards(a, sprawl, targets, store, logs, "audit")
        db = db_figures(pg, "inventory")
        R["audit"] = {"shards": a.shards, "threads_per_shard": a.threads_per_shard, "wall_seconds": wall,
                      "shards_detail": shards, "db": db, "matches_plants": db["secrets_rows"] == len(planted)}
        print(f"audit: {wall:.2f} s; {db['secrets_rows']} secrets, {db['occurrences_rows']} occurrences, "
              f"{fmt_b(db['database_bytes'])}", file=sys.stderr)

        # 3. Reports.
        R["reports"] = time_reports(a, sprawl, store, os.path.join(work, "reports"))

        # 3b. Peers over the same repositories, no inventory: Kingfisher (default, --turbo) and
        # a plain `sprawl scan`; wall time, peak memory, planted values found.
        if a.kingfisher:
            R["peers"] = time_peers(a, sprawl, repos, planted)

        # 4. Re-audit with nothing changed, then after 1% of the repositories changed.
        wall, shards = run_shards(a, sprawl, targets, store, logs, "reaudit-unchanged")
        R["reaudit_unchanged"] = {"wall_seconds": wall, "shards_detail": shards}
        changed, new_secrets = change_repos(a, repos, fakes, planted)
        wall, shards = run_shards(a, sprawl, targets, store, logs, "reaudit-changed")
        db = db_figures(pg, "inventory")
        R["reaudit_changed"] = {"changed_repos": changed, "new_secrets": new_secrets, "wall_seconds": wall,
                                "shards_detail": shards, "db": db, "planted_values": len(planted),
                                "matches_plants": db["secrets_rows"] == len(planted)}

        print_tables(R)
        if a.json_out:
            with open(a.json_out, "w") as f:
                json.dump(R, f, indent=1)
                f.write("\n")
        if not (R["audit"]["matches_plants"] and R["reaudit_changed"]["matches_plants"]):
            sys.exit("the inventory's distinct secrets do not match the secrets planted (see the table)")
    finally:
        for p in RUNNING:
            if p.poll() is None:
                p.kill()
                p.wait()
        if pg is not None:
            try:
                pg.stop()
            except Exception as e:  # noqa: BLE001 -- report, then still clean up
                print(f"warning: could not stop PostgreSQL: {e}", file=sys.stderr)
        if a.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
