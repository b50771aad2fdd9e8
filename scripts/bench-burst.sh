#!/usr/bin/env bash
# The burst benchmark of the detect and ticket functions (BENCHMARKS.md, "Burst"): builds the
# release binaries of functions/detect (`bootstrap`) and functions/ticket (`iamwatch-ticket`),
# those two packages only, not the workspace, then runs the driver
# (tests/src/bin/bench_burst.rs), which plays the Lambda service over the Lambda Runtime API
# against moto_server with a counting proxy in front of it, for a burst in one account and one
# spread over 20 accounts: detect drains the events queue, then what reached the tickets queue
# goes to the ticket function (against Jira and Slack test servers), and it prints the figures
# of both phases and the quota table as Markdown.
#
#   scripts/bench-burst.sh [--events N] [--batch N] [--accounts 1,20]
#
# The two binaries have different names in target/release, so neither build overwrites the
# other's; should both ever be named `bootstrap`, the first would have to be copied aside first.
#
# Needs moto_server on PATH (pip install -r scripts/requirements-test.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -p iamwatch-detect
cargo build --release -p iamwatch-ticket
cargo build -p iamwatch-e2e --bin bench-burst
"$target/debug/bench-burst" --detect "$target/release/bootstrap" \
  --ticket "$target/release/iamwatch-ticket" "$@"
