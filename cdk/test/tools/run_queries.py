"""Runs the workgroup's saved queries over rows shaped like the inventory.

Usage: python3 run_queries.py FILE, where FILE is JSON {"queries": [{"name", "sql"}],
"users": [columns], "accounts": [columns]} (columns as the Glue tables have them).

Each query is parsed as Trino (Athena engine version 3) by sqlglot, which fails on SQL Athena
would not parse; it is then transpiled to DuckDB and run over tables iamwatch.users and
iamwatch.accounts of the same columns (plus the dt partition) holding two sweeps: yesterday's and
today's. Prints {name: rows} as JSON.
"""
import datetime
import json
import sys

import duckdb
import sqlglot

spec = json.load(open(sys.argv[1], encoding="utf-8"))
today = datetime.date.today()
yesterday = today - datetime.timedelta(days=1)
now = datetime.datetime.now(datetime.timezone.utc)


def iso(days_ago):
    return (now - datetime.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def hive_to_duckdb(t):
    """A Glue (Hive) type as DuckDB writes it."""
    t = t.strip()
    if t.startswith("array<"):
        return hive_to_duckdb(t[6:-1]) + "[]"
    if t.startswith("map<"):
        k, v = split_top(t[4:-1])
        return f"MAP({hive_to_duckdb(k)}, {hive_to_duckdb(v)})"
    if t.startswith("struct<"):
        fields = [f.split(":", 1) for f in split_top(t[7:-1])]
        return "STRUCT(" + ", ".join(f'"{n}" {hive_to_duckdb(ft)}' for n, ft in fields) + ")"
    return {"string": "VARCHAR", "int": "INTEGER", "boolean": "BOOLEAN", "bigint": "BIGINT"}[t]


def split_top(s):
    parts, depth, cur = [], 0, ""
    for c in s:
        if c == "<":
            depth += 1
        elif c == ">":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    return parts + [cur]


def key(i, active, last_used, rotated):
    return {"id": i, "active": active, "last_rotated": rotated, "last_used": last_used, "last_used_service": None if last_used is None else "s3"}


def user(account, name, ou, user_name, score, keys, admin=False):
    return {
        "account_id": account, "account_name": name, "ou_path": ["Root", ou], "user": user_name,
        "arn": f"arn:aws:iam::{account}:user/{user_name}", "created": iso(900), "password_enabled": False,
        "password_last_used": None, "mfa_active": False, "access_keys": keys, "admin": admin, "admin_via": [],
        "groups": [], "tags": {}, "owner": None, "creator": None, "score": score, "rules": [], "report_time": iso(0),
    }


users_today = [
    user("111111111111", "prod", "Prod", "legacy", 55, [key("AKIAOLD", True, iso(200), iso(400)), key("AKIAOFF", False, None, iso(500))]),
    user("111111111111", "prod", "Prod", "ci", 10, [key("AKIANEW", True, iso(1), iso(10))]),
    user("222222222222", "dev", "Dev", "tester", 5, []),
]
users_yesterday = users_today + [user("222222222222", "dev", "Dev", "gone", 45, [])]


def accounts(rows):
    out = {}
    for u in rows:
        a = out.setdefault(u["account_id"], {"account_id": u["account_id"], "account_name": u["account_name"], "ou_path": u["ou_path"],
                                             "users": 0, "risky_users": 0, "access_keys": 0, "report_time": iso(0), "status": "ok", "error": None})
        a["users"] += 1
        a["risky_users"] += 1 if u["score"] >= 40 else 0
        a["access_keys"] += len(u["access_keys"])
    return list(out.values())


con = duckdb.connect()
con.execute("CREATE SCHEMA iamwatch")
for table, columns, days in [
    ("users", spec["users"], [(yesterday, users_yesterday), (today, users_today)]),
    ("accounts", spec["accounts"], [(yesterday, accounts(users_yesterday)), (today, accounts(users_today))]),
]:
    cols = [(c["name"], hive_to_duckdb(c["type"])) for c in columns] + [("dt", "VARCHAR")]
    con.execute(f"CREATE TABLE iamwatch.{table} (" + ", ".join(f'"{n}" {t}' for n, t in cols) + ")")
    for dt, rows in days:
        for r in rows:
            r = dict(r, dt=dt.isoformat())
            values = []
            for n, t in cols:
                v = r.get(n)
                if t.startswith("MAP"):
                    v = {"key": list(v.keys()), "value": list(v.values())} if v else {"key": [], "value": []}
                values.append(v)
            placeholders = ", ".join("MAP(?::VARCHAR[], ?::VARCHAR[])" if t.startswith("MAP") else "?" for _, t in cols)
            flat = []
            for (n, t), v in zip(cols, values):
                flat.extend([v["key"], v["value"]] if t.startswith("MAP") else [v])
            con.execute(f"INSERT INTO iamwatch.{table} VALUES ({placeholders})", flat)

results = {}
for q in spec["queries"]:
    parsed = sqlglot.parse_one(q["sql"], read="trino")
    sql = parsed.sql(dialect="duckdb")
    try:
        rows = con.execute(sql).fetchall()
    except Exception as e:
        print(f"{q['name']}: {e}\n{sql}", file=sys.stderr)
        sys.exit(1)
    results[q["name"]] = [[v if isinstance(v, (int, float, str, type(None))) else str(v) for v in row] for row in rows]
print(json.dumps(results, indent=1))
