#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, builds, runs every test
# and the rule examples. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Nothing outside cargo is needed yet: git/image/database tests will add their packages here.
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
cargo build --locked --all-targets
cargo test --locked --all-targets
# Every rule compiles, every example is found and no negative example is.
cargo run --locked --quiet -- rules check
