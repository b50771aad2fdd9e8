//! The SDK configuration of iamwatch's AWS clients (the functions' and the CLI's).

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
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
    defaults(attempts).load().await
}

/// The loader of [`load_sdk_config`]: retries, timeouts and one HTTP client ([`http_client`]).
fn defaults(attempts: u32) -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config(attempts))
        .timeout_config(timeout_config())
        .http_client(http_client())
}

/// One HTTPS client (hyper 1, rustls with aws-lc, the proxy of `HTTPS_PROXY`/`NO_PROXY`), the
/// SDK's default, made once. Without it every service client made from the configuration gets
/// its own connection pool, which goes when the client goes: the enrichment, which makes an IAM
/// client per user, opened a new connection (a TLS handshake in AWS) for every call. Shared, the
/// clients of every account reuse the open connections to each endpoint.
pub fn http_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut b = ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
        b.set_connector_settings(settings.cloned());
        if let Some(c) = components {
            b.set_sleep_impl(c.sleep_impl());
        }
        b.set_proxy_config(Some(ProxyConfig::from_env()));
        b.build()
    })
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

    /// The configuration of [`load_sdk_config`] for a local endpoint.
    async fn local(port: u16, attempts: u32) -> SdkConfig {
        defaults(attempts)
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "k", "s", None, None, "test",
            ))
            .load()
            .await
    }

    /// Clients made one after the other from one configuration, as the enrichment makes them
    /// per user, reuse one connection.
    #[tokio::test]
    async fn clients_of_one_configuration_share_their_connections() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        const BODY: &str = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
            <GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/a</Arn><UserId>AIDA</UserId>\
            <Account>123456789012</Account></GetCallerIdentityResult>\
            <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>";
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let server = tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        // One request: the head, then the body its content-length announces.
                        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                            match conn.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                            continue;
                        };
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        while buf.len() < end + 4 + len {
                            match conn.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        buf.drain(..end + 4 + len);
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{BODY}",
                            BODY.len()
                        );
                        if conn.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        let sdk = local(port, 1).await;
        for _ in 0..3 {
            let who = aws_sdk_sts::Client::new(&sdk)
                .get_caller_identity()
                .send()
                .await
                .unwrap();
            assert_eq!(who.account(), Some("123456789012"));
        }
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "one connection for three clients"
        );
        server.abort();
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
        let sdk = local(port, 2).await;
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
