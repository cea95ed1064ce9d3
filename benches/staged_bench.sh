#!/usr/bin/env bash
# Times `sprawl scan --staged` (the pre-commit hook) on a repository with 100k files and a
# 10-line staged change. Usage: bash benches/staged_bench.sh [DIR] [SPRAWL]
set -euo pipefail
dir=${1:-/tmp/sprawl-staged-bench}
sprawl=${2:-$(pwd)/target/release/sprawl}
if [ ! -d "$dir/.git" ]; then
  rm -rf "$dir" && git init -q -b main "$dir"
  python3 - "$dir" <<'PY'
import subprocess, sys
d = sys.argv[1]
p = subprocess.Popen(["git", "-C", d, "fast-import", "--quiet"], stdin=subprocess.PIPE)
w = p.stdin
w.write(b"commit refs/heads/main\ncommitter Bench <b@example.org> 1600000000 +0000\ndata 5\nfiles\n")
for i in range(100_000):
    body = f"// module {i}\nfn f{i}() -> u32 {{ {i} }}\n".encode()
    w.write(f"M 100644 inline src/m{i // 1000:03}/f{i:06}.rs\n".encode() + b"data %d\n" % len(body) + body + b"\n")
w.write(b"\n")
w.close()
sys.exit(p.wait())
PY
  git -C "$dir" reset -q --hard main
fi
python3 - "$dir" <<'PY'
import sys
p = f"{sys.argv[1]}/src/m042/f042000.rs"
with open(p, "a") as f:
    for i in range(10):
        f.write(f"// change line {i}\n")
PY
git -C "$dir" add src/m042/f042000.rs
for i in 1 2 3 4 5; do
  /usr/bin/time -f "%e s wall, %M KB peak RSS" "$sprawl" scan --staged --no-progress "$dir" > /dev/null
done
git -C "$dir" reset -q --hard main
