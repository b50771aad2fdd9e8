#!/usr/bin/env bash
# The burst benchmark of the detect function (BENCHMARKS.md, "Burst"): builds the release
# bootstrap of functions/detect (that package only, not the workspace), then runs the driver
# (tests/src/bin/bench_burst.rs), which plays the Lambda service over the Lambda Runtime API
# against moto_server with a counting proxy in front of it, for a burst in one account and one
# spread over 20 accounts, and prints the figures and the quota table as Markdown.
#
#   scripts/bench-burst.sh [--events N] [--batch N] [--accounts 1,20]
#
# Needs moto_server on PATH (pip install -r scripts/requirements-test.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -p iamwatch-detect
cargo build -p iamwatch-e2e --bin bench-burst
"$target/debug/bench-burst" --detect "$target/release/bootstrap" "$@"
