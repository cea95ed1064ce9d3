#!/usr/bin/env python3
"""Writes a user rule file of N prefixed rules, for the rule-count benchmark in BENCHMARKS.md.

    python3 benches/many_rules.py OUT_DIR [N=5000]
    sprawl scan --rules OUT_DIR ...
"""

import sys
from pathlib import Path

out = Path(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
out.mkdir(parents=True, exist_ok=True)
with open(out / "many.toml", "w") as f:
    for i in range(n):
        f.write(
            f"[[rule]]\nid = 'many.r{i}'\nname = 'r{i}'\nprovider = 'Many'\n"
            f"pattern = '''\\b(?P<secret>zq{i}x_[0-9A-Za-z]{{32}})\\b'''\n"
            f"keywords = ['zq{i}x_']\nconfidence = 'high'\nseverity = 'high'\n\n"
        )
print(f"{out / 'many.toml'}: {n} rules")
