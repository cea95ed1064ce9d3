#!/usr/bin/env bash
# Builds sprawl from the action's own source into $SPRAWL_ROOT (restored by actions/cache),
# unless the cached binary was built from exactly this source; puts it on PATH for later steps.
set -euo pipefail
root=${SPRAWL_ROOT/#\~/$HOME}
src=${SPRAWL_ACTION_PATH:?}
stamp=$(cd "$src" && find Cargo.toml Cargo.lock src crates rules -type f 2>/dev/null | LC_ALL=C sort \
  | xargs sha256sum | sha256sum | cut -d' ' -f1)
if [ -x "$root/bin/sprawl" ] && [ "$(cat "$root/source-hash" 2>/dev/null)" = "$stamp" ]; then
  echo "sprawl: cached build of this source"
else
  command -v cargo >/dev/null || { echo "::error::sprawl: cargo is needed to build the action (use a runner with Rust)"; exit 2; }
  cargo install --locked --quiet --path "$src" --root "$root" --force
  echo "$stamp" > "$root/source-hash"
fi
echo "$root/bin" >> "${GITHUB_PATH:-/dev/null}"
"$root/bin/sprawl" --version
