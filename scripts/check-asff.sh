#!/usr/bin/env bash
# Checks that `iamwatch scan --format asff` output is valid BatchImportFindings input
# (botocore's Security Hub model), over the sample events, the real captures and the goldens; and
# that `iamwatch inventory check --format asff` output is too, over the sample credential reports.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --locked -p iamwatch-cli
bin="${CARGO_TARGET_DIR:-target}/debug/iamwatch"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" scan --format asff --policy examples/policy.toml --org examples/org.json events/ >"$tmp/all.json"
"$bin" scan --format asff events/real >"$tmp/real.json"
# Every sample report but the malformed one (which exits 2 by design; its golden is checked below).
reports=$(ls events/inventory/*.csv | grep -v '/malformed\.csv$')
# shellcheck disable=SC2086
"$bin" inventory check --format asff --policy examples/policy.toml --org examples/org.json \
  --as-of 2026-12-01 $reports >"$tmp/inventory.json"
# The healthy account's golden holds no finding by design: nothing to validate there.
goldens=$(ls events/expected/*.asff | grep -v '/inventory-healthy\.asff$')
# shellcheck disable=SC2086
python3 scripts/validate_asff.py "$tmp/all.json" "$tmp/real.json" "$tmp/inventory.json" $goldens
