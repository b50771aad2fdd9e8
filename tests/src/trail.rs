//! An organization trail's log files as CloudTrail writes them to S3
//! (`AWSLogs/o-ORGID/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/...json.gz`), generated, and put
//! into a bucket of moto's S3.

use crate::HarnessError;
use aws_sdk_s3::primitives::ByteStream;
use flate2::{write::GzEncoder, Compression};
use serde_json::{json, Value};
use std::io::Write;

/// The organization id in the generated keys.
pub const ORG: &str = "o-abcdefghij";

/// One CloudTrail record at `HOUR:30` UTC of `date` (`YYYY-MM-DD`): a `CreateUser` of
/// `user` (a finding), or with `user` `None` an S3 read (out of scope).
pub fn record(account: &str, region: &str, date: &str, hour: u32, user: Option<&str>) -> Value {
    let time = format!("{date}T{hour:02}:30:00Z");
    let id = format!("{account}-{region}-{date}-{hour:02}");
    let identity = json!({
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLESSO1:jane.doe@example.com",
        "arn": format!("arn:aws:sts::{account}:assumed-role/AWSReservedSSO_Admin_0123/jane.doe@example.com"),
        "accountId": account,
        "accessKeyId": "ASIAEXAMPLESSO000001",
    });
    match user {
        Some(user) => json!({
            "eventVersion": "1.09",
            "userIdentity": identity,
            "eventTime": time,
            "eventSource": "iam.amazonaws.com",
            "eventName": "CreateUser",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.23",
            "userAgent": "aws-cli/2.22.0",
            "requestParameters": {"userName": user},
            "responseElements": {"user": {
                "path": "/", "userName": user, "userId": "AIDAEXAMPLE",
                "arn": format!("arn:aws:iam::{account}:user/{user}"),
                "createDate": "Aug 1, 2024 9:30:00 AM"
            }},
            "requestID": format!("req-{id}"),
            "eventID": format!("ev-{id}"),
            "readOnly": false,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": account,
            "eventCategory": "Management",
        }),
        None => json!({
            "eventVersion": "1.09",
            "userIdentity": identity,
            "eventTime": time,
            "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject",
            "awsRegion": region,
            "sourceIPAddress": "198.51.100.23",
            "requestParameters": {"bucketName": "data", "key": "x"},
            "eventID": format!("s3-{id}"),
            "readOnly": true,
            "eventType": "AwsApiCall",
            "recipientAccountId": account,
        }),
    }
}

/// `bytes` gzip-compressed.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(bytes);
    gz.finish().unwrap_or_default()
}

/// `days` consecutive dates (`YYYY-MM-DD`) from `first`.
pub fn dates(first: &str, days: usize) -> Vec<String> {
    let start = iamwatch_core::time::parse_millis(&format!("{first}T00:00:00Z")).unwrap_or(0);
    (0..days as i64)
        .map(|i| iamwatch_core::time::format_millis(start + i * 86_400_000)[..10].to_string())
        .collect()
}

/// The key and gzip body of each log file of an organization trail: per account, region and
/// day from `first`, one file holding a `CreateUser` at 10:30 of a user named after them
/// (`u-ACCOUNT-REGION-YYYYMMDD`) between two S3 reads.
pub fn org_trail(
    accounts: &[&str],
    regions: &[&str],
    first: &str,
    days: usize,
) -> Vec<(String, Vec<u8>)> {
    let dates = dates(first, days);
    let mut out = Vec::new();
    for account in accounts {
        for region in regions {
            for date in &dates {
                let stamp = date.replace('-', "");
                let day = date.replace('-', "/");
                let user = format!("u-{account}-{region}-{stamp}");
                let records = vec![
                    record(account, region, date, 9, None),
                    record(account, region, date, 10, Some(&user)),
                    record(account, region, date, 11, None),
                ];
                let key = format!(
                    "AWSLogs/{ORG}/{account}/CloudTrail/{region}/{day}/{account}_CloudTrail_{region}_{stamp}T1205Z_{stamp}abc.json.gz"
                );
                out.push((
                    key,
                    gzip(json!({ "Records": records }).to_string().as_bytes()),
                ));
            }
        }
    }
    out
}

/// An S3 client of `sdk` with path-style addressing (moto serves buckets under its path).
pub fn client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Creates `bucket` (if it is not there) and puts `objects` into it.
pub async fn upload(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    objects: &[(String, Vec<u8>)],
) -> Result<(), HarnessError> {
    let exists = client.head_bucket().bucket(bucket).send().await.is_ok();
    if !exists {
        client
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| {
                HarnessError::aws(
                    format!("CreateBucket {bucket}"),
                    aws_sdk_s3::error::DisplayErrorContext(e),
                )
            })?;
    }
    for (key, body) in objects {
        client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .map_err(|e| {
                HarnessError::aws(
                    format!("PutObject {key}"),
                    aws_sdk_s3::error::DisplayErrorContext(e),
                )
            })?;
    }
    Ok(())
}

/// Writes `objects` under `dir` at their keys, as `aws s3 cp --recursive` would.
pub fn write_local(dir: &std::path::Path, objects: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    for (key, body) in objects {
        let path = dir.join(key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, body)?;
    }
    Ok(())
}
