//! The SDK configuration of iamwatch's AWS clients (the functions' and the CLI's).

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use std::time::Duration;

/// Attempts per AWS call (first try included) unless `AWS_MAX_ATTEMPTS` says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// Longest wait for a connection to an AWS endpoint.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);
/// Longest time of one attempt of an AWS call (a hung connection is given up and retried).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest time of an AWS call, retries and waits included: well inside a function's
/// deadline, so no single call can use up an invocation.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(12);

/// The timeouts of every AWS call of iamwatch: [`CONNECT_TIMEOUT`], [`ATTEMPT_TIMEOUT`],
/// [`OPERATION_TIMEOUT`].
pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// Standard retries: exponential backoff with jitter on throttling, 5xx and timeouts,
/// `attempts` attempts at most.
pub fn retry_config(attempts: u32) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(attempts)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(5))
}

/// The partition of a region.
pub use iamwatch_core::build::partition_of;

/// The SDK configuration from the environment (credentials, region, `AWS_ENDPOINT_URL`), with
/// standard retries ([`retry_config`]: at most `AWS_MAX_ATTEMPTS` attempts, default
/// [`DEFAULT_MAX_ATTEMPTS`]) and the timeouts of [`timeout_config`] on every client made from it.
pub async fn load_sdk_config() -> SdkConfig {
    let attempts = std::env::var("AWS_MAX_ATTEMPTS")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_ATTEMPTS);
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config(attempts))
        .timeout_config(timeout_config())
        .load()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_has_attempt_and_operation_timeouts() {
        let t = timeout_config();
        assert_eq!(t.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(t.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
        assert_eq!(t.operation_timeout(), Some(OPERATION_TIMEOUT));
        assert!(ATTEMPT_TIMEOUT < OPERATION_TIMEOUT);
    }

    /// A server that accepts connections and never answers: the call fails with a timeout
    /// error (retryable) instead of waiting forever.
    #[tokio::test]
    async fn a_hung_endpoint_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((conn, _)) = listener.accept().await {
                open.push(conn);
            }
        });
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "k", "s", None, None, "test",
            ))
            .retry_config(retry_config(2))
            .timeout_config(timeout_config())
            .load()
            .await;
        let err = aws_sdk_sts::Client::new(&sdk)
            .get_caller_identity()
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                aws_smithy_runtime_api::client::result::SdkError::TimeoutError(_)
            ),
            "{err:?}"
        );
        assert!(crate::error::port_error("sts:GetCallerIdentity", &err).retryable);
        held.abort();
    }

    #[test]
    fn partitions_of_regions() {
        assert_eq!(partition_of("us-east-1"), "aws");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
    }
}
