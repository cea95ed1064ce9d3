#!/usr/bin/env bash
# The action's scan step. Reads the inputs from INPUT_* variables (set by action.yml) and the
# run from the GITHUB_* variables Actions sets: scans the pull request's commits
# (base..head), the pushed commits (before..after), or the whole history (other events, a new
# branch, or `full: true`); writes SARIF and a Markdown job summary; sets the outputs
# `findings`, `failing` and `sarif-file`; exits 1 when a new finding fails under `fail-on`,
# 2 when sprawl could not scan everything.
set -uo pipefail

sprawl=${SPRAWL_BIN:-sprawl}
cd "${GITHUB_WORKSPACE:-$PWD}" || exit 2
path=${INPUT_PATH:-.}
sarif=${INPUT_SARIF_FILE:-sprawl.sarif}
fail_on=${INPUT_FAIL_ON:-findings}
case "$fail_on" in
  findings | verified | never | critical | high | medium | low) ;;
  access-admin | access-can-write | access-read-only) ;;
  *) echo "::error title=sprawl::fail-on must be findings, verified, never, critical, high, medium, low, access-admin, access-can-write or access-read-only (got '$fail_on')"; exit 2 ;;
esac
tmp=$(mktemp -d "${RUNNER_TEMP:-/tmp}/sprawl.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
zero=0000000000000000000000000000000000000000

# A field of the event payload by dotted path, or empty.
event_field() {
  [ -n "${GITHUB_EVENT_PATH:-}" ] && [ -f "$GITHUB_EVENT_PATH" ] || return 0
  python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print(v if isinstance(v, str) else "")' "$GITHUB_EVENT_PATH" "$1"
}

# Shallow checkouts lack the range's ends: fetch them.
have_commits() {
  local c
  for c in "$@"; do
    git -C "$path" cat-file -e "$c^{commit}" 2>/dev/null \
      || git -C "$path" fetch --no-tags --quiet origin "$c" \
      || { echo "::warning title=sprawl::commit $c is not available; scanning the whole history"; return 1; }
  done
}

args=(scan "$path" --no-progress --format json --output "$tmp/findings.json"
  --write "sarif=$sarif" --write "md=$tmp/summary.md" --exit-code 0)
scope="the whole history of $path"
case "${GITHUB_EVENT_NAME:-}" in
  pull_request | pull_request_target)
    base=$(event_field pull_request.base.sha)
    head=$(event_field pull_request.head.sha)
    if [ -n "$base" ] && [ -n "$head" ] && have_commits "$base" "$head"; then
      args+=(--range "$base..$head")
      scope="the pull request's commits (${base:0:12}..${head:0:12})"
    fi
    ;;
  push)
    before=$(event_field before)
    after=$(event_field after)
    if [ "${INPUT_FULL:-false}" != true ] && [ -n "$before" ] && [ "$before" != "$zero" ] \
      && [ -n "$after" ] && have_commits "$before" "$after"; then
      args+=(--range "$before..$after")
      scope="the pushed commits (${before:0:12}..${after:0:12})"
    fi
    ;;
esac
[ -n "${INPUT_BASELINE:-}" ] && args+=(--baseline "$INPUT_BASELINE")
[ -n "${INPUT_CONFIG:-}" ] && args+=(--config "$INPUT_CONFIG")
[ "${INPUT_VERIFY:-false}" = true ] && args+=(--verify)
# Gating on what a live secret reaches needs its blast radius (and so verification).
case "$fail_on" in
  access-*) [ "${INPUT_VERIFY:-false}" = true ] || args+=(--verify); args+=(--blast-radius) ;;
esac

echo "sprawl ${args[*]}"
"$sprawl" "${args[@]}"
code=$?

# Count the findings, and the ones that fail under fail-on; annotate those on the diff.
read -r findings failing < <(python3 - "$tmp/findings.json" "$fail_on" <<'PY'
import json, sys
try:
    doc = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print(0, 0)
    sys.exit()
rank = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
access_rank = {"identity-only": 0, "read-only": 1, "can-write": 2, "admin": 3}
mode = sys.argv[2]
def fails(f):
    if mode == "never":
        return False
    if mode == "findings":
        return True
    if mode == "verified":
        return (f.get("verification") or {}).get("status") == "live"
    if mode.startswith("access-"):
        level = ((f.get("verification") or {}).get("access") or {}).get("level")
        return level is not None and access_rank[level] >= access_rank[mode[len("access-"):]]
    return rank.get(f.get("severity"), 0) >= rank[mode]
found = doc.get("findings", [])
bad = [f for f in found if fails(f)]
for f in bad[:50]:
    msg = f"{f['rule_name']} ({f['rule_id']}): {f['preview']}".replace("%", "%25").replace("\n", "%0A")
    print(f"::error file={f['path']},line={f['line']},title=sprawl::{msg}", file=sys.stderr)
print(len(found), len(bad))
PY
)

{
  echo "## sprawl: ${findings:-0} new finding(s)"
  echo
  echo "Scanned $scope. Fail on: \`$fail_on\`; ${failing:-0} finding(s) fail the job."
  echo
  [ -s "$tmp/summary.md" ] && cat "$tmp/summary.md"
} >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
{
  echo "findings=${findings:-0}"
  echo "failing=${failing:-0}"
  echo "sarif-file=$sarif"
} >> "${GITHUB_OUTPUT:-/dev/null}"

if [ "$code" -ge 2 ]; then
  echo "::error title=sprawl::sprawl could not scan everything (exit $code); see the log"
  exit 2
fi
if [ "${failing:-0}" -gt 0 ]; then
  echo "::error title=sprawl::${failing} new finding(s) fail the job (fail-on: $fail_on)"
  exit 1
fi
exit 0
