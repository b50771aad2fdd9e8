#!/usr/bin/env bash
# `iamwatch hunt athena`: the generated SQL checked by a real SQL engine (sqlglot parses it as
# Trino, DuckDB runs it over a local table of the CloudTrail table's schema), then the CLI run
# against moto's Athena with seeded result rows: a CreateUser and the DeleteUser of that user
# print one archived finding.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --locked -p iamwatch-cli --features aws
bin="${CARGO_TARGET_DIR:-target}/debug/iamwatch"
python3 -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
tmp=$(mktemp -d)
python3 scripts/check-athena-sql.py "$bin" "$tmp/duckdb-rows.json"

moto_server -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; rm -rf "$tmp"' EXIT
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
for _ in $(seq 50); do curl -sf "$AWS_ENDPOINT_URL/moto-api/" >/dev/null 2>&1 && break; sleep 0.1; done

# Rows as Athena returns them for the hunt's query: the header row (the selected columns, from
# --print-sql), then the CreateUser of events/iam-user-created.json and its DeleteUser, with
# useridentity as JSON of the table's lowercase struct fields.
"$bin" hunt athena --print-sql --table security.cloudtrail_logs_pp --workgroup primary >"$tmp/query.sql"
python3 - "$tmp/query.sql" "$AWS_ENDPOINT_URL" <<'PY'
import json, sys, urllib.request
import sqlglot
select = sqlglot.parse_one(open(sys.argv[1]).read(), read="trino")
columns = [e.alias_or_name for e in select.expressions]
detail = json.load(open("events/iam-user-created.json"))["detail"]
delete = dict(detail, eventName="DeleteUser", eventTime="2026-11-02T10:30:00Z",
              eventID="00000000-0000-0000-0000-00000000d31e", responseElements=None)
def lower(v):
    return {k.lower(): lower(x) for k, x in v.items()} if isinstance(v, dict) else v
def cells(record):
    by_column = {k.lower(): v for k, v in record.items()}
    out = []
    for c in columns:
        v = by_column.get(c)
        if c == "useridentity":
            v = json.dumps(lower(v))
        elif isinstance(v, (dict, list)):
            v = json.dumps(v)
        out.append({} if v is None else {"VarCharValue": v})
    return {"Data": out}
rows = [{"Data": [{"VarCharValue": c} for c in columns]}, cells(detail), cells(delete)]
body = json.dumps({"results": [{"rows": rows, "column_info": []}]}).encode()
req = urllib.request.Request(sys.argv[2] + "/moto-api/static/athena/query-results", data=body,
                             headers={"Content-Type": "application/json"}, method="POST")
assert urllib.request.urlopen(req).status == 201
PY

set +e
out=$("$bin" hunt athena --table security.cloudtrail_logs_pp --workgroup primary \
  --since 2026-11-01 --until 2026-11-03 --accounts 111111111111 \
  --output-location s3://athena-results/hunt/ --fail-on LOW 2>"$tmp/stderr")
code=$?
set -e
cat "$tmp/stderr" >&2
echo "$out"
[ "$code" = 1 ] || { echo "FAILED: exit $code, expected 1 (--fail-on LOW, archived findings count)" >&2; exit 1; }
echo "$out" | grep -q "(archived)" || { echo "FAILED: no archived finding in: $out" >&2; exit 1; }
echo "$out" | grep -q "reporting-export" || { echo "FAILED: the user is not in: $out" >&2; exit 1; }
grep -q "1 finding .*1 archived.* from 2 rows of Athena query" "$tmp/stderr" || { echo "FAILED: summary" >&2; exit 1; }
echo "hunt athena against moto: ok"

# The rows DuckDB returned for the first query of check-athena-sql.py (CreateUser,
# CreateAccessKey and DeleteUser of one user) through the row mapping: no bad row, and the
# DeleteUser archives what came before it.
curl -sf -X POST -H 'Content-Type: application/json' --data @"$tmp/duckdb-rows.json" \
  "$AWS_ENDPOINT_URL/moto-api/static/athena/query-results" >/dev/null
set +e
out=$("$bin" hunt athena --table security.cloudtrail_logs_pp --workgroup primary \
  --since 2026-11-02T09:00:00Z --until 2026-11-03T12:00:00Z --accounts 111111111111 \
  --regions us-east-1 --format csv 2>"$tmp/stderr")
code=$?
set -e
cat "$tmp/stderr" >&2
[ "$code" = 0 ] || { echo "FAILED: exit $code" >&2; exit 1; }
echo "$out"
# Exit 0 and a quiet stderr: no row was refused (a bad row is reported and exits 2).
[ ! -s "$tmp/stderr" ] || { echo "FAILED: rows were reported" >&2; exit 1; }
[ "$(echo "$out" | wc -l)" = 3 ] || { echo "FAILED: two findings expected" >&2; exit 1; }
echo "$out" | grep -q ",iam-user-created,.*,backdoor,.*,ARCHIVED," || { echo "FAILED: no archived iam-user-created finding for backdoor" >&2; exit 1; }
if echo "$out" | grep -q ",ACTIVE,"; then echo "FAILED: DeleteUser did not archive every finding" >&2; exit 1; fi
echo "hunt athena over rows made by DuckDB: ok"
