//! The SDK configuration of iamwatch's AWS clients (the functions' and the CLI's).

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use std::time::Duration;

/// Attempts per AWS call (first try included) unless `AWS_MAX_ATTEMPTS` says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// The partition of a region.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The SDK configuration from the environment (credentials, region, `AWS_ENDPOINT_URL`), with
/// standard retries: exponential backoff with jitter on throttling and 5xx, at most
/// `AWS_MAX_ATTEMPTS` attempts (default [`DEFAULT_MAX_ATTEMPTS`]).
pub async fn load_sdk_config() -> SdkConfig {
    let attempts = std::env::var("AWS_MAX_ATTEMPTS")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_ATTEMPTS);
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_secs(5)),
        )
        .load()
        .await
}

#[cfg(test)]
mod tests {
    use super::partition_of;

    #[test]
    fn partitions_of_regions() {
        assert_eq!(partition_of("us-east-1"), "aws");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
    }
}
