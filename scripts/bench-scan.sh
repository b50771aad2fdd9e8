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
files=$(find "$corpus/" -name '*.json.gz' | wc -l)
gz_bytes=$(find "$corpus/" -name '*.json.gz' -print0 | du -cb --files0-from=- | tail -1 | cut -f1)
raw_bytes=$(find "$corpus/" -name '*.json.gz' -print0 | xargs -0 cat | gzip -dc | wc -c)

# "median-wall-seconds peak-rss-KiB" of 3 runs of a shell command (RSS of the median run)
measure() {
  local runs=() out
  out=$(mktemp)
  for _ in 1 2 3; do
    /usr/bin/time -f '%e %M' -o "$out" bash -c "$1 >/dev/null 2>/dev/null"
    runs+=("$(tail -1 "$out")")
  done
  rm -f "$out"
  printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p
}

gzip_cmd="find $corpus/ -name '*.json.gz' -print0 | xargs -0 gzip -dc"
scan_cmd="$bin scan --no-progress --format jsonl $corpus"
jq_cmd="find $corpus/ -name '*.json.gz' -print0 | xargs -0 gzip -dc | jq -c '.Records[] | select(.eventSource == \"iam.amazonaws.com\")'"

read -r t_gzip rss_gzip < <(measure "$gzip_cmd")
read -r t_scan rss_scan < <(measure "$scan_cmd")
read -r t_scan1 rss_scan1 < <(measure "$scan_cmd --threads 1")
read -r t_jq rss_jq < <(measure "$jq_cmd")
findings=$($bin scan --no-progress --format jsonl "$corpus" | wc -l)

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
echo "corpus: $records records in $files files, $((gz_bytes / 1048576)) MiB gzip, $((raw_bytes / 1048576)) MiB JSON; $(nproc) cores; $findings findings"
echo
echo "| command | wall (s, median of 3) | vs gzip -dc | peak RSS (MiB) |"
echo "|---|---|---|---|"
echo "| gzip -dc (all files) | $t_gzip | 1.00 | $((rss_gzip / 1024)) |"
echo "| iamwatch scan --format jsonl (2 threads) | $t_scan | $(ratio "$t_scan" "$t_gzip") | $((rss_scan / 1024)) |"
echo "| iamwatch scan --format jsonl --threads 1 | $t_scan1 | $(ratio "$t_scan1" "$t_gzip") | $((rss_scan1 / 1024)) |"
echo "| gzip -dc \| jq select IAM | $t_jq | $(ratio "$t_jq" "$t_gzip") | $((rss_jq / 1024)) |"
