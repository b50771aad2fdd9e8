#!/usr/bin/env bash
# Benchmark of `iamwatch inventory sweep` against moto: ACCOUNTS accounts x USERS users, one
# sweep at CONCURRENCY, wall time and peak RSS of the sweep (/usr/bin/time), AWS requests per
# account by operation (counted by the fault proxy). See BENCHMARKS.md, "Inventory sweep".
#
# Usage: scripts/bench-sweep.sh [ACCOUNTS] [USERS] [CONCURRENCY]   (default 200 50 8)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p iamwatch-cli --features aws
cargo build -q -p iamwatch-e2e --bin bench_sweep
target="${CARGO_TARGET_DIR:-target}"
"$target/debug/bench_sweep" "$target/debug/iamwatch" "${1:-200}" "${2:-50}" "${3:-8}" 2> >(grep -v '"level"' >&2)
