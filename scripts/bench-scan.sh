#!/usr/bin/env bash
# Scan benchmark: `iamwatch scan` against `gzip -dc` and `jq` over the same synthetic corpus in
# the S3 layout. Usage: scripts/bench-scan.sh [RECORDS] (default 300000). Prints a Markdown table
# for BENCHMARKS.md. Each command runs 3 times; the median wall time is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-300000}
corpus=bench-data/corpus-$records
if [ ! -d "$corpus" ]; then
  python3 scripts/gen_corpus.py "$corpus" --records "$records"
fi
cargo build --quiet --release --locked -p iamwatch-cli
bin="${CARGO_TARGET_DIR:-target}/release/iamwatch"
files=$(find "$corpus" -name '*.json.gz' | wc -l)
gz_bytes=$(find "$corpus" -name '*.json.gz' -print0 | du -cb --files0-from=- | tail -1 | cut -f1)
raw_bytes=$(find "$corpus" -name '*.json.gz' -print0 | xargs -0 cat | gzip -dc | wc -c)

# median of 3 wall times (seconds) of a shell command; the last run's peak RSS (KiB) in $rss
median() {
  local times=() t
  for _ in 1 2 3; do
    t=$( { /usr/bin/time -f '%e %M' bash -c "$1" >/dev/null 2>/dev/null; } 2>&1 | tail -1)
    times+=("${t%% *}")
    rss=${t##* }
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}

gzip_cmd="find $corpus -name '*.json.gz' -print0 | xargs -0 gzip -dc"
scan_cmd="$bin scan --no-progress --format jsonl $corpus"
jq_cmd="find $corpus -name '*.json.gz' -print0 | xargs -0 gzip -dc | jq -c '.Records[] | select(.eventSource == \"iam.amazonaws.com\")'"

t_gzip=$(median "$gzip_cmd"); rss_gzip=$rss
t_scan=$(median "$scan_cmd"); rss_scan=$rss
t_jq=$(median "$jq_cmd"); rss_jq=$rss
findings=$($bin scan --no-progress --format jsonl "$corpus" | wc -l)

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
echo "corpus: $records records in $files files, $((gz_bytes / 1048576)) MiB gzip, $((raw_bytes / 1048576)) MiB JSON; $(nproc) cores; $findings findings"
echo
echo "| command | wall (s, median of 3) | vs gzip -dc | peak RSS (MiB) |"
echo "|---|---|---|---|"
echo "| gzip -dc (all files) | $t_gzip | 1.00 | $((rss_gzip / 1024)) |"
echo "| iamwatch scan --format jsonl | $t_scan | $(ratio "$t_scan" "$t_gzip") | $((rss_scan / 1024)) |"
echo "| gzip -dc \| jq select IAM | $t_jq | $(ratio "$t_jq" "$t_gzip") | $((rss_jq / 1024)) |"
