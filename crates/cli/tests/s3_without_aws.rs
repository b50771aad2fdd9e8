//! Without the `aws` feature, `scan s3://...` says what it needs and reads nothing.
#![cfg(not(feature = "aws"))]

mod common;

use common::scan;

#[test]
fn s3_urls_need_the_aws_feature() {
    let (code, stdout, err) = scan(&["s3://org-trail/AWSLogs/", "--since", "2024-08-01"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("s3:// sources need iamwatch built with the aws feature"),
        "{err}"
    );
    assert!(stdout.is_empty());
}
