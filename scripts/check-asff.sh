#!/usr/bin/env bash
# Checks that `iamwatch scan --format asff` output is valid BatchImportFindings input
# (botocore's Security Hub model), over the sample events, the real captures and the goldens.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --locked -p iamwatch-cli
bin="${CARGO_TARGET_DIR:-target}/debug/iamwatch"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" scan --format asff --policy examples/policy.toml --org examples/org.json events/ >"$tmp/all.json"
"$bin" scan --format asff events/real >"$tmp/real.json"
python3 scripts/validate_asff.py "$tmp/all.json" "$tmp/real.json" events/expected/*.asff
