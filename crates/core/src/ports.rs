//! The narrow capabilities the pipeline needs from the outside world. Adapters implement them
//! (`iamwatch-aws`: Organizations/IAM, Security Hub (filing and the ticket write-back),
//! EventBridge, Secrets Manager; `iamwatch-notify`: Jira, Slack); tests use the `Memory*`
//! doubles in each adapter crate's test support (feature `test-support`). The core never calls
//! them itself: the Lambda handlers drive them.
//!
//! # Contract
//!
//! - Every method may be called concurrently from several tasks.
//! - An error is [`PortError`]: `retryable` says whether the same call may succeed later
//!   (throttling, 5xx, timeouts); a handler fails the message so SQS redelivers it. A
//!   non-retryable error (access denied, validation) must not be retried in a loop.
//! - Calls are idempotent where the design needs it: filing a finding with an id that exists
//!   updates it; opening a ticket for a finding that already has one comments on it instead.
//! - An adapter that retries a call itself waits [`backoff`] between tries.

use crate::enrich::Enrichment;
use crate::finding::Finding;
use crate::finding_event::FindingEvent;
use crate::record::CloudTrailRecord;
use serde::de::DeserializeOwned;
use std::collections::BTreeSet;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

    /// The ids of the organization's accounts, when they can be read (cached by the adapter);
    /// `None` otherwise, and rules that ask whether an account is in the organization then
    /// fall back to "not the role's own account" ([`crate::rules::Context::in_org`]).
    fn org_accounts(&self) -> impl Future<Output = Option<BTreeSet<String>>> + Send;
}

/// The outcome of filing a batch of findings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileReport {
    /// The findings filed (created or updated), as filed: a sink that files a finding
    /// elsewhere than asked (Security Hub's fallback to the security account) returns it with
    /// the account, product ARN and fields it was filed under.
    pub filed: Vec<Finding>,
    /// Ids that failed, with the reason and whether a retry may help.
    pub failed: Vec<(String, PortError)>,
}

/// Where findings go (Security Hub).
pub trait FindingSink: Send + Sync {
    /// Files findings; a finding whose id exists is updated. Implementations batch as the
    /// backend requires and report per-finding failures instead of failing the whole call.
    fn file(&self, findings: &[Finding]) -> impl Future<Output = FileReport> + Send;

    /// Every active iamwatch finding of `account`, wherever it was filed (the member account,
    /// or the fallback account), each id once. The caller picks what a resolving event ends
    /// ([`crate::resolve::Resolution::ends`]) or what a rename moves
    /// ([`crate::resolve::Rename::applies`]).
    fn active_findings(
        &self,
        account: &str,
    ) -> impl Future<Output = Result<Vec<Finding>, PortError>> + Send;
}

/// The outcome of publishing a batch of finding events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishReport {
    /// Finding ids whose event was not published, with the reason and whether a retry may
    /// help; every other event was published.
    pub failed: Vec<(String, PortError)>,
}

/// Where finding events go (EventBridge), for ticketing and anyone else listening.
pub trait FindingPublisher: Send + Sync {
    /// Publishes the events. Implementations batch as the backend requires and report
    /// per-event failures (by finding id) instead of failing the whole call.
    fn publish(&self, events: &[FindingEvent]) -> impl Future<Output = PublishReport> + Send;
}

/// A ticket that was opened or updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRef {
    pub key: String,
    pub url: String,
    /// False when an existing ticket for the finding was found and commented on.
    pub created: bool,
}

/// Records on a finding that a ticket was opened for it (Security Hub's workflow status and
/// note).
pub trait TicketWriteBack: Send + Sync {
    /// Marks `finding` (as filed: its `Id` and `ProductArn`) as notified with `ticket`.
    /// Idempotent: writing the same ticket twice leaves the finding as after the first.
    fn write_back(
        &self,
        finding: &Finding,
        ticket: &TicketRef,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Reads secrets (Secrets Manager): the notifiers' credentials.
pub trait SecretStore: Send + Sync {
    /// The secret `id` parsed as JSON of type `T`. `form` describes the expected JSON for the
    /// error message; the secret's value never appears in an error.
    fn json<T: DeserializeOwned + Send>(
        &self,
        id: &str,
        form: &str,
    ) -> impl Future<Output = Result<T, PortError>> + Send;
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

/// An issue in the issue tracker (Jira): its key, its numeric id (what search reconciliation
/// takes) and its browse URL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Issue {
    pub key: String,
    pub id: String,
    pub url: String,
}

impl Issue {
    /// The issue as the [`Notifier`] and the [`TicketWriteBack`] name it.
    pub fn ticket(&self, created: bool) -> TicketRef {
        TicketRef {
            key: self.key.clone(),
            url: self.url.clone(),
            created,
        }
    }
}

/// The issue tracker (Jira) over the lifecycle of a finding: one issue per finding, opened once
/// per episode, closed (or commented) when the finding is archived, reopened (or commented) when
/// it recurs.
pub trait IssueTracker: Send + Sync {
    /// The issue of `episode` of the finding: the one that carries the episode's label, found by
    /// a search that reconciles the `known` issue ids (so an issue created moments ago is seen),
    /// else a new one. Returns the issue and whether it was created. A create whose outcome is
    /// unknown (timeout, 5xx) is not repeated in the call: it fails retryably, and the next call
    /// searches first.
    fn open(
        &self,
        event: &FindingEvent,
        episode: u32,
        known: &[String],
    ) -> impl Future<Output = Result<(Issue, bool), PortError>> + Send;

    /// The finding was archived: the issue is transitioned (a configured close transition) or
    /// commented on.
    fn close(
        &self,
        issue: &Issue,
        event: &FindingEvent,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    /// The finding is active again after it was archived: an open issue is commented on; a done
    /// one is reopened (a configured reopen transition) and commented on. `Ok(false)` when the
    /// issue is done and cannot be reopened: the caller opens a new issue for the episode
    /// rather than comment on a closed issue nobody reads.
    fn recur(
        &self,
        issue: &Issue,
        event: &FindingEvent,
    ) -> impl Future<Output = Result<bool, PortError>> + Send;
}

/// One episode of a finding in the ticket ledger: what the ticket function has done about it.
/// An episode begins when the finding becomes active (first seen, or seen again after it was
/// archived) and ends when it is archived.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LedgerEntry {
    pub finding_id: String,
    /// 1 for the first episode, one more for each recurrence.
    pub episode: u32,
    /// The account the finding was filed in, checked when the episode began: the write-back
    /// goes to this account and finding, whatever a later event says.
    pub filed_in: String,
    /// The finding's `ProductArn` as filed.
    pub product_arn: String,
    /// `LastObservedAt` of the event that began the episode.
    pub opened_at: String,
    /// `UpdatedAt` of the event that archived the finding; `None` while the episode is active.
    pub archived_at: Option<String>,
    /// The issue of the previous episode (for a recurrence: reopened or commented on).
    pub previous_issue: Option<Issue>,
    /// The episode's issue, once opened (or reopened).
    pub issue: Option<Issue>,
    /// Whether the issue was opened by this episode (not found or reopened).
    pub issue_created: bool,
    /// The archive was told to the issue (transitioned or commented on).
    pub issue_closed: bool,
    /// The Slack message of the episode was posted.
    pub slack_sent: bool,
    /// The issue was written back on the finding (or could never be).
    pub written_back: bool,
    /// The delivery working on the episode: its token and when its claim lapses (Unix seconds).
    pub claim: Option<(String, u64)>,
    /// The stored version this entry was read at; 0 for an entry not stored yet.
    pub version: u64,
}

/// The ticket ledger (DynamoDB): per finding and episode, the state of each output, written with
/// conditions so that concurrent deliveries of one finding never both act.
pub trait TicketLedger: Send + Sync {
    /// The latest episode of a finding, read consistently; `None` when there is none.
    fn latest(
        &self,
        finding_id: &str,
    ) -> impl Future<Output = Result<Option<LedgerEntry>, PortError>> + Send;

    /// Stores `entry` if the stored version of its finding id and episode is still
    /// `entry.version` (0: none stored); the stored version becomes `entry.version + 1`.
    /// `Ok(false)` when another writer came first: nothing was written.
    fn put(&self, entry: &LedgerEntry) -> impl Future<Output = Result<bool, PortError>> + Send;
}

/// Where a message that can never succeed goes at once, with its reason, instead of being
/// retried (the dead-letter queue).
pub trait DeadLetters: Send + Sync {
    fn dead_letter(
        &self,
        message_id: &str,
        body: &str,
        reason: &str,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// The wait before try `attempt + 1` (`attempt` counts from 1) of a call an adapter retries:
/// `base` doubled per earlier try, plus jitter of up to a quarter of it, never more than `max`.
pub fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let exp = base.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
    let capped = exp.min(max);
    let quarter = capped.as_nanos() as u64 / 4;
    let jitter = if quarter == 0 {
        0
    } else {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64)
            .unwrap_or(0);
        nanos % quarter
    };
    (capped + Duration::from_nanos(jitter)).min(max)
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let (base, max) = (Duration::from_millis(100), Duration::from_millis(300));
        let first = backoff(1, base, max);
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(125));
        let second = backoff(2, base, max);
        assert!(second >= Duration::from_millis(200) && second <= Duration::from_millis(250));
        assert_eq!(backoff(3, base, max), max);
        assert_eq!(backoff(30, base, max), max);
        assert_eq!(backoff(1, Duration::ZERO, max), Duration::ZERO);
    }
}
