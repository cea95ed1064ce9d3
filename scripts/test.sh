#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, builds, runs every test
# and the rule examples. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# The git tests build repositories with the git CLI.
if ! command -v git >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq git; else sudo apt-get install -y -qq git; fi
fi
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
cargo build --locked --all-targets
cargo test --locked --all-targets
# Every rule compiles, every example is found and no negative example is.
cargo run --locked --quiet -- rules check
