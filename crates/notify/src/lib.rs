//! Notifiers of iamwatch: Jira Cloud tickets and Slack messages for urgent findings.
//!
//! No AWS SDK here: the ticket function fetches the credentials (Secrets Manager) and hands
//! them in. Every call has a timeout and bounded retries with exponential backoff on 429 and
//! 5xx (honouring `Retry-After`); failures are [`PortError`]s whose `retryable` says whether
//! the message should be tried again (429, 5xx, timeouts) or not (any other 4xx).
//!
//! # Layout
//!
//! - [`jira`]: [`JiraTicketSink`], an `IssueTracker` (and a [`TicketSink`]) over Jira Cloud REST
//!   v3: open an episode's issue (search with reconciliation, then create), close or comment it
//!   when the finding is archived, reopen or comment it when it recurs; descriptions and
//!   comments in Atlassian Document Format.
//! - [`slack`]: [`SlackNotifier`], a [`Notifier`] posting Block Kit to an incoming webhook.
//! - [`secret`]: the credential types, whose `Debug` redacts the secrets.
//! - [`http`]: one request with a timeout and retries ([`RetryPolicy`]).
//! - `content`: what tickets and messages say, shared by both, including the essentials of each
//!   rule's runbook (first triage steps, containment command) that `build.rs` compiles in from
//!   `runbooks/*.md` with `essentials_parse`; a test keeps them equal to the runbooks.
//! - `testing` (feature `test-support`), by what it fakes: the HTTP test server of the tests
//!   (`testing::server`), Jira and Slack on it, `Memory*` doubles of the ports, and a sample
//!   finding event.
//!
//! [`PortError`]: iamwatch_core::ports::PortError
//! [`TicketSink`]: iamwatch_core::ports::TicketSink
//! [`Notifier`]: iamwatch_core::ports::Notifier

use iamwatch_core::ports::PortError;

mod content;
#[cfg(test)]
mod essentials_parse;
pub mod http;
pub mod jira;
pub mod secret;
pub mod slack;
#[cfg(feature = "test-support")]
pub mod testing;

pub use http::RetryPolicy;
pub use jira::{episode_label, finding_label, JiraConfig, JiraTicketSink};
pub use secret::{JiraCredentials, SlackWebhook};
pub use slack::SlackNotifier;

/// Whether a notifier's error is an HTTP 401: the credentials were refused (rotated, revoked).
pub fn is_unauthorized(e: &PortError) -> bool {
    e.message.starts_with("HTTP 401")
}

/// Whether a failed call can never succeed as it is: a client error (4xx other than 401 and
/// 429, e.g. a Jira field the project no longer has, a Slack channel archived or gone), as the
/// error's `retryable` says.
pub fn is_permanent(e: &PortError) -> bool {
    !e.retryable && !is_unauthorized(e)
}

/// A notifier that cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// A setting is wrong; `what` names it.
    #[error("{what}: {message}")]
    Config { what: &'static str, message: String },
    /// The HTTP client could not be built (TLS setup).
    #[error("HTTP client: {0}")]
    Client(String),
}

/// The HTTP client shared by the notifiers: rustls, no proxy lookup surprises, pooled.
pub(crate) fn client() -> Result<reqwest::Client, NotifyError> {
    reqwest::Client::builder()
        .user_agent(concat!("iamwatch/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(5))
        .build()
        .map_err(|e| NotifyError::Client(e.to_string()))
}
