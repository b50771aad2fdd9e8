#!/usr/bin/env bash
# Scan benchmark: `iamwatch scan` against `gzip -dc` (and once against `gzip -dc | jq`) over the
# same synthetic corpus in the S3 layout, with the floor of any scan beside it (every file
# inflated by libdeflate on 2 threads and its records counted: crates/core/benches/inflate_floor.rs).
#
# Usage: scripts/bench-scan.sh [RECORDS] [ROUNDS]   (defaults 300000 and 5)
#
# Each round runs gzip -dc, the scan on 2 threads and on 1 and the floor, one after the other, so that each
# ratio compares runs made under the same load; the table gives the median wall time with the
# spread (min-max) over the rounds, the median of the per-round ratios, the median CPU time
# (user + system) and the highest peak RSS. The load average is printed before and after: on a
# busy machine the wall times say more about the load than about the scan, the CPU times less.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-300000}
rounds=${2:-5}
corpus=bench-data/corpus-$records
if [ ! -d "$corpus" ]; then
  python3 scripts/gen_corpus.py "$corpus" --records "$records"
fi
cargo build --quiet --release --locked -p iamwatch-cli
bin="${CARGO_TARGET_DIR:-target}/release/iamwatch"
floor_bin=$(cargo bench --locked -p iamwatch-core --bench inflate_floor --no-run 2>&1 |
  sed -n 's/.*Executable .*(\(.*inflate_floor-[0-9a-f]*\)).*/\1/p' | tail -1)
files=$(find "$corpus/" -name '*.json.gz' | wc -l)
gz_bytes=$(find "$corpus/" -name '*.json.gz' -print0 | du -cb --files0-from=- | tail -1 | cut -f1)
raw_bytes=$(find "$corpus/" -name '*.json.gz' -print0 | xargs -0 cat | gzip -dc | wc -c)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

gzip_cmd="find $corpus/ -name '*.json.gz' -print0 | xargs -0 gzip -dc"
scan_cmd="$bin scan --no-progress --format jsonl $corpus"
jq_cmd="$gzip_cmd | jq -c '.Records[] | select(.eventSource == \"iam.amazonaws.com\")'"

# One run of a shell command: "wall-seconds cpu-seconds peak-rss-KiB".
run() {
  local out
  out=$(mktemp)
  /usr/bin/time -f '%e %U %S %M' -o "$out" bash -c "$1 >/dev/null 2>/dev/null"
  tail -1 "$out" | awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }'
  rm -f "$out"
}

declare -A wall cpu rss ratio
for _ in $(seq "$rounds"); do
  read -r gw gc gr < <(run "$gzip_cmd")
  read -r sw sc sr < <(run "$scan_cmd")
  read -r s1w s1c s1r < <(run "$scan_cmd --threads 1")
  read -r fw fc fr < <(run "$floor_bin $PWD/$corpus 2 1")
  wall[gzip]+="$gw " cpu[gzip]+="$gc " rss[gzip]+="$gr "
  wall[scan]+="$sw " cpu[scan]+="$sc " rss[scan]+="$sr "
  wall[scan1]+="$s1w " cpu[scan1]+="$s1c " rss[scan1]+="$s1r "
  ratio[scan]+="$(python3 -c "print($sw / $gw)") "
  wall[floor]+="$fw " cpu[floor]+="$fc " rss[floor]+="$fr "
  ratio[scan1]+="$(python3 -c "print($s1w / $gw)") "
  ratio[floor]+="$(python3 -c "print($fw / $gw)") "
done
read -r jw jc jr < <(run "$jq_cmd")
findings=$($bin scan --no-progress --format jsonl "$corpus" | wc -l)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# "median (min-max)" / median / max of a list of numbers.
spread() { python3 -c "import statistics as s, sys; v = [float(x) for x in sys.argv[1:]]; print(f'{s.median(v):.2f} ({min(v):.2f}-{max(v):.2f})')" $1; }
median() { python3 -c "import statistics as s, sys; print(f'{s.median(float(x) for x in sys.argv[1:]):.${2:-2}f}')" $1; }
most() { python3 -c "import sys; print(max(int(x) for x in sys.argv[1:]) // 1024)" $1; }
gzip_wall=$(median "${wall[gzip]}" 3)

echo "corpus: $records records in $files files, $((gz_bytes / 1048576)) MiB gzip, $((raw_bytes / 1048576)) MiB JSON" \
  "(ratio $(python3 -c "print(f'{$raw_bytes / $gz_bytes:.2f}')"):1); $(nproc) cores; $findings findings"
echo "load average (1, 5, 15 min): $load_before before, $load_after after; $rounds rounds"
echo
echo "| command | wall (s): median (min-max) of $rounds | vs gzip -dc: median of per-round ratios (min-max) | CPU (s, user+sys), median | peak RSS (MiB) |"
echo "|---|---|---|---|---|"
echo "| gzip -dc (all files) | $(spread "${wall[gzip]}") | 1.00 | $(median "${cpu[gzip]}") | $(most "${rss[gzip]}") |"
echo "| iamwatch scan --format jsonl (2 threads) | $(spread "${wall[scan]}") | **$(spread "${ratio[scan]}")** | $(median "${cpu[scan]}") | $(most "${rss[scan]}") |"
echo "| iamwatch scan --format jsonl --threads 1 | $(spread "${wall[scan1]}") | $(spread "${ratio[scan1]}") | $(median "${cpu[scan1]}") | $(most "${rss[scan1]}") |"
echo "| floor: libdeflate inflate + record count, 2 threads (inflate_floor) | $(spread "${wall[floor]}") | $(spread "${ratio[floor]}") | $(median "${cpu[floor]}") | $(most "${rss[floor]}") |"
echo "| gzip -dc \| jq select IAM (1 run) | $jw | $(python3 -c "print(f'{$jw / $gzip_wall:.2f}')") (vs median gzip) | $jc | $((jr / 1024)) |"
