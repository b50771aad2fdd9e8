//! Without the `aws` feature, `scan s3://...` says what it needs and reads nothing.
#![cfg(not(feature = "aws"))]

use std::process::Command;

#[test]
fn s3_urls_need_the_aws_feature() {
    let out = Command::new(env!("CARGO_BIN_EXE_iamwatch"))
        .args(["scan", "s3://org-trail/AWSLogs/", "--since", "2024-08-01"])
        .output()
        .expect("run iamwatch");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("s3:// sources need iamwatch built with the aws feature"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}
