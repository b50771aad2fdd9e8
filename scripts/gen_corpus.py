#!/usr/bin/env python3
"""Writes a synthetic CloudTrail corpus in the S3 layout, for the scan benchmark.

  gen_corpus.py OUT_DIR [--records N] [--per-file M] [--seed S]

Files: OUT_DIR/AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<account>_CloudTrail_<region>_<ts>_<id>.json.gz,
each {"Records":[...]} with M records, compact JSON as CloudTrail writes it (a file every ~5
minutes per account and region).

The records vary where real CloudTrail varies, so that the files compress about 5:1 with gzip
as real log files do (the real captures under events/real/ range from 5:1 to 16:1, a busy
organization's trail sits near the low end): every record has its own request and event id,
time (to the second, within the file's five minutes), source IP, session and access key id;
user agents come in many SDK, CLI and console versions; resource names (instances, volumes,
buckets, object keys, functions, log streams, secrets, queues), request parameters and response
elements (fresh credentials, instance state, encryption contexts) are drawn per record, and
failed calls carry error messages. The service mix is that of an organization's management
events: EC2, S3, STS, KMS, Lambda, CloudWatch, Logs, DynamoDB, SSM, Secrets Manager, ECR, ECS,
ELB, Auto Scaling, CloudFormation, Config, SQS, SNS, Route 53 and more, most of it out of scope
for iamwatch; about 2% IAM reads, 0.5% IAM writes (CreateUser, CreateAccessKey,
AttachUserPolicy...) and 0.2% console sign-ins are in scope. Deterministic for a given seed.

Prints the corpus' size as stored and inflated and its measured compression ratio."""
import argparse
import gzip
import json
import os
import random
import uuid

ACCOUNTS = [f"{n:012d}" for n in (111111111111, 222222222222, 333333333333, 444444444444)]
REGIONS = ["us-east-1", "eu-west-1", "us-west-2"]
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
HEX = "0123456789abcdef"
ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def rs(r, alphabet, n):
    return "".join(r.choices(alphabet, k=n))


def uid(r):
    return str(uuid.UUID(int=r.getrandbits(128)))


def key_id(r, prefix):
    return prefix + rs(r, B32, 16)


def ip(r):
    if r.random() < 0.15:
        return r.choice(["ec2.amazonaws.com", "lambda.amazonaws.com", "autoscaling.amazonaws.com", "AWS Internal"])
    if r.random() < 0.3:
        return f"10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"
    return f"{r.randrange(1, 223)}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"


def agent(r):
    k = r.random()
    py = f"3.{r.randrange(8, 13)}.{r.randrange(20)}"
    bc = f"1.{r.randrange(29, 36)}.{r.randrange(100)}"
    kern = f"{r.choice(['5.10', '6.1', '6.8', '4.14'])}.{r.randrange(300)}"
    if k < 0.25:
        return (f"aws-cli/2.{r.randrange(9, 23)}.{r.randrange(50)} md/awscrt#0.{r.randrange(16, 23)}.{r.randrange(5)} ua/2.0 "
                f"os/linux#{kern} md/arch#x86_64 lang/python#{py} md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe "
                f"md/distrib#{r.choice(['amzn.2023', 'ubuntu.22', 'debian.12'])} md/prompt#off md/command#{r.choice(['s3.cp', 'ec2.describe-instances', 'sts.get-caller-identity', 'logs.tail'])}")
    if k < 0.5:
        return (f"Boto3/{bc} md/Botocore#{bc} ua/2.0 os/linux#{kern} md/arch#{r.choice(['x86_64', 'aarch64'])} "
                f"lang/python#{py} md/pyimpl#CPython cfg/retry-mode#{r.choice(['legacy', 'standard', 'adaptive'])} Botocore/{bc}")
    if k < 0.65:
        return (f"aws-sdk-go-v2/1.{r.randrange(20, 33)}.{r.randrange(10)} os/linux lang/go#1.{r.randrange(20, 24)}.{r.randrange(10)} "
                f"md/GOOS#linux md/GOARCH#{r.choice(['amd64', 'arm64'])} api/{r.choice(['ec2', 's3', 'sts', 'ecr', 'kms'])}#1.{r.randrange(100, 200)}.{r.randrange(10)}")
    if k < 0.75:
        return (f"aws-sdk-java/2.{r.randrange(18, 30)}.{r.randrange(40)} Linux/{kern} OpenJDK_64-Bit_Server_VM/"
                f"{r.choice(['17.0.9', '21.0.2', '11.0.21'])}+{r.randrange(12)}-LTS Java/{r.choice(['17.0.9', '21.0.2'])} vendor/Amazon.com_Inc. "
                f"exec-env/AWS_Lambda_java{r.choice(['17', '21'])} io/sync http/Apache cfg/retry-mode/legacy")
    if k < 0.85:
        return (f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                f"Chrome/{r.randrange(118, 131)}.0.{r.randrange(6000, 6800)}.{r.randrange(200)} Safari/537.36")
    return r.choice(["console.amazonaws.com", "AWS Internal", "ec2.amazonaws.com", "lambda.amazonaws.com",
                     "cloudformation.amazonaws.com", "config.amazonaws.com", "autoscaling.amazonaws.com",
                     f"[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.{r.randrange(700)}]"])


ROLES = ["deployer", "app-server", "AWSReservedSSO_ReadOnly_0123456789abcdef", "AWSReservedSSO_Admin_fedcba9876543210",
         "lambda-exec", "ecs-task", "github-actions", "terraform", "datadog-integration", "config-recorder", "backup-operator"]
USERS = ["ci-user", "legacy-admin", "backup", "alice", "bob", "svc-reporting", "svc-etl"]


def identity(r, acct, t):
    kind = r.random()
    if kind < 0.72:
        role = r.choice(ROLES)
        session = r.choice([f"i-{rs(r, HEX, 17)}", f"botocore-session-{r.randrange(10**10)}", f"{r.choice(USERS)}@example.com",
                            f"GitHubActions-{r.randrange(10**9)}", uid(r), f"aws-go-sdk-{r.randrange(10**18)}"])
        role_id = "AROA" + rs(r, B32, 17)
        return {"type": "AssumedRole", "principalId": f"{role_id}:{session}", "arn": f"arn:aws:sts::{acct}:assumed-role/{role}/{session}",
                "accountId": acct, "accessKeyId": key_id(r, "ASIA"),
                "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": role_id, "arn": f"arn:aws:iam::{acct}:role/{role}", "accountId": acct, "userName": role},
                                   "webIdFederationData": {},
                                   "attributes": {"creationDate": f"{t[:11]}{r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d}Z", "mfaAuthenticated": r.choice(["false", "true"])}}}
    if kind < 0.9:
        return {"type": "AWSService", "invokedBy": r.choice(["lambda.amazonaws.com", "ec2.amazonaws.com", "autoscaling.amazonaws.com",
                                                              "cloudtrail.amazonaws.com", "config.amazonaws.com", "elasticloadbalancing.amazonaws.com"])}
    name = r.choice(USERS)
    return {"type": "IAMUser", "principalId": "AIDA" + rs(r, B32, 17), "arn": f"arn:aws:iam::{acct}:user/{name}", "accountId": acct,
            "accessKeyId": key_id(r, r.choice(["AKIA", "ASIA"])), "userName": name}


def creds(r, t):
    return {"accessKeyId": key_id(r, "ASIA"), "sessionToken": "IQoJb3JpZ2luX2VjE" + rs(r, B64, r.randrange(400, 900)),
            "expiration": f"{r.choice(['Nov', 'Dec'])} {r.randrange(1, 29)}, 2026, {r.randrange(1, 13)}:{r.randrange(60):02d}:{r.randrange(60):02d} {r.choice(['AM', 'PM'])}"}


def inst(r):
    return "i-" + rs(r, HEX, 17)


def noise(r, acct, region, t):
    """An out-of-scope call: (source, name, request, response, resources)."""
    k = r.randrange(24)
    bucket = r.choice(["logs-bucket", "app-assets-prod", "data-lake-raw", f"cdk-hnb659fds-assets-{acct}-{region}", "tf-state"])
    if k == 0:
        ids = [inst(r) for _ in range(r.randrange(1, 4))]
        return "ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {"items": [{"instanceId": i} for i in ids]}, "filterSet": {}}, None, None
    if k == 1:
        i = inst(r)
        return "ec2.amazonaws.com", "RunInstances", {
            "instancesSet": {"items": [{"imageId": "ami-" + rs(r, HEX, 17), "minCount": 1, "maxCount": 1}]},
            "instanceType": r.choice(["t3.micro", "m6i.large", "c7g.xlarge"]), "subnetId": "subnet-" + rs(r, HEX, 17),
            "groupSet": {"items": [{"groupId": "sg-" + rs(r, HEX, 17)}]}, "disableApiTermination": False}, {
            "requestId": uid(r), "reservationId": "r-" + rs(r, HEX, 17), "ownerId": acct,
            "instancesSet": {"items": [{"instanceId": i, "imageId": "ami-" + rs(r, HEX, 17), "currentInstanceBoot": 0,
                                        "instanceState": {"code": 0, "name": "pending"}, "privateDnsName": f"ip-10-{r.randrange(256)}-{r.randrange(256)}-{r.randrange(256)}.ec2.internal",
                                        "privateIpAddress": f"10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(256)}",
                                        "networkInterfaceSet": {"items": [{"networkInterfaceId": "eni-" + rs(r, HEX, 17), "macAddress": ":".join(rs(r, HEX, 2) for _ in range(6))}]}}]}}, None
    if k == 2:
        return "ec2.amazonaws.com", r.choice(["DescribeVolumes", "DescribeSnapshots", "DescribeNetworkInterfaces"]), {
            "volumeSet": {"items": [{"volumeId": "vol-" + rs(r, HEX, 17)}]}, "maxResults": r.choice([100, 500, 1000])}, None, None
    if k in (3, 4):
        key = f"{r.choice(['raw', 'events', 'exports', 'img'])}/{r.randrange(2020, 2027)}/{r.randrange(1, 13):02d}/{rs(r, ALNUM, 12)}.{r.choice(['parquet', 'json.gz', 'png', 'csv'])}"
        name = r.choice(["GetObject", "PutObject", "HeadObject", "GetBucketAcl", "ListObjects"])
        return "s3.amazonaws.com", name, {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com", "key": key}, None, [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"}, {"accountId": acct, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
    if k in (5, 6):
        role = r.choice(ROLES)
        session = f"{r.choice(['botocore-session', 'aws-go-sdk', 'session'])}-{r.randrange(10**12)}"
        return "sts.amazonaws.com", "AssumeRole", {"roleArn": f"arn:aws:iam::{r.choice(ACCOUNTS)}:role/{role}", "roleSessionName": session,
                                                   "durationSeconds": r.choice([900, 3600, 43200])}, {
            "credentials": creds(r, t), "assumedRoleUser": {"assumedRoleId": f"AROA{rs(r, B32, 17)}:{session}", "arn": f"arn:aws:sts::{acct}:assumed-role/{role}/{session}"}}, None
    if k in (7, 8):
        key = f"arn:aws:kms:{region}:{acct}:key/{uid(r)}"
        fn = r.choice(["api", "worker", "ingest", "authorizer"])
        return "kms.amazonaws.com", r.choice(["Decrypt", "GenerateDataKey", "Encrypt"]), {
            "encryptionAlgorithm": "SYMMETRIC_DEFAULT", "keyId": key,
            "encryptionContext": r.choice([{"aws:lambda:FunctionArn": f"arn:aws:lambda:{region}:{acct}:function:{fn}"},
                                           {"aws:s3:arn": f"arn:aws:s3:::{bucket}/{rs(r, ALNUM, 20)}"},
                                           {"SecretARN": f"arn:aws:secretsmanager:{region}:{acct}:secret:app/{fn}-{rs(r, ALNUM, 6)}", "SecretVersionId": uid(r)}])}, None, [
            {"accountId": acct, "type": "AWS::KMS::Key", "ARN": key}]
    if k == 9:
        fn = r.choice(["api-handler", "ingest", "thumbnailer", "authorizer", "nightly-report"])
        return "lambda.amazonaws.com", r.choice(["GetFunction20150331v2", "ListFunctions20150331", "UpdateFunctionCode20150331v2"]), {
            "functionName": f"arn:aws:lambda:{region}:{acct}:function:{fn}", "qualifier": str(r.randrange(1, 300))}, None, None
    if k == 10:
        return "monitoring.amazonaws.com", r.choice(["PutMetricData", "GetMetricData", "DescribeAlarms"]), {
            "namespace": r.choice(["App", "AWS/EC2", "Custom/Orders"]), "metricData": [{"metricName": r.choice(["Latency", "Errors", "Orders"]),
                                                                                      "value": round(r.random() * 1000, 3), "dimensions": [{"name": "Host", "value": inst(r)}]}]}, None, None
    if k == 11:
        grp = f"/aws/lambda/{r.choice(['api', 'worker', 'ingest'])}"
        return "logs.amazonaws.com", r.choice(["CreateLogStream", "DescribeLogStreams", "FilterLogEvents"]), {
            "logGroupName": grp, "logStreamName": f"2026/11/{r.randrange(1, 29):02d}/[$LATEST]{rs(r, HEX, 32)}"}, None, None
    if k == 12:
        return "dynamodb.amazonaws.com", r.choice(["DescribeTable", "CreateBackup", "UpdateTable"]), {
            "tableName": r.choice(["orders", "sessions", "users", "events"]), "backupName": f"nightly-{rs(r, ALNUM, 10)}"}, None, None
    if k == 13:
        return "ssm.amazonaws.com", r.choice(["GetParameter", "GetParameters", "UpdateInstanceInformation"]), {
            "name": f"/app/{r.choice(['db', 'api', 'feature'])}/{rs(r, ALNUM, 8)}", "withDecryption": r.random() < 0.5,
            "instanceId": inst(r), "agentVersion": f"3.{r.randrange(4)}.{r.randrange(2000)}.0"}, None, None
    if k == 14:
        return "secretsmanager.amazonaws.com", "GetSecretValue", {"secretId": f"arn:aws:secretsmanager:{region}:{acct}:secret:app/{rs(r, ALNUM, 8)}-{rs(r, ALNUM, 6)}",
                                                                   "versionStage": "AWSCURRENT"}, None, None
    if k == 15:
        return "ecr.amazonaws.com", r.choice(["GetAuthorizationToken", "BatchGetImage", "GetDownloadUrlForLayer"]), {
            "repositoryName": r.choice(["api", "worker", "base/python"]), "registryId": acct,
            "imageIds": [{"imageDigest": "sha256:" + rs(r, HEX, 64)}]}, None, None
    if k == 16:
        return "ecs.amazonaws.com", r.choice(["DescribeTasks", "RunTask", "UpdateService"]), {
            "cluster": f"arn:aws:ecs:{region}:{acct}:cluster/{r.choice(['prod', 'staging'])}", "tasks": [f"arn:aws:ecs:{region}:{acct}:task/prod/{rs(r, HEX, 32)}"]}, None, None
    if k == 17:
        return "elasticloadbalancing.amazonaws.com", r.choice(["DescribeTargetHealth", "RegisterTargets"]), {
            "targetGroupArn": f"arn:aws:elasticloadbalancing:{region}:{acct}:targetgroup/{r.choice(['api', 'web'])}/{rs(r, HEX, 16)}",
            "targets": [{"id": inst(r), "port": r.choice([80, 443, 8080])}]}, None, None
    if k == 18:
        return "autoscaling.amazonaws.com", r.choice(["DescribeAutoScalingGroups", "SetDesiredCapacity"]), {
            "autoScalingGroupName": f"{r.choice(['api', 'worker'])}-asg-{rs(r, ALNUM, 12)}", "desiredCapacity": r.randrange(1, 20)}, None, None
    if k == 19:
        return "cloudformation.amazonaws.com", r.choice(["DescribeStacks", "DescribeStackEvents", "UpdateStack"]), {
            "stackName": f"arn:aws:cloudformation:{region}:{acct}:stack/{r.choice(['app', 'network', 'data'])}/{uid(r)}"}, None, None
    if k == 20:
        return "config.amazonaws.com", "PutEvaluations", {"evaluations": [{"complianceResourceType": "AWS::EC2::Instance", "complianceResourceId": inst(r),
                                                                           "complianceType": r.choice(["COMPLIANT", "NON_COMPLIANT"]), "orderingTimestamp": t}],
                                                          "resultToken": rs(r, B64, 120)}, None, None
    if k == 21:
        q = f"https://sqs.{region}.amazonaws.com/{acct}/{r.choice(['orders', 'events', 'dlq'])}"
        return "sqs.amazonaws.com", r.choice(["GetQueueAttributes", "SetQueueAttributes", "PurgeQueue"]), {"queueUrl": q, "attributeNames": ["All"]}, None, None
    if k == 22:
        return "sns.amazonaws.com", r.choice(["Publish", "ListSubscriptionsByTopic"]), {
            "topicArn": f"arn:aws:sns:{region}:{acct}:{r.choice(['alerts', 'deploys', 'billing'])}", "messageId": uid(r)}, None, None
    return "route53.amazonaws.com", r.choice(["ChangeResourceRecordSets", "ListResourceRecordSets", "GetChange"]), {
        "hostedZoneId": "Z" + rs(r, B32, 13), "changeBatch": {"changes": [{"action": "UPSERT", "resourceRecordSet": {
            "name": f"{rs(r, ALNUM, 8)}.example.com", "type": "A", "tTL": 60, "resourceRecords": [{"value": ip(r)}]}}]}}, None, None


IAM_READS = ["ListUsers", "GetUser", "ListAccessKeys", "ListAttachedUserPolicies", "GetAccountSummary", "ListRoles", "GetRole"]
IAM_WRITES = [
    ("CreateUser", lambda r: {"userName": f"user-{r.randrange(10**6)}"}),
    ("CreateAccessKey", lambda r: {"userName": f"user-{r.randrange(10**6)}"}),
    ("AttachUserPolicy", lambda r: {"userName": f"user-{r.randrange(10**6)}", "policyArn": r.choice(["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/AdministratorAccess"])}),
    ("CreateLoginProfile", lambda r: {"userName": f"user-{r.randrange(10**6)}", "passwordResetRequired": True}),
    ("DeleteAccessKey", lambda r: {"userName": f"user-{r.randrange(10**6)}", "accessKeyId": key_id(r, "AKIA")}),
]
ERRORS = [("AccessDenied", "User: {arn} is not authorized to perform: {action} on resource: {res} because no identity-based policy allows the {action} action"),
          ("ThrottlingException", "Rate exceeded"), ("ResourceNotFoundException", "Requested resource not found: {res}"),
          ("Client.UnauthorizedOperation", "You are not authorized to perform this operation. Encoded authorization failure message: {blob}")]


def record(r, acct, region, t):
    x = r.random()
    resources = None
    response = None
    if x < 0.005:
        name, params = r.choice(IAM_WRITES)
        source, params, region = "iam.amazonaws.com", params(r), "us-east-1"
    elif x < 0.025:
        source, name, params, region = "iam.amazonaws.com", r.choice(IAM_READS), {"maxItems": r.choice([100, 1000]), "marker": rs(r, B64, 40) if r.random() < 0.3 else None}, "us-east-1"
    elif x < 0.027:
        source, name, params = "signin.amazonaws.com", "ConsoleLogin", None
        response = {"ConsoleLogin": r.choice(["Success", "Failure"])}
    else:
        source, name, params, response, resources = noise(r, acct, region, t)
    who = identity(r, acct, t)
    rec = {
        "eventVersion": r.choice(["1.08", "1.09", "1.10"]), "userIdentity": who, "eventTime": f"{t[:17]}{r.randrange(60):02d}Z", "eventSource": source,
        "eventName": name, "awsRegion": region, "sourceIPAddress": ip(r), "userAgent": agent(r),
        "requestParameters": params, "responseElements": response,
        "requestID": uid(r) if r.random() < 0.8 else rs(r, B32, 16), "eventID": uid(r),
        "readOnly": name.startswith(("Describe", "Get", "List", "Head")), "eventType": "AwsApiCall", "managementEvent": True,
        "recipientAccountId": acct, "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": r.choice(["TLSv1.2", "TLSv1.3"]), "cipherSuite": r.choice(["TLS_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"]),
                       "clientProvidedHostHeader": f"{source.split('.')[0]}.{region}.amazonaws.com"},
    }
    if resources:
        rec["resources"] = resources
    if source == "s3.amazonaws.com":
        rec["additionalEventData"] = {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0,
                                      "AuthenticationMethod": "AuthHeader", "x-amz-id-2": rs(r, B64, 76),
                                      "bytesTransferredOut": r.randrange(10**7)}
    if r.random() < 0.07 and source != "iam.amazonaws.com":
        code, msg = r.choice(ERRORS)
        rec["errorCode"] = code
        rec["errorMessage"] = msg.format(arn=who.get("arn", "-"), action=f"{source.split('.')[0]}:{name}", res=f"arn:aws:{source.split('.')[0]}:{region}:{acct}:{rs(r, ALNUM, 10)}",
                                         blob=rs(r, B64, r.randrange(200, 600)))
        rec["responseElements"] = None
    if r.random() < 0.1:
        rec["vpcEndpointId"] = "vpce-" + rs(r, HEX, 17)
    if r.random() < 0.1:
        rec["sharedEventID"] = uid(r)
    if name == "CreateAccessKey":
        rec["responseElements"] = {"accessKey": {"userName": params["userName"], "accessKeyId": key_id(r, "AKIA"), "status": "Active", "createDate": "Nov 2, 2026 9:30:00 AM"}}
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
    raw = stored = 0
    while written < a.records:
        acct = ACCOUNTS[n % len(ACCOUNTS)]
        region = REGIONS[(n // len(ACCOUNTS)) % len(REGIONS)]
        minute = n * 5
        day = 1 + (minute // 1440) % 28
        hh, mm = (minute // 60) % 24, minute % 60
        count = min(a.per_file, a.records - written)
        records = []
        for _ in range(count):
            m = mm + r.randrange(5)
            records.append(record(r, acct, region, f"2026-11-{day:02d}T{hh:02d}:{m:02d}:00Z"))
        records.sort(key=lambda rec: rec["eventTime"])
        d = os.path.join(a.out, "AWSLogs", acct, "CloudTrail", region, "2026", "11", f"{day:02d}")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, f"{acct}_CloudTrail_{region}_202611{day:02d}T{hh:02d}{mm:02d}Z_{n:08x}.json.gz")
        data = json.dumps({"Records": records}, separators=(",", ":")).encode()
        # mtime=0: the same seed gives the same bytes.
        with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", compresslevel=6, mtime=0, filename="") as z:
            z.write(data)
        raw += len(data)
        stored += os.path.getsize(path)
        written += count
        n += 1
    print(f"wrote {written} records in {n} files under {a.out}: {stored} bytes gzip, {raw} bytes JSON, "
          f"compression ratio {raw / stored:.2f}:1")


if __name__ == "__main__":
    main()
