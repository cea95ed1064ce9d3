#!/usr/bin/env bash
# Regenerates the documentation made from the binary: docs/rules.md and docs/man/*.1.
# tests/e2e/docs.rs fails when they are stale.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --quiet
rm -rf docs/man
target/debug/sprawl rules list --format md > docs/rules.md
target/debug/sprawl man --dir docs/man
echo "docs/rules.md and docs/man/ regenerated"
