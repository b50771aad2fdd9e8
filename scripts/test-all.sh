#!/usr/bin/env bash
# The whole test suite: what CI runs and what a developer runs before pushing.
# Installs what the tests need (Python tools, npm packages), then runs every check.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# Checks of the other parts; each area owns its script. A script of this list that is missing or
# lost its executable bit fails the run before anything else runs: a check that silently does not
# run is worse than a red one.
checks=(scripts/check-asff.sh scripts/check-ocsf.sh scripts/check-org-snapshot.sh scripts/check-athena-sql.sh runbooks/check.sh cdk/ci.sh)
for check in "${checks[@]}"; do
  if [ ! -f "$check" ]; then
    echo "FAILED: $check does not exist (it is in the list of checks of scripts/test-all.sh)" >&2
    exit 1
  fi
  if [ ! -x "$check" ]; then
    echo "FAILED: $check is not executable; run: chmod +x $check (and commit the mode)" >&2
    exit 1
  fi
done

step "tools (PyPI: moto server, boto3/botocore models, cfn-lint, py-ocsf-models, sqlglot, duckdb)"
python3 -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt

step "chromium (Debian's; the inventory report's browser test opens the page in it)"
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
chromium --version

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p iamwatch-cli --features aws --all-targets --locked -- -D warnings

step "cargo test (unit, golden, end-to-end against moto)"
cargo test --workspace --locked
# `scan s3://` as the binary runs it against moto (the CLI's aws feature).
cargo test -p iamwatch-cli --features aws --locked --test s3
# The detect bootstrap's cold-start and peak-RSS measurement, ignored by default (its figures are
# for a release build): here on the debug build, for its assertions (5 cold starts, each answering
# a batch of 10 against moto with no failed message), not its timings.
cargo test -p iamwatch-detect --locked --test bootstrap -- --ignored --nocapture

for check in "${checks[@]}"; do
  step "$check"
  "$check"
done

step "all checks passed"
