//! The narrow capabilities the pipeline needs from the outside world. Adapters implement them
//! (`iamwatch-aws`: Organizations/IAM, Security Hub, EventBridge; `iamwatch-notify`: Jira,
//! Slack); tests use the `Memory*` doubles in each adapter crate's test support. The core never
//! calls them itself: the Lambda handlers drive them.
//!
//! # Contract
//!
//! - Every method may be called concurrently from several tasks.
//! - An error is [`PortError`]: `retryable` says whether the same call may succeed later
//!   (throttling, 5xx, timeouts); a handler fails the message so SQS redelivers it. A
//!   non-retryable error (access denied, validation) must not be retried in a loop.
//! - Calls are idempotent where the design needs it: filing a finding with an id that exists
//!   updates it; opening a ticket for a finding that already has one comments on it instead.

use crate::enrich::Enrichment;
use crate::finding::Finding;
use crate::finding_event::FindingEvent;
use crate::record::CloudTrailRecord;
use crate::resolve::Resolution;
use std::future::Future;

/// A failed call to an adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation}: {message}")]
pub struct PortError {
    /// What was attempted, e.g. `securityhub:BatchImportFindings in 111122223333`.
    pub operation: String,
    pub message: String,
    /// Whether trying again later may succeed.
    pub retryable: bool,
}

/// Looks up the context of an event: the account, the target user.
pub trait Enricher: Send + Sync {
    /// Enriches an event about `target_user` (if any). Never fails: what could not be looked
    /// up is left `None` and named in [`Enrichment::gaps`].
    fn enrich(
        &self,
        record: &CloudTrailRecord,
        target_user: Option<&str>,
    ) -> impl Future<Output = Enrichment> + Send;
}

/// The outcome of filing a batch of findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileReport {
    /// Ids filed (created or updated).
    pub filed: Vec<String>,
    /// Ids that failed, with the reason and whether a retry may help.
    pub failed: Vec<(String, PortError)>,
}

/// Where findings go (Security Hub).
pub trait FindingSink: Send + Sync {
    /// Files findings; a finding whose id exists is updated. Implementations batch as the
    /// backend requires and report per-finding failures instead of failing the whole call.
    fn file(&self, findings: &[Finding]) -> impl Future<Output = FileReport> + Send;

    /// The active findings `resolution` ends, so the caller can archive them.
    fn findings_ended_by(
        &self,
        resolution: &Resolution,
    ) -> impl Future<Output = Result<Vec<Finding>, PortError>> + Send;
}

/// Where finding events go (EventBridge), for ticketing and anyone else listening.
pub trait FindingPublisher: Send + Sync {
    fn publish(
        &self,
        events: &[FindingEvent],
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// A ticket that was opened or updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRef {
    pub key: String,
    pub url: String,
    /// False when an existing ticket for the finding was found and commented on.
    pub created: bool,
}

/// Opens tickets (Jira).
pub trait TicketSink: Send + Sync {
    /// Opens a ticket for the finding, or comments on the one that exists for it.
    fn open(
        &self,
        event: &FindingEvent,
    ) -> impl Future<Output = Result<TicketRef, PortError>> + Send;
}

/// Tells people (Slack).
pub trait Notifier: Send + Sync {
    fn notify(
        &self,
        event: &FindingEvent,
        ticket: Option<&TicketRef>,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}
