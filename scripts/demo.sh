#!/usr/bin/env bash
# The local demo, no AWS account needed: starts moto, creates a small organization, sends the
# sample events of events/ through EventBridge, runs the detect and ticket handlers (Jira and
# Slack are local stand-ins) and prints the findings and tickets. See docs/pipeline.md.
#   scripts/demo.sh        # findings and tickets
#   scripts/demo.sh -v     # plus the handlers' JSON logs on stderr
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v moto_server >/dev/null 2>&1; then
  echo "moto_server not found; installing the pinned test tools (scripts/requirements-test.txt)" >&2
  python3 -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
fi
exec cargo run --quiet -p iamwatch-e2e --bin demo -- "$@"
