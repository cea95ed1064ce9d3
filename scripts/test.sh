#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, builds, runs every test
# and the rule examples. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests start for real: git (history tests), docker-registry and skopeo
# (a registry on 127.0.0.1 and pushes into it), openssl and python3 (the registry's token server,
# the HTTPS server playing providers for verification), ssh-keygen (private-key checks),
# chromium (renders the HTML report headless), postgresql (the shared inventory store; the
# tests start their own server with initdb + pg_ctl, the packaged cluster is not used),
# python3-venv (the PyPI tools below).
need=()
command -v git >/dev/null || need+=(git)
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v skopeo >/dev/null || need+=(skopeo)
command -v openssl >/dev/null || need+=(openssl)
command -v python3 >/dev/null || need+=(python3)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v chromium >/dev/null || need+=(chromium)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
python3 -c 'import ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# PyPI tools the tests run for real, in one virtualenv: pre-commit (the hook test) and
# check-jsonschema (action.yml against the published action-metadata schema).
venv=${SPRAWL_TEST_VENV:-$PWD/target/test-venv}
if [ ! -x "$venv/bin/pre-commit" ] || [ ! -x "$venv/bin/check-jsonschema" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check pre-commit check-jsonschema
fi
export SPRAWL_TEST_VENV=$venv
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
cargo build --locked --workspace --all-targets
# Lints are part of the suite: the workspace's [workspace.lints] plus clippy, warnings denied.
cargo clippy --locked --workspace --all-targets -- -D warnings
python3 scripts/module-cycles.py
cargo test --locked --workspace --all-targets
# Every rule compiles, every example is found and no negative example is.
cargo run --locked --quiet -- rules check
