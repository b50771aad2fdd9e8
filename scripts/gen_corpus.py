#!/usr/bin/env python3
"""Writes a synthetic CloudTrail corpus in the S3 layout, for the scan benchmark.

  gen_corpus.py OUT_DIR [--records N] [--per-file M] [--seed S]

Files: OUT_DIR/AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<account>_CloudTrail_<region>_<ts>_<id>.json.gz,
each {"Records": [...]} with M records (CloudTrail delivers a file every ~5 minutes). Mostly
non-IAM traffic (EC2, S3, STS, KMS, Lambda, CloudWatch...), about 2% IAM reads and 0.5% IAM
writes in scope (CreateUser, CreateAccessKey, AttachUserPolicy...), with real-looking
identities, user agents and request parameters. Deterministic for a given seed."""
import argparse
import gzip
import json
import os
import random
import uuid

ACCOUNTS = [f"{n:012d}" for n in (111111111111, 222222222222, 333333333333, 444444444444)]
REGIONS = ["us-east-1", "eu-west-1", "us-west-2"]
NOISE = [
    ("ec2.amazonaws.com", "DescribeInstances", {"filterSet": {}, "instancesSet": {}}),
    ("ec2.amazonaws.com", "RunInstances", {"instanceType": "t3.micro", "instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": 1, "maxCount": 1}]}}),
    ("s3.amazonaws.com", "GetBucketAcl", {"bucketName": "logs-bucket", "Host": "logs-bucket.s3.amazonaws.com", "acl": ""}),
    ("sts.amazonaws.com", "AssumeRole", {"roleArn": "arn:aws:iam::111111111111:role/deployer", "roleSessionName": "ci-run"}),
    ("kms.amazonaws.com", "Decrypt", {"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": {"aws:lambda:FunctionArn": "arn:aws:lambda:us-east-1:111111111111:function:api"}}),
    ("lambda.amazonaws.com", "GetFunction", {"functionName": "api-handler"}),
    ("monitoring.amazonaws.com", "PutMetricData", {"namespace": "App", "metricData": [{"metricName": "Latency", "value": 12.5}]}),
    ("logs.amazonaws.com", "CreateLogStream", {"logGroupName": "/aws/lambda/api", "logStreamName": "2026/11/02/[$LATEST]abc"}),
    ("dynamodb.amazonaws.com", "DescribeTable", {"tableName": "orders"}),
    ("ssm.amazonaws.com", "GetParameter", {"name": "/app/config", "withDecryption": True}),
]
IAM_READS = ["ListUsers", "GetUser", "ListAccessKeys", "ListAttachedUserPolicies", "GetAccountSummary"]
IAM_WRITES = [
    ("CreateUser", lambda r: {"userName": f"user-{r.randrange(10**6)}"}),
    ("CreateAccessKey", lambda r: {"userName": f"user-{r.randrange(10**6)}"}),
    ("AttachUserPolicy", lambda r: {"userName": f"user-{r.randrange(10**6)}", "policyArn": r.choice(["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/AdministratorAccess"])}),
    ("CreateLoginProfile", lambda r: {"userName": f"user-{r.randrange(10**6)}", "passwordResetRequired": True}),
    ("DeleteAccessKey", lambda r: {"userName": f"user-{r.randrange(10**6)}", "accessKeyId": "AKIA" + "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))}),
]
AGENTS = [
    "aws-cli/2.22.0 md/Botocore#1.35.0 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.12.6 exe/x86_64.debian.12 cfg/retry-mode#standard",
    "aws-sdk-go-v2/1.32.2 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.187.0",
    "Boto3/1.35.54 md/Botocore#1.35.54 ua/2.0 os/linux#5.10.227 md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.54",
    "console.amazonaws.com",
]


def identity(r, acct):
    kind = r.random()
    if kind < 0.7:
        role = r.choice(["deployer", "app-server", "AWSReservedSSO_ReadOnly_0123456789abcdef", "lambda-exec"])
        return {"type": "AssumedRole", "principalId": "AROAEXAMPLE12345:session", "arn": f"arn:aws:sts::{acct}:assumed-role/{role}/session-{r.randrange(1000)}",
                "accountId": acct, "accessKeyId": "ASIAEXAMPLE123456789",
                "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE12345", "arn": f"arn:aws:iam::{acct}:role/{role}", "accountId": acct, "userName": role},
                                   "attributes": {"creationDate": "2026-11-02T08:00:00Z", "mfaAuthenticated": "false"}}}
    if kind < 0.9:
        return {"type": "AWSService", "invokedBy": r.choice(["lambda.amazonaws.com", "ec2.amazonaws.com", "autoscaling.amazonaws.com"])}
    name = r.choice(["ci-user", "legacy-admin", "backup"])
    return {"type": "IAMUser", "principalId": "AIDAEXAMPLE123456789", "arn": f"arn:aws:iam::{acct}:user/{name}", "accountId": acct,
            "accessKeyId": "AKIAEXAMPLE123456789", "userName": name}


def record(r, acct, region, t):
    x = r.random()
    if x < 0.005:
        name, params = r.choice(IAM_WRITES)
        source, params, region = "iam.amazonaws.com", params(r), "us-east-1"
    elif x < 0.025:
        source, name, params, region = "iam.amazonaws.com", r.choice(IAM_READS), {"maxItems": 100}, "us-east-1"
    else:
        source, name, params = r.choice(NOISE)
    ip = f"{r.randrange(1, 223)}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"
    rec = {
        "eventVersion": "1.09", "userIdentity": identity(r, acct), "eventTime": t, "eventSource": source,
        "eventName": name, "awsRegion": region, "sourceIPAddress": ip, "userAgent": r.choice(AGENTS),
        "requestParameters": params, "responseElements": None,
        "requestID": str(uuid.UUID(int=r.getrandbits(128))), "eventID": str(uuid.UUID(int=r.getrandbits(128))),
        "readOnly": name.startswith(("Describe", "Get", "List")), "eventType": "AwsApiCall", "managementEvent": True,
        "recipientAccountId": acct, "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": f"{source.split('.')[0]}.{region}.amazonaws.com"},
    }
    if name == "CreateAccessKey":
        rec["responseElements"] = {"accessKey": {"userName": params["userName"], "accessKeyId": "AKIA" + "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)), "status": "Active", "createDate": "Nov 2, 2026 9:30:00 AM"}}
    return rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--records", type=int, default=300_000)
    ap.add_argument("--per-file", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    r = random.Random(a.seed)
    written = 0
    n = 0
    while written < a.records:
        acct = ACCOUNTS[n % len(ACCOUNTS)]
        region = REGIONS[(n // len(ACCOUNTS)) % len(REGIONS)]
        minute = n * 5
        day = 1 + (minute // 1440) % 28
        hh, mm = (minute // 60) % 24, minute % 60
        t = f"2026-11-{day:02d}T{hh:02d}:{mm:02d}:00Z"
        count = min(a.per_file, a.records - written)
        records = [record(r, acct, region, t) for _ in range(count)]
        d = os.path.join(a.out, "AWSLogs", acct, "CloudTrail", region, "2026", "11", f"{day:02d}")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, f"{acct}_CloudTrail_{region}_202611{day:02d}T{hh:02d}{mm:02d}Z_{n:08x}.json.gz")
        with gzip.open(path, "wb", compresslevel=6) as f:
            f.write(json.dumps({"Records": records}, separators=(",", ":")).encode())
        written += count
        n += 1
    print(f"wrote {written} records in {n} files under {a.out}")


if __name__ == "__main__":
    main()
