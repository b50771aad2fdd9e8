#!/usr/bin/env bash
# The whole test suite: what CI runs and what a developer runs before pushing.
# Installs what the tests need (Python tools, npm packages), then runs every check.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "tools (PyPI: moto server, boto3/botocore models, cfn-lint)"
python3 -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p iamwatch-cli --features aws --all-targets --locked -- -D warnings

step "cargo test (unit, golden, end-to-end against moto)"
cargo test --workspace --locked

# Checks of the other parts; each area owns its script.
for check in scripts/check-asff.sh scripts/check-org-snapshot.sh runbooks/check.sh cdk/ci.sh; do
  if [ -x "$check" ]; then
    step "$check"
    "$check"
  fi
done

step "all checks passed"
