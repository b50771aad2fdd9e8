#!/usr/bin/env python3
"""The SQL of `iamwatch hunt athena`, checked by a real SQL engine.

Usage: check-athena-sql.py IAMWATCH_BINARY [ROWS_OUT]

For a few sets of flags, the query printed by `iamwatch hunt athena --print-sql` is
- parsed by sqlglot as Trino (Athena engine 3) SQL, one SELECT statement;
- checked against the CloudTrail table's schema (crates/hunt/cloudtrail_table.sql, parsed as
  Hive DDL): every column it names exists;
- transpiled to DuckDB and run over a local table of that schema (partitions included) holding
  in-scope and out-of-scope, in-range and out-of-range rows: exactly the expected rows come back,
  with `useridentity` as a JSON object of the table's lowercase struct fields.

ROWS_OUT receives the rows of the first case as Athena returns them (a header row, then strings
or NULLs), in the body moto's `/moto-api/static/athena/query-results` takes: the caller feeds
them to `iamwatch hunt athena` against moto, so rows made by a real engine go through the
row mapping.
"""

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify

ROOT = Path(__file__).resolve().parent.parent
DDL = ROOT / "crates/hunt/cloudtrail_table.sql"
DATABASE, TABLE = "security", "cloudtrail_logs_pp"


def fail(msg):
    print(f"FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def table_schema():
    """(column name, type expression) of the documented table, partitions last."""
    create = sqlglot.parse_one(DDL.read_text(), read="hive")
    columns = [(c.name, c.args["kind"]) for c in create.this.expressions]
    partitioned = create.find(exp.PartitionedByProperty)
    if partitioned is None:
        fail(f"{DDL}: no PARTITIONED BY")
    columns += [(c.name, c.args["kind"]) for c in partitioned.this.expressions]
    return columns


def identity(account, arn, kind="AssumedRole"):
    return {
        "type": kind,
        "principalid": "AROAEXAMPLE:alice",
        "arn": arn,
        "accountid": account,
        "invokedby": None,
        "accesskeyid": "ASIAEXAMPLE",
        "username": None,
        "onbehalfof": None,
        "sessioncontext": {
            "attributes": {"mfaauthenticated": "true", "creationdate": "2026-11-02T08:00:00Z"},
            "sessionissuer": {
                "type": "Role",
                "principalid": "AROAEXAMPLE",
                "arn": f"arn:aws:iam::{account}:role/Admin",
                "accountid": account,
                "username": "Admin",
            },
            "ec2roledelivery": None,
            "webidfederationdata": None,
        },
    }


def row(event_id, name, time, account="111111111111", region="us-east-1",
        source="iam.amazonaws.com"):
    return {
        "eventversion": "1.09",
        "useridentity": identity(account, f"arn:aws:sts::{account}:assumed-role/Admin/alice"),
        "eventtime": time,
        "eventsource": source,
        "eventname": name,
        "awsregion": region,
        "sourceipaddress": "203.0.113.7",
        "useragent": "aws-cli/2.22.0",
        "requestparameters": json.dumps({"userName": "backdoor"}),
        "responseelements": None,
        "requestid": f"req-{event_id}",
        "eventid": event_id,
        "eventtype": "AwsApiCall",
        "recipientaccountid": account,
        # The partitions, as the trail's object keys give them.
        "account": account,
        "region": region,
        "timestamp": time[:10].replace("-", "/"),
    }


ROWS = [
    row("create", "CreateUser", "2026-11-02T09:30:00Z"),
    row("since-edge", "CreateAccessKey", "2026-11-02T09:00:00Z"),
    row("before-since", "CreateUser", "2026-11-02T08:59:59Z"),
    row("until-edge", "DeleteUser", "2026-11-03T12:00:00Z"),
    row("after-until", "CreateUser", "2026-11-03T12:00:01Z"),
    row("day-before", "CreateUser", "2026-11-01T23:59:59Z"),
    row("other-account", "CreateUser", "2026-11-02T10:00:00Z", account="222222222222"),
    row("other-region", "CreateUser", "2026-11-02T10:00:00Z", region="eu-west-1"),
    row("read-only-call", "ListUsers", "2026-11-02T10:00:00Z"),
    row("identity-center", "CreateUser", "2026-11-02T10:00:00Z",
        source="identitystore.amazonaws.com"),
]

IN_SCOPE = {"create", "since-edge", "before-since", "until-edge", "after-until", "day-before",
            "other-account", "other-region"}

# (flags, event ids the query must return)
CASES = [
    (["--since", "2026-11-02T09:00:00Z", "--until", "2026-11-03T12:00:00Z",
      "--accounts", "111111111111", "--regions", "us-east-1"],
     {"create", "since-edge", "until-edge"}),
    ([], IN_SCOPE),
    (["--since", "2026-11-02", "--until", "2026-11-02", "--regions", "eu-west-1,ap-south-1"],
     {"other-region"}),
    (["--since", "2026-11-02T10:00:00+01:00", "--accounts", "222222222222,111111111111"],
     {"create", "since-edge", "until-edge", "after-until", "other-account", "other-region"}),
]


def iamwatch(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True)


def main():
    if len(sys.argv) not in (2, 3):
        fail("usage: check-athena-sql.py IAMWATCH_BINARY [ROWS_OUT]")
    binary = sys.argv[1]
    rows_out = sys.argv[2] if len(sys.argv) == 3 else None

    # The premise of the rows: which names are in scope is the rules' business.
    names = set(json.loads(iamwatch(binary, "rules", "--event-names").stdout))
    for name in ("CreateUser", "CreateAccessKey", "DeleteUser"):
        if name not in names:
            fail(f"{name} is not an in-scope event name any more: update the rows")
    if "ListUsers" in names:
        fail("ListUsers is in scope now: update the rows")

    columns = table_schema()
    schema = {DATABASE: {TABLE: {name: kind.sql(dialect="trino") for name, kind in columns}}}
    db = duckdb.connect()
    db.execute(f"CREATE SCHEMA {DATABASE}")
    db.execute(f"CREATE TABLE {DATABASE}.{TABLE} ("
               + ", ".join(f'"{n}" {t.sql(dialect="duckdb")}' for n, t in columns) + ")")
    names_in_rows = list(ROWS[0].keys())
    db.executemany(
        f"INSERT INTO {DATABASE}.{TABLE} (" + ", ".join(f'"{n}"' for n in names_in_rows)
        + ") VALUES (" + ", ".join("?" for _ in names_in_rows) + ")",
        [[r[n] for n in names_in_rows] for r in ROWS],
    )

    for flags, expected in CASES:
        out = iamwatch(binary, "hunt", "athena", "--print-sql", "--workgroup", "primary",
                       "--table", f"{DATABASE}.{TABLE}", *flags)
        if out.returncode != 0:
            fail(f"--print-sql {flags}: exit {out.returncode}: {out.stderr}")
        sql = out.stdout
        try:
            statements = sqlglot.parse(sql, read="trino")
        except sqlglot.errors.ParseError as e:
            fail(f"{flags}: not Trino SQL: {e}\n{sql}")
        if len(statements) != 1 or not isinstance(statements[0], exp.Select):
            fail(f"{flags}: not one SELECT statement:\n{sql}")
        try:
            qualify(statements[0].copy(), schema=schema, dialect="trino",
                    validate_qualify_columns=True)
        except sqlglot.errors.OptimizeError as e:
            fail(f"{flags}: names something the table does not have: {e}\n{sql}")
        local = statements[0].sql(dialect="duckdb")
        result = db.execute(local)
        header = [d[0] for d in result.description]
        got = result.fetchall()
        ids = {r[header.index("eventid")] for r in got}
        if ids != expected:
            fail(f"{flags}: rows {sorted(ids)}, expected {sorted(expected)}\n{sql}\n{local}")
        for r in got:
            ident = json.loads(r[header.index("useridentity")])
            if ident.get("sessioncontext", {}).get("sessionissuer", {}).get("username") != "Admin":
                fail(f"{flags}: useridentity is not the struct as JSON: {ident}")
        times = [r[header.index("eventtime")] for r in got]
        if times != sorted(times):
            fail(f"{flags}: rows not in event time order: {times}")
        print(f"hunt athena {' '.join(flags) or '(no filter)'}: {len(got)} rows as expected")
        if rows_out and flags == CASES[0][0]:
            cell = lambda v: {} if v is None else {"VarCharValue": str(v)}
            rows = [{"Data": [cell(h) for h in header]}] + [{"Data": [cell(v) for v in r]} for r in got]
            Path(rows_out).write_text(json.dumps({"results": [{"rows": rows, "column_info": []}]}))

    for flag, value in [("--accounts", "111111111111' OR '1'='1"),
                        ("--regions", "us-east-1') OR ('1'='1"),
                        ("--table", 'security.t" --'),
                        ("--date-partition", 'timestamp" OR 1=1 --'),
                        ("--since", "2026-11-02' OR '1'='1")]:
        args = ["hunt", "athena", "--print-sql", "--workgroup", "primary", flag, value]
        if flag != "--table":
            args += ["--table", f"{DATABASE}.{TABLE}"]
        out = iamwatch(binary, *args)
        # Refused by iamwatch's checks (not by the argument parser): the message names it.
        if out.returncode != 2 or out.stdout or not out.stderr.startswith("iamwatch: "):
            fail(f"{flag} {value!r} was not refused (exit {out.returncode}): {out.stdout}")
    print("hunt athena: values that would change the query are refused")


if __name__ == "__main__":
    main()
