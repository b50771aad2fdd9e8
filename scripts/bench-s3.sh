#!/usr/bin/env bash
# S3 scan benchmark: `iamwatch scan s3://...` against copying the same objects down
# (`aws s3 cp --recursive`) and scanning them locally, over an organization trail generated in
# moto's S3 (records from scripts/gen_corpus.py's generator). Two cases: the whole trail, and
# two days of it (the flags prune the listing; `aws s3 cp --exclude/--include` still lists
# everything). moto is one Python process serving every request: the figures measure moto as
# much as iamwatch, and compare the two ways of reading, not S3's speed.
#
# Usage: scripts/bench-s3.sh [ACCOUNTS] [REGIONS] [DAYS] [FILES_PER_DAY] [RECORDS_PER_FILE]
# (defaults 4 3 14 4 250); IAMWATCH_BIN=path times that binary instead of building. Needs moto_server, boto3 and the aws CLI
# (pip install -r scripts/requirements-test.txt boto3 awscli). Prints a Markdown table for
# BENCHMARKS.md; each command runs 3 times, the median wall time is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
accounts=${1:-4}
regions=${2:-3}
days=${3:-14}
per_day=${4:-4}
per_file=${5:-250}

# IAMWATCH_BIN: a built binary to time instead (e.g. to try the script on a debug build).
if [ -n "${IAMWATCH_BIN:-}" ]; then
  bin=$(realpath "$IAMWATCH_BIN")
else
  cargo build --quiet --release --locked -p iamwatch-cli --features aws
  bin="$(realpath "${CARGO_TARGET_DIR:-target}")/release/iamwatch"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
work=$(mktemp -d)
moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null || true; rm -rf "$work"' EXIT
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
for _ in $(seq 100); do
  curl -sf "$AWS_ENDPOINT_URL/moto-api/data.json" >/dev/null && break
  sleep 0.1
done

# The organization trail: ACCOUNTS x REGIONS x DAYS x FILES_PER_DAY objects from 2026-11-01.
python3 - "$accounts" "$regions" "$days" "$per_day" "$per_file" <<'EOF'
import gzip, json, random, sys
sys.path.insert(0, "scripts")
import boto3
from botocore.config import Config
import gen_corpus

accounts, regions, days, per_day, per_file = map(int, sys.argv[1:])
accts = [f"{100000000000 + 111111111 * i:012d}" for i in range(accounts)]
regs = ["us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2", "eu-central-1", "sa-east-1"][:regions]
s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
s3.create_bucket(Bucket="bench-trail")
r = random.Random(7)
n = stored = 0
for acct in accts:
    for region in regs:
        for day in range(1, days + 1):
            for f in range(per_day):
                hh, mm = (f * 24 // per_day), 5
                t = f"2026-11-{day:02d}T{hh:02d}:{mm:02d}:00Z"
                body = gzip.compress(json.dumps({"Records": [gen_corpus.record(r, acct, region, t) for _ in range(per_file)]},
                                                separators=(",", ":")).encode(), compresslevel=6)
                key = (f"AWSLogs/o-abcdefghij/{acct}/CloudTrail/{region}/2026/11/{day:02d}/"
                       f"{acct}_CloudTrail_{region}_202611{day:02d}T{hh:02d}{mm:02d}Z_{n:08x}.json.gz")
                s3.put_object(Bucket="bench-trail", Key=key, Body=body)
                n += 1
                stored += len(body)
print(f"trail: {n} objects, {n * per_file} records, {stored / 1048576:.1f} MiB gzip, "
      f"{accounts} accounts x {regions} regions x {days} days x {per_day} files", file=sys.stderr)
EOF

# "median-wall-seconds peak-rss-KiB" of 3 runs of a shell command (RSS of the median run)
measure() {
  local runs=() out
  out=$(mktemp)
  for _ in 1 2 3; do
    rm -rf "$work/down"
    /usr/bin/time -f '%e %M' -o "$out" bash -c "$1 >/dev/null 2>/dev/null"
    runs+=("$(tail -1 "$out")")
  done
  rm -f "$out"
  printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p
}

url=s3://bench-trail/
two="--since 2026-11-02 --until 2026-11-03"
s3_all="$bin scan --no-progress --format jsonl $url"
s3_two="$bin scan --no-progress --format jsonl $two $url"
cp_all="aws s3 cp --quiet --recursive ${url}AWSLogs/ $work/down/ && $bin scan --no-progress --format jsonl $work/down"
cp_two="aws s3 cp --quiet --recursive --exclude '*' --include '*/2026/11/02/*' --include '*/2026/11/03/*' ${url}AWSLogs/ $work/down/ && $bin scan --no-progress --format jsonl $work/down"
cp_only="aws s3 cp --quiet --recursive ${url}AWSLogs/ $work/down/"

# Each way once, unmeasured, failing loudly: the findings must be the same.
f_s3=$($s3_all | wc -l)
rm -rf "$work/down"; bash -c "$cp_only"
f_local=$($bin scan --no-progress --format jsonl "$work/down" | wc -l)
f_two=$($s3_two | wc -l)
if [ "$f_s3" != "$f_local" ]; then
  echo "FAILED: scan s3:// found $f_s3 findings, the local scan of the same objects $f_local" >&2
  exit 1
fi

read -r t_s3_all rss_s3_all < <(measure "$s3_all")
read -r t_cp_all rss_cp_all < <(measure "$cp_all")
read -r t_cp_only _ < <(measure "$cp_only")
read -r t_s3_two rss_s3_two < <(measure "$s3_two")
read -r t_cp_two _ < <(measure "$cp_two")

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
echo "$(nproc) cores; findings: s3 $f_s3, local $f_local (whole trail), s3 $f_two (two days)"
echo
echo "| command | wall (s, median of 3) | vs copy + scan | peak RSS, largest process (MiB) |"
echo "|---|---|---|---|"
echo "| whole trail: iamwatch scan s3:// | $t_s3_all | $(ratio "$t_s3_all" "$t_cp_all") | $((rss_s3_all / 1024)) |"
echo "| whole trail: aws s3 cp --recursive, then iamwatch scan DIR | $t_cp_all | 1.00 | $((rss_cp_all / 1024)) |"
echo "| whole trail: aws s3 cp --recursive alone | $t_cp_only | $(ratio "$t_cp_only" "$t_cp_all") | - |"
echo "| two days: iamwatch scan s3:// --since --until | $t_s3_two | $(ratio "$t_s3_two" "$t_cp_two") | $((rss_s3_two / 1024)) |"
echo "| two days: aws s3 cp --recursive --include, then iamwatch scan DIR | $t_cp_two | 1.00 | - |"
