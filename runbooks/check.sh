#!/usr/bin/env bash
# Checks of runbooks/: rule runbooks match the rules `iamwatch rules --format json` lists, AWS CLI
# commands match botocore's service models, `iamwatch scan` commands run against events/, links
# resolve, markdown lints clean.
# Runs on a clean clone with CI=true and no stdin; needs PyPI and crates.io (for the CLI build).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "--> runbooks: Python tools (PyPI)"
python3 -m pip install --quiet --disable-pip-version-check -r runbooks/tools/requirements.txt

echo "--> runbooks: unit tests of the checker"
python3 -m unittest discover -s runbooks/tools -p 'test_*.py'

echo "--> runbooks: cargo build -p iamwatch-cli (the checker asks it for the rules, runs its scan)"
cargo build --locked -p iamwatch-cli

echo "--> runbooks: check_runbooks.py"
IAMWATCH_BIN="${CARGO_TARGET_DIR:-target}/debug/iamwatch" python3 runbooks/tools/check_runbooks.py
