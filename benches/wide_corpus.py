#!/usr/bin/env python3
"""Builds the wide recall corpus and measures scanners on it.

    python3 benches/wide_corpus.py build OUT [--sprawl target/release/sprawl]
    python3 benches/wide_corpus.py measure OUT NAME=COMMAND ...   (COMMAND gets {dir} and {out})

`build` takes every built-in rule's examples (generated fakes, see rules/*.toml), asks sprawl
which secret each example holds (`--show-secrets`), and writes that secret again in the ways
developers write settings: .env, exported shell variables, nested YAML, JSON, Python, Go, Java
properties, Terraform, Dockerfile ENV, Kubernetes Secret stringData, .NET appSettings XML and a
GitHub Actions env block, each in its own file, named after the provider as a developer would
name the variable. Every rule's negatives become files that must give nothing. `truth.json`
lists, per file, the secret it holds (or none).

`measure` runs each command over OUT/files and reports file-level recall (a file counts when a
finding's secret overlaps the planted value) and the number of negative files with a finding.
Commands: `sprawl` writes JSONL with `--show-secrets`; gitleaks JSON reports (`Secret`,
`File`) and Betterleaks JSON reports (`findings[].match.value`, `location.path`) are read too.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

RULES = Path(__file__).resolve().parent.parent / "rules"


def words(rule_id: str, provider: str) -> tuple[str, str]:
    """Provider and kind words for variable names: ('datadog', 'app_key') for datadog.app-key."""
    prov = re.sub(r"[^a-z0-9]+", "_", provider.lower()).strip("_") or "app"
    parts = [p for p in rule_id.split(".")[1:] if p not in VARIANT_WORDS] or ["token"]
    kind = parts[-1].replace("-", "_")
    kind = {"pat": "token", "oat": "token"}.get(kind, kind)
    return prov, kind


# Trailing id words that name a variant of a format, not what a developer calls the setting.
VARIANT_WORDS = {"legacy", "live", "test", "sandbox", "production", "development", "long-term",
                 "short-term", "temporary", "other", "classic", "routable", "v2", "user", "account"}

# Rules whose secret is a credential only inside its structure (a URI's password, a DSN, a
# password hash, a Basic header, a constructor's argument, a framework's setting): re-planted
# under another name it would be a different thing, so only their own examples are used.
STRUCTURAL = ("uri.", "weak.", "http.", "cli.", "code.", "sql.", "powershell.", "hash.",
              "htpasswd.", "netrc.", "npm.npmrc", "docker.config", "kubernetes.kubeconfig",
              "sentry.dsn", "deepsource.dsn", "connection-string", "sidekiq.", "nuget.",
              "wordpress.", "aspnet.", "laravel.", "django.", "flask.", "rails.", "symfony.",
              "jwt.signing", "postgres.pgpass", "endpoint-url", ".connection-string",
              "privatekey.", "gcp.service-account")


def camel(*parts: str) -> str:
    out = "".join(p.capitalize() for s in parts for p in s.split("_") if p)
    return out[:1].lower() + out[1:]


def variants(prov: str, kind: str, secret: str) -> dict[str, str]:
    env = f"{prov}_{kind}".upper()
    return {
        ".env": f"{env}={secret}\n",
        "export.sh": f'export {env}="{secret}"\n',
        "nested.yml": f"{prov}:\n  {kind}: \"{secret}\"\n",
        "settings.json": json.dumps({prov: {kind: secret}}, indent=2) + "\n",
        "config.py": f'{env} = "{secret}"\n',
        "creds.go": f'package config\n\nconst {camel(prov, kind)} = "{secret}"\n',
        "app.properties": f"{prov}.{kind.replace('_', '-')}={secret}\n",
        "main.tf": f'variable "{prov}_{kind}" {{\n  default = "{secret}"\n}}\n',
        "Dockerfile": f"FROM alpine:3.20\nENV {env}={secret}\n",
        "secret.yaml": (
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\n"
            f"stringData:\n  {env}: \"{secret}\"\n"
        ),
        "app.config": (
            "<configuration>\n  <appSettings>\n"
            f'    <add key="{camel(prov, kind)[0].upper() + camel(prov, kind)[1:]}" value="{secret}" />\n'
            "  </appSettings>\n</configuration>\n"
        ),
        "deploy.yml": (
            "on: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    env:\n"
            f"      {env}: {secret}\n    steps:\n      - run: ./deploy.sh\n"
        ),
    }


def secrets_of(sprawl: str, text: str, rule_id: str) -> list[str]:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "example.txt"
        p.write_text(text)
        out = subprocess.run(
            [sprawl, "scan", "--no-progress", "--git-history", "none", "--show-secrets",
             "-f", "jsonl", str(p)],
            capture_output=True, text=True,
        ).stdout
    found = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [f["secret"] for f in found if f["rule_id"] == rule_id]


def build(out: Path, sprawl: str) -> None:
    files = out / "files"
    files.mkdir(parents=True, exist_ok=True)
    truth = {}
    n = 0
    for toml in sorted(RULES.glob("*.toml")):
        for rule in tomllib.loads(toml.read_text()).get("rule", []):
            if rule.get("companion_only") or rule.get("weak"):
                continue
            rid = rule["id"]
            prov, kind = words(rid, rule.get("provider", ""))
            for i, ex in enumerate(rule.get("examples", [])):
                n += 1
                name = f"{rid}.ex{i}"
                (files / f"{name}.txt").write_text(ex + "\n")
                found = secrets_of(sprawl, ex, rid)
                truth[f"{name}.txt"] = found[0] if found else None
                if not found or "\n" in found[0] or len(found[0]) > 300:
                    continue
                if rule.get("matcher") == "assignment" or any(m in rid for m in STRUCTURAL):
                    continue  # the value is a credential only where and how it was written
                for suffix, body in variants(prov, kind, found[0]).items():
                    fname = f"{name}{suffix}" if suffix.startswith(".") else f"{name}.{suffix}"
                    (files / fname).write_text(body)
                    truth[fname] = found[0]
            for i, neg in enumerate(rule.get("negatives", [])):
                fname = f"{rid}.neg{i}.txt"
                (files / fname).write_text(neg + "\n")
                truth[fname] = ""
    (out / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True))
    pos = sum(1 for v in truth.values() if v)
    print(f"{out}: {pos} files with a planted secret, "
          f"{sum(1 for v in truth.values() if v == '')} negative files, from {n} examples")


def findings(path: Path) -> dict[str, list[str]]:
    """File name → secrets found, from sprawl JSONL or a gitleaks/betterleaks JSON report."""
    text = path.read_text() if path.exists() else ""
    records = []
    if text.lstrip().startswith("["):
        records = json.loads(text)
    elif text.lstrip().startswith("{") and '"schema_version"' in text[:200]:
        # Betterleaks: {"findings": [{"match": {"value"}, "location": {"path"}}]}
        records = [
            {"File": f.get("location", {}).get("path", ""),
             "Secret": f.get("match", {}).get("value", "")}
            for f in json.loads(text).get("findings", [])
        ]
    else:
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    out: dict[str, list[str]] = {}
    for r in records:
        if "rule_id" in r:
            origin = r.get("origin", {})
            name = origin.get("path") or r.get("path") or ""
            secret = r.get("secret", "")
        else:
            name, secret = r.get("File", ""), r.get("Secret", "")
        out.setdefault(os.path.basename(name), []).append(secret)
    return out


def measure(out: Path, commands: list[str]) -> None:
    truth = json.loads((out / "truth.json").read_text())
    planted = {k: v for k, v in truth.items() if v}
    negatives = [k for k, v in truth.items() if v == ""]
    for spec in commands:
        name, cmd = spec.split("=", 1)
        report = out / f"{name}.report"
        subprocess.run(cmd.format(dir=shlex.quote(str(out / "files")), out=shlex.quote(str(report))),
                       shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        got = findings(report)
        hit = sum(1 for f, s in planted.items()
                  if any(x and (x in s or s in x) for x in got.get(f, [])))
        fp = sum(1 for f in negatives if got.get(f))
        by_kind: dict[str, list[int]] = {}
        for f, s in planted.items():
            m = re.search(r"\.ex\d+\.(.+)$", f)
            kind = "rule example" if m is None or m.group(1) == "txt" else m.group(1)
            ok = any(x and (x in s or s in x) for x in got.get(f, []))
            by_kind.setdefault(kind, [0, 0])
            by_kind[kind][0] += ok
            by_kind[kind][1] += 1
        print(f"{name}: recall {hit}/{len(planted)} = {100 * hit / len(planted):.1f}%, "
              f"negative files flagged {fp}/{len(negatives)}")
        print("   " + ", ".join(f"{k} {100 * a / b:.0f}%" for k, (a, b) in sorted(by_kind.items())))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "build":
        sprawl = "target/release/sprawl"
        if "--sprawl" in sys.argv:
            sprawl = sys.argv[sys.argv.index("--sprawl") + 1]
        build(Path(sys.argv[2]), sprawl)
    elif len(sys.argv) >= 4 and sys.argv[1] == "measure":
        measure(Path(sys.argv[2]), sys.argv[3:])
    else:
        print(__doc__)
        sys.exit(2)
