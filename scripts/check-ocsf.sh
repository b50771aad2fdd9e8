#!/usr/bin/env bash
# Checks that `iamwatch scan --format ocsf` output is valid OCSF Detection Findings (py-ocsf-models,
# see scripts/validate_ocsf.py), over the sample events and the real captures, and `iamwatch inventory
# check --format ocsf` over the sample credential reports; first checks that the
# validator rejects broken findings.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/validate_ocsf.py --self-test
cargo build --quiet --locked -p iamwatch-cli
bin="${CARGO_TARGET_DIR:-target}/debug/iamwatch"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" scan --format ocsf --policy examples/policy.toml --org examples/org.json events/ >"$tmp/all.jsonl"
"$bin" scan --format ocsf events/real >"$tmp/real.jsonl"
reports=$(ls events/inventory/*.csv | grep -v '/malformed\.csv$')
# shellcheck disable=SC2086
"$bin" inventory check --format ocsf --policy examples/policy.toml --org examples/org.json \
  --as-of 2026-12-01 $reports >"$tmp/inventory.jsonl"
test -s "$tmp/inventory.jsonl"
python3 scripts/validate_ocsf.py "$tmp/all.jsonl" "$tmp/real.jsonl" "$tmp/inventory.jsonl"
