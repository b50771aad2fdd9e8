#!/usr/bin/env bash
# Times `iamwatch inventory check` over synthetic credential reports (scripts/gen_credential_reports.py):
# ACCOUNTS reports of USERS user rows each, every finding printed as JSON Lines; median wall time of 3
# runs, user CPU time and peak RSS (/usr/bin/time). Usage: scripts/bench-inventory.sh [ACCOUNTS] [USERS_PER_ACCOUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
accounts=${1:-100}
users=${2:-5000}
cargo build --quiet --release --locked -p iamwatch-cli
bin="${CARGO_TARGET_DIR:-target}/release/iamwatch"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 scripts/gen_credential_reports.py "$tmp/reports" "$accounts" "$users"
rows=$((accounts * (users + 1)))
size=$(du -sm "$tmp/reports" | cut -f1)
findings=$("$bin" inventory check --as-of 2026-12-01 --format jsonl "$tmp/reports" | wc -l)
echo "$accounts reports, $rows rows, ${size} MiB CSV, $findings findings"
walls=()
for _ in 1 2 3; do
  /usr/bin/time -f '%e %U %M' -o "$tmp/time" "$bin" inventory check --as-of 2026-12-01 --format jsonl \
    "$tmp/reports" >/dev/null
  read -r wall user rss <"$tmp/time"
  walls+=("$wall")
  echo "run: ${wall} s wall, ${user} s user CPU, peak RSS $((rss / 1024)) MiB"
done
median=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n 2p)
echo "median ${median} s: $(python3 -c "print(f'{$rows / $median:,.0f}')") rows/s"
