#!/usr/bin/env bash
# Audit of N generated repositories (default 50) into one SQLite inventory: one worker, then
# four shards at once, then one shard re-run; prints wall times. Usage:
#   bash benches/audit_bench.sh [N] [path/to/sprawl]
set -euo pipefail
N=${1:-50}
SPRAWL=${2:-target/release/sprawl}
SPRAWL=$(readlink -f "$SPRAWL")
WORK=$(mktemp -d)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT; echo "work: $WORK"
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
for i in $(seq -w 1 "$N"); do
  r="$WORK/repo$i"
  git init -q -b main "$r"
  for c in $(seq 1 20); do
    head -c 18000 /dev/urandom | base64 -w 76 > "$r/notes$c.txt"
    if [ "$c" = 5 ]; then echo "DB_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')Zx9" > "$r/.env"; fi
    git -C "$r" add -A && git -C "$r" commit -q -m "commit $c"
  done
  echo "$r" >> "$WORK/targets.txt"
done
t() { local s=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; echo "$(echo "$(date +%s.%N) - $s" | bc)"; }
echo "repositories: $N x 20 commits"
echo "one worker:          $(t "$SPRAWL" audit --no-progress --targets "$WORK/targets.txt" --store "$WORK/one.db") s"
s=$(date +%s.%N)
for k in 0 1 2 3; do "$SPRAWL" audit --no-progress -j 1 --targets "$WORK/targets.txt" --shard "$k/4" --store "$WORK/four.db" > /dev/null 2>&1 & done
wait
echo "4 shards at once:    $(echo "$(date +%s.%N) - $s" | bc) s"
echo "re-run of shard 2/4: $(t "$SPRAWL" audit --no-progress --targets "$WORK/targets.txt" --shard 2/4 --store "$WORK/four.db") s"
for db in one four; do
  echo "$db.db: $("$SPRAWL" report --store "$WORK/$db.db" --format csv | tail -n +2 | wc -l) copies"
done
