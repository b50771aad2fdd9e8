#!/usr/bin/env bash
# Checks of runbooks/: rule runbooks match the rule ids, AWS CLI commands match botocore's service
# models, `iamwatch scan` commands run against events/, links resolve, markdown lints clean.
# Runs on a clean clone with CI=true and no stdin; needs PyPI (and crates.io for the CLI build).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "--> runbooks: Python tools (PyPI)"
python3 -m pip install --quiet --disable-pip-version-check -r runbooks/tools/requirements.txt

echo "--> runbooks: unit tests of the checker"
python3 -m unittest discover -s runbooks/tools -p 'test_*.py'

if [ "$(python3 runbooks/tools/check_runbooks.py --scan-status)" = yes ]; then
  echo "--> runbooks: cargo build -p iamwatch-cli (for the iamwatch scan commands)"
  cargo build --locked -p iamwatch-cli
else
  echo "!!! runbooks: crates/cli/src/main.rs has no scan subcommand yet:" \
       "the iamwatch scan commands of the runbooks are NOT run" >&2
fi

echo "--> runbooks: check_runbooks.py"
python3 runbooks/tools/check_runbooks.py
