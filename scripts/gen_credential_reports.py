#!/usr/bin/env python3
"""Synthetic IAM credential reports, as GetCredentialReport returns them (decoded), for
benchmarking `iamwatch inventory check`.

Usage: gen_credential_reports.py OUT_DIR ACCOUNTS USERS_PER_ACCOUNT

Writes OUT_DIR/<account-id>.csv: the header, the `<root_account>` row and USERS_PER_ACCOUNT user
rows each. Deterministic (seeded): about a third of the users have a console password, some without
MFA; most have one or two keys of every age, some never used; so every hygiene rule fires.
"""
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

HEADER = ("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
          "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
          "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
          "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
          "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
          "cert_1_last_rotated,cert_2_active,cert_2_last_rotated")
AS_OF = datetime(2026, 12, 1, tzinfo=timezone.utc)


def ts(days_ago: float) -> str:
    return (AS_OF - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def key(rng: random.Random) -> list[str]:
    if rng.random() < 0.4:
        return ["false", "N/A", "N/A", "N/A", "N/A"]
    rotated = rng.uniform(1, 1500)
    if rng.random() < 0.15:
        return ["true", ts(rotated), "N/A", "N/A", "N/A"]
    used = rng.uniform(0, rotated)
    return ["true", ts(rotated), ts(used), "us-east-1", rng.choice(["s3", "sts", "ec2", "iam"])]


def main() -> None:
    out, accounts, users = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    for a in range(accounts):
        account = f"{100000000000 + a:012d}"
        lines = [HEADER,
                 f"<root_account>,arn:aws:iam::{account}:root,{ts(2000)},not_supported,{ts(30)},"
                 f"not_supported,not_supported,{rng.choice(['true', 'true', 'false'])},"
                 "false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"]
        for u in range(users):
            created = rng.uniform(1, 2000)
            if rng.random() < 0.33:
                pw = ["true", rng.choice(["no_information", ts(rng.uniform(0, created))]),
                      ts(created), "N/A", rng.choice(["true", "false"])]
            else:
                pw = ["false", "N/A", "N/A", "N/A", rng.choice(["true", "false", "false"])]
            row = [f"user-{u}", f"arn:aws:iam::{account}:user/team-{u % 17}/user-{u}", ts(created),
                   *pw, *key(rng), *key(rng), "false", "N/A", "false", "N/A"]
            lines.append(",".join(row))
        (out / f"{account}.csv").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
