//! Sending one HTTP request with a timeout and bounded retries.
//!
//! A response of 429 or 5xx, a timeout or a connection failure is retried with exponential
//! backoff (a little jitter added), honouring `Retry-After` in seconds. Any other 4xx is final.
//! When the attempts run out, or the server asks for a wait longer than
//! [`RetryPolicy::max_delay`], the call fails with a retryable [`PortError`] so the caller's
//! message goes back to its queue and is tried again later.
//!
//! A call that is not idempotent (creating a Jira issue) is repeated only when the server
//! certainly did not act on it: a 429, or a connection that was never made. A timeout, a 5xx or
//! a lost response fails it at once (retryable: the caller looks before trying again).

use iamwatch_core::ports::PortError;
use reqwest::{RequestBuilder, StatusCode};
use std::time::Duration;

/// How a request is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (at least 1).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubled before each later one.
    pub base_delay: Duration,
    /// The longest wait between attempts. A `Retry-After` longer than this ends the retries.
    pub max_delay: Duration,
    /// Timeout of one attempt (connect, send, read the whole response).
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 500 ms doubling, waits up to 10 s, 10 s per attempt: within a Lambda
    /// timeout of a minute even in the worst case.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            timeout: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The backoff before attempt `attempt + 1` (`attempt` counts from 1), with jitter of up
    /// to a quarter of it, capped at `max_delay` ([`iamwatch_core::ports::backoff`]).
    pub fn backoff(&self, attempt: u32) -> Duration {
        iamwatch_core::ports::backoff(attempt, self.base_delay, self.max_delay)
    }
}

/// A successful response: its status and body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

/// The longest part of an error response body kept in an error message.
const MAX_ERROR_BODY: usize = 300;

/// Sends the request `make` builds (once per attempt) until it succeeds (2xx) or fails for good.
/// `operation` names the call in errors and logs; it must not contain a secret.
pub(crate) async fn send(
    policy: &RetryPolicy,
    operation: &str,
    make: impl Fn() -> RequestBuilder,
) -> Result<Reply, PortError> {
    send_with(policy, operation, true, make).await
}

/// [`send`], for a call that is `idempotent` or not (see the module docs).
pub(crate) async fn send_with(
    policy: &RetryPolicy,
    operation: &str,
    idempotent: bool,
    make: impl Fn() -> RequestBuilder,
) -> Result<Reply, PortError> {
    let attempts = policy.max_attempts.max(1);
    let mut attempt = 1;
    let unknown_outcome = |failure: Failure, attempt: u32| PortError {
        operation: operation.to_string(),
        message: format!(
            "{} (after {attempt} attempts; not repeated at once: Jira may have acted on it)",
            failure.message
        ),
        retryable: true,
    };
    loop {
        let failure = match make().timeout(policy.timeout).send().await {
            Ok(resp) => {
                let status = resp.status();
                let retry_after = retry_after(&resp);
                let body = match resp.bytes().await {
                    Ok(b) => b.to_vec(),
                    Err(e) => {
                        // The body could not be read (timeout mid-body): retry like a timeout.
                        let failure = Failure {
                            message: format!("reading the response: {}", e.without_url()),
                            retry_after: None,
                        };
                        if !idempotent {
                            return Err(unknown_outcome(failure, attempt));
                        }
                        if !wait_or_give_up(policy, operation, attempt, attempts, &failure).await {
                            return Err(failure.into_error(operation, attempt));
                        }
                        attempt += 1;
                        continue;
                    }
                };
                if status.is_success() {
                    return Ok(Reply { status, body });
                }
                let message = format!("HTTP {}: {}", status.as_u16(), snippet(&body));
                if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
                    return Err(PortError {
                        operation: operation.to_string(),
                        message,
                        retryable: false,
                    });
                }
                let failure = Failure {
                    message,
                    retry_after,
                };
                if !idempotent && status != StatusCode::TOO_MANY_REQUESTS {
                    return Err(unknown_outcome(failure, attempt));
                }
                failure
            }
            Err(e) => {
                let never_sent = e.is_connect();
                let failure = Failure {
                    message: if e.is_timeout() {
                        format!("timed out after {:?}", policy.timeout)
                    } else {
                        format!("request failed: {}", error_chain(e.without_url()))
                    },
                    retry_after: None,
                };
                if !idempotent && !never_sent {
                    return Err(unknown_outcome(failure, attempt));
                }
                failure
            }
        };
        if !wait_or_give_up(policy, operation, attempt, attempts, &failure).await {
            return Err(failure.into_error(operation, attempt));
        }
        attempt += 1;
    }
}

/// A retryable failure of one attempt.
struct Failure {
    message: String,
    retry_after: Option<Duration>,
}

impl Failure {
    fn into_error(self, operation: &str, attempts: u32) -> PortError {
        PortError {
            operation: operation.to_string(),
            message: format!("{} (after {attempts} attempts)", self.message),
            retryable: true,
        }
    }
}

/// Waits before the next attempt; false when there is none (attempts exhausted, or the server
/// asked for a longer wait than the policy allows).
async fn wait_or_give_up(
    policy: &RetryPolicy,
    operation: &str,
    attempt: u32,
    attempts: u32,
    failure: &Failure,
) -> bool {
    if attempt >= attempts {
        return false;
    }
    let delay = match failure.retry_after {
        Some(d) if d > policy.max_delay => {
            tracing::warn!(
                operation,
                retry_after_secs = d.as_secs(),
                "server asks for a longer wait than allowed; giving up for now"
            );
            return false;
        }
        Some(d) => d,
        None => policy.backoff(attempt),
    };
    tracing::warn!(
        operation,
        attempt,
        delay_ms = delay.as_millis() as u64,
        error = %failure.message,
        "retrying"
    );
    tokio::time::sleep(delay).await;
    true
}

/// `Retry-After` in seconds (the HTTP-date form is not used by Jira or Slack and is ignored).
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_string();
    }
    iamwatch_core::finding::truncate(text, MAX_ERROR_BODY)
}

fn error_chain(e: reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            timeout: Duration::from_secs(1),
        };
        let first = p.backoff(1);
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(125));
        let second = p.backoff(2);
        assert!(second >= Duration::from_millis(200) && second <= Duration::from_millis(250));
        assert_eq!(p.backoff(3), Duration::from_millis(300));
        assert_eq!(p.backoff(30), Duration::from_millis(300));
    }

    #[test]
    fn snippet_is_bounded() {
        assert_eq!(snippet(b""), "(empty body)");
        assert!(snippet(&[b'x'; 1000]).len() <= MAX_ERROR_BODY);
    }
}
