//! The ticket function: finding events from the standard queue `iamwatch-tickets` to Jira
//! issues and Slack messages, each at most once per episode of a finding, recorded in the
//! ticket ledger, with the ticket written back on the finding (DESIGN.md, "Data flow" and
//! "Reliability rules"; the environment, the ledger and the secrets are in
//! `docs/ticketing.md`).
//!
//! Per message, in one tracing span (`message`, with the SQS message id and the finding id):
//!
//! 1. **The envelope is checked** ([`parse_body`]): an EventBridge envelope with source
//!    `iamwatch`, detail-type `IAM Watch Finding`, `account` = the security account (the account
//!    of the findings bus, which only the detect function may write to), whose `detail` is a
//!    [`FindingEvent`] consistent with itself (the finding id's account is the event's account;
//!    the finding was filed in that account or in the security account). Anything else is
//!    refused with its reason.
//! 2. An active finding scoring below the policy's `ticket_min_severity` is skipped.
//! 3. **The episode is claimed in the ledger** ([`TicketLedger`], conditional writes): an
//!    active finding with no entry, or one archived before this observation, begins an episode;
//!    an archive ends the current one. Late deliveries (an observation from before the latest
//!    archive, an archive from before the current episode began) are skipped. A delivery claims
//!    the episode for [`Ticketer::claim_lease`]; a concurrent delivery of the same finding
//!    finds the claim and fails for a later retry, so two deliveries never both act.
//! 4. **Each output not yet done is done and recorded at once**, independently: for an active
//!    finding, the Jira issue (found or created; for a recurrence the earlier issue reopened or
//!    commented on), the Slack message (with the issue's link when there is one; Slack never
//!    waits for Jira), the write-back of the issue on the finding, to the account and finding id
//!    the ledger holds from when the episode began, never to what a later event says; for an
//!    archived finding, its issue closed or commented on. A retry resumes only what failed.
//! 5. **The outcome**: all done -> the message is deleted; a failure a retry may fix -> the
//!    message fails (SQS redelivers it); a message that can never succeed (malformed, refused,
//!    a 4xx from Jira or Slack) goes straight to the dead-letter queue with its reason
//!    ([`DeadLetters`], SQS `SendMessage`: Lambda's SQS source has no on-failure destination)
//!    and is reported done, so it is never retried in vain.
//!
//! The batch loop is [`iamwatch_lambda::batch`]: a message is started only while
//! [`Ticketer::message_budget`] of the invocation's time is left, and cut off
//! [`DEADLINE_MARGIN`] before the deadline; the rest are failed unprocessed.
//!
//! The adapters: `iamwatch_notify::JiraTicketSink` ([`IssueTracker`]) and `SlackNotifier`
//! behind their secrets ([`secrets`]), `iamwatch_aws::DynamoDbLedger`,
//! `iamwatch_aws::SecurityHubWriteBack` (through the role `iamwatch-writeback`),
//! `iamwatch_aws::SqsDeadLetters`.

pub mod config;
pub mod secrets;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use iamwatch_core::finding::{Finding, RecordState};
use iamwatch_core::finding_event::{FindingEvent, FINDING_EVENT_DETAIL_TYPE, FINDING_EVENT_SOURCE};
use iamwatch_core::ports::{
    DeadLetters, Issue, IssueTracker, LedgerEntry, Notifier, PortError, TicketLedger, TicketRef,
    TicketWriteBack,
};
use iamwatch_lambda::batch::{self, BatchOptions, DeadlineBudget, Disposition};
use lambda_runtime::LambdaEvent;
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the handler needs, built once per container. `None` turns a step off.
pub struct Ticketer<T, N, W, L, D> {
    pub jira: Option<T>,
    pub slack: Option<N>,
    pub write_back: W,
    pub ledger: L,
    /// Where messages that can never succeed go at once; `None`: they fail and reach the
    /// dead-letter queue after their retries.
    pub dead_letters: Option<D>,
    /// The account whose findings bus carries the finding events (the function's own).
    pub security_account: String,
    /// Findings scoring below this get no ticket.
    pub min_score: u8,
    /// A message is started only while at least this much of the invocation's time is left.
    pub message_budget: Duration,
    /// How long a delivery's claim on an episode holds when it is not released (a crash): longer
    /// than a message can run, shorter than the queue's visibility timeout.
    pub claim_lease: Duration,
}

/// The default [`Ticketer::message_budget`]: what one message takes in a bad case (a retry or
/// two of each call) with the notifiers' Lambda retry policy ([`lambda_retry_policy`]).
pub const DEFAULT_MESSAGE_BUDGET: Duration = Duration::from_secs(30);

/// The default [`Ticketer::claim_lease`]: above the function's timeout (120 s), below the
/// queue's visibility timeout (720 s).
pub const DEFAULT_CLAIM_LEASE: Duration = Duration::from_secs(300);

/// A message still running this close to the deadline is cut off and failed, so the
/// invocation answers before Lambda times it out.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(3);

/// Reads and conditional writes of one claim before giving up for a later retry.
const MAX_LEDGER_ROUNDS: usize = 5;

/// The notifiers' retry policy in the Lambda: 3 attempts of at most 5 s each, waits of at most
/// 5 s (a longer `Retry-After` fails the message for a later redelivery).
pub fn lambda_retry_policy() -> iamwatch_notify::RetryPolicy {
    iamwatch_notify::RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(5),
        timeout: Duration::from_secs(5),
    }
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The episode's outputs are done (`ticket`: its Jira issue, if any).
    Done {
        ticket: Option<TicketRef>,
        episode: u32,
    },
    /// Nothing to do, and why.
    Skipped(&'static str),
}

/// Why a message failed.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// The body is not a finding event; it never will be.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A finding event that did not come from the detect function through the findings bus.
    #[error("refused finding event: {0}")]
    Refused(String),
    /// A call failed; `retryable` on the error says whether a redelivery may succeed.
    #[error(transparent)]
    Port(#[from] PortError),
}

impl MessageError {
    /// Whether a retry may succeed.
    pub fn retryable(&self) -> bool {
        matches!(self, MessageError::Port(e) if e.retryable)
    }
}

#[derive(Deserialize)]
struct Envelope {
    source: Option<String>,
    #[serde(rename = "detail-type")]
    detail_type: Option<String>,
    account: Option<String>,
    detail: Option<serde_json::Value>,
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The account of a finding's product ARN
/// (`arn:<partition>:securityhub:<region>:<account>:product/...`), if it is an account id.
fn product_account(product_arn: &str) -> Option<&str> {
    let parts: Vec<&str> = product_arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "securityhub", _, account, ..] if is_account_id(account) => Some(account),
        _ => None,
    }
}

/// Parses and checks an SQS body: an EventBridge envelope of a finding event published on the
/// findings bus of `security_account` (see the crate docs, step 1).
pub fn parse_body(body: &str, security_account: &str) -> Result<FindingEvent, MessageError> {
    let envelope: Envelope = serde_json::from_str(body)
        .map_err(|e| MessageError::Malformed(format!("not an EventBridge envelope: {e}")))?;
    if envelope.source.as_deref() != Some(FINDING_EVENT_SOURCE)
        || envelope.detail_type.as_deref() != Some(FINDING_EVENT_DETAIL_TYPE)
    {
        return Err(MessageError::Refused(format!(
            "source {:?} detail-type {:?} is not {FINDING_EVENT_SOURCE:?} {FINDING_EVENT_DETAIL_TYPE:?}",
            envelope.source, envelope.detail_type
        )));
    }
    match envelope.account.as_deref() {
        Some(a) if a == security_account => {}
        Some(a) => {
            return Err(MessageError::Refused(format!(
                "envelope account {a:?} is not the security account {security_account}: finding \
                 events come only from the detect function's findings bus"
            )))
        }
        None => {
            return Err(MessageError::Refused(
                "the envelope has no account (EventBridge always sets it)".to_string(),
            ))
        }
    }
    let detail = envelope
        .detail
        .ok_or_else(|| MessageError::Malformed("the envelope has no detail".to_string()))?;
    let event: FindingEvent = serde_json::from_value(detail)
        .map_err(|e| MessageError::Malformed(format!("detail is not a finding event: {e}")))?;
    check_event(&event, security_account)?;
    Ok(event)
}

/// A finding event consistent with itself and with where findings may be filed.
fn check_event(e: &FindingEvent, security_account: &str) -> Result<(), MessageError> {
    let refuse = |why: String| Err(MessageError::Refused(format!("{}: {why}", e.finding_id)));
    if e.finding.id != e.finding_id {
        return refuse(format!(
            "detail.finding.Id {:?} differs from detail.findingId",
            e.finding.id
        ));
    }
    let id_account = e
        .finding_id
        .strip_prefix("iamwatch/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("");
    if !is_account_id(id_account) || id_account != e.account_id {
        return refuse(format!(
            "the finding id's account {id_account:?} is not a 12-digit account id equal to \
             detail.accountId {:?}",
            e.account_id
        ));
    }
    let allowed = |a: &str| a == e.account_id || a == security_account;
    match product_account(&e.finding.product_arn) {
        Some(a) if allowed(a) => {}
        _ => {
            return refuse(format!(
                "ProductArn {:?} is not of the finding's account or the security account",
                e.finding.product_arn
            ))
        }
    }
    if !allowed(&e.finding.aws_account_id) {
        return refuse(format!(
            "AwsAccountId {:?} is not the finding's account or the security account",
            e.finding.aws_account_id
        ));
    }
    Ok(())
}

/// `a` is strictly later than `b` (RFC 3339; by text when one does not parse).
fn later(a: &str, b: &str) -> bool {
    use iamwatch_core::time::parse_millis;
    match (parse_millis(a), parse_millis(b)) {
        (Some(x), Some(y)) => x > y,
        _ => a > b,
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A token naming one delivery's claim, unique across containers.
fn claim_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn ledger_error(message: String) -> PortError {
    PortError {
        operation: "ticket ledger".to_string(),
        message,
        retryable: true,
    }
}

/// What the ledger says to do with an event.
enum Step {
    Skip(&'static str),
    /// The episode, claimed by this delivery.
    Work(Box<LedgerEntry>),
}

impl<T, N, W, L, D> Ticketer<T, N, W, L, D>
where
    T: IssueTracker,
    N: Notifier,
    W: TicketWriteBack,
    L: TicketLedger,
    D: DeadLetters,
{
    /// The first entry of an episode of the finding: where it was filed, as checked.
    fn new_episode(event: &FindingEvent, episode: u32, previous: Option<Issue>) -> LedgerEntry {
        let f = &event.finding;
        LedgerEntry {
            finding_id: event.finding_id.clone(),
            episode,
            filed_in: product_account(&f.product_arn)
                .unwrap_or(&f.aws_account_id)
                .to_string(),
            product_arn: f.product_arn.clone(),
            opened_at: f.last_observed_at.clone(),
            previous_issue: previous,
            ..LedgerEntry::default()
        }
    }

    /// Whether every output the event asks for is done in `entry`.
    fn done(&self, entry: &LedgerEntry, active: bool) -> bool {
        if active {
            let jira = self.jira.is_none() || (entry.issue.is_some() && entry.written_back);
            let slack = self.slack.is_none() || entry.slack_sent;
            jira && slack
        } else {
            self.jira.is_none() || entry.issue.is_none() || entry.issue_closed
        }
    }

    /// Finds the episode the event belongs to and claims it (crate docs, step 3).
    async fn begin(&self, event: &FindingEvent, token: &str) -> Result<Step, PortError> {
        let active = event.record_state == RecordState::Active;
        for _ in 0..MAX_LEDGER_ROUNDS {
            let latest = self.ledger.latest(&event.finding_id).await?;
            let mut just_archived = false;
            let mut entry = match (active, latest) {
                (true, None) => Self::new_episode(event, 1, None),
                (true, Some(e)) => {
                    match &e.archived_at {
                        None => e,
                        Some(archived) if later(&event.finding.last_observed_at, archived) => {
                            let previous = e.issue.clone().or(e.previous_issue.clone());
                            Self::new_episode(event, e.episode + 1, previous)
                        }
                        Some(_) => return Ok(Step::Skip(
                            "observed before the finding was last archived: a late delivery of \
                             an ended episode",
                        )),
                    }
                }
                (false, None) => return Ok(Step::Skip("no ticket was opened for this finding")),
                (false, Some(mut e)) => {
                    if e.archived_at.is_none() {
                        if later(&e.opened_at, &event.finding.updated_at) {
                            return Ok(Step::Skip(
                                "archived before the current episode began: a late delivery",
                            ));
                        }
                        e.archived_at = Some(event.finding.updated_at.clone());
                        just_archived = true;
                    }
                    e
                }
            };
            if entry.version > 0 && !just_archived && self.done(&entry, active) {
                return Ok(Step::Skip("every output of this episode is done already"));
            }
            let now = unix_now();
            if let Some((holder, until)) = &entry.claim {
                if holder != token && *until > now {
                    return Err(ledger_error(format!(
                        "another delivery of this finding is working on episode {} (its claim \
                         holds for {} s more); retried later",
                        entry.episode,
                        until - now
                    )));
                }
            }
            entry.claim = Some((token.to_string(), now + self.claim_lease.as_secs()));
            if self.ledger.put(&entry).await? {
                entry.version += 1;
                return Ok(Step::Work(Box::new(entry)));
            }
            // Another delivery wrote first: read again.
        }
        Err(ledger_error(format!(
            "the ledger entry of {} kept changing; retried later",
            event.finding_id
        )))
    }

    /// Records `entry`, which this delivery has claimed.
    async fn save(&self, entry: &mut LedgerEntry) -> Result<(), PortError> {
        if self.ledger.put(entry).await? {
            entry.version += 1;
            Ok(())
        } else {
            Err(ledger_error(format!(
                "the ledger entry of {} episode {} changed under this delivery's claim",
                entry.finding_id, entry.episode
            )))
        }
    }

    /// The episode's issue: for a recurrence the earlier issue reopened or commented on, else
    /// the issue of the episode found or created.
    async fn open_issue(
        &self,
        jira: &T,
        event: &FindingEvent,
        entry: &LedgerEntry,
    ) -> Result<(Issue, bool), PortError> {
        if let Some(previous) = &entry.previous_issue {
            if jira.recur(previous, event).await? {
                return Ok((previous.clone(), false));
            }
        }
        let known: Vec<String> = entry.previous_issue.iter().map(|i| i.id.clone()).collect();
        jira.open(event, entry.episode, &known).await
    }

    /// The finding the write-back targets: the ledger's finding id, account and product ARN.
    fn write_back_target(event: &FindingEvent, entry: &LedgerEntry) -> Finding {
        Finding {
            id: entry.finding_id.clone(),
            product_arn: entry.product_arn.clone(),
            aws_account_id: entry.filed_in.clone(),
            ..event.finding.clone()
        }
    }

    /// The outputs of an active finding not yet done; each recorded as soon as it is done.
    async fn active_outputs(
        &self,
        event: &FindingEvent,
        entry: &mut LedgerEntry,
        errors: &mut Vec<PortError>,
    ) -> Result<(), PortError> {
        if let (Some(jira), None) = (&self.jira, &entry.issue) {
            match self.open_issue(jira, event, entry).await {
                Ok((issue, created)) => {
                    tracing::info!(ticket = %issue.key, created, episode = entry.episode, "Jira issue of the episode");
                    entry.issue = Some(issue);
                    entry.issue_created = created;
                    self.save(entry).await?;
                }
                Err(e) => errors.push(e),
            }
        }
        if let (Some(slack), false) = (&self.slack, entry.slack_sent) {
            let ticket = entry.issue.as_ref().map(|i| i.ticket(entry.issue_created));
            match slack.notify(event, ticket.as_ref()).await {
                Ok(()) => {
                    entry.slack_sent = true;
                    self.save(entry).await?;
                }
                Err(e) => errors.push(e),
            }
        }
        if let (Some(issue), false) = (entry.issue.clone(), entry.written_back) {
            let target = Self::write_back_target(event, entry);
            match self
                .write_back
                .write_back(&target, &issue.ticket(entry.issue_created))
                .await
            {
                Ok(()) => {
                    tracing::info!(ticket = %issue.key, "ticket written back on the finding");
                    entry.written_back = true;
                    self.save(entry).await?;
                }
                Err(e) if e.retryable => errors.push(e),
                Err(e) => {
                    tracing::warn!(
                        ticket = %issue.key,
                        error = %e,
                        "could not write the ticket back on the finding; the ticket stands"
                    );
                    entry.written_back = true;
                    self.save(entry).await?;
                }
            }
        }
        Ok(())
    }

    /// Handles one finding event (crate docs, steps 2 to 5).
    pub async fn process(&self, event: &FindingEvent) -> Result<Outcome, MessageError> {
        let active = event.record_state == RecordState::Active;
        if active && event.score < self.min_score {
            return Ok(Outcome::Skipped("the score is below ticket_min_severity"));
        }
        let token = claim_token();
        let mut entry = match self.begin(event, &token).await? {
            Step::Skip(why) => return Ok(Outcome::Skipped(why)),
            Step::Work(entry) => *entry,
        };
        let mut errors = Vec::new();
        let worked = if active {
            self.active_outputs(event, &mut entry, &mut errors).await
        } else {
            match (&self.jira, entry.issue.clone(), entry.issue_closed) {
                (Some(jira), Some(issue), false) => match jira.close(&issue, event).await {
                    Ok(()) => {
                        tracing::info!(ticket = %issue.key, "the archive told to the Jira issue");
                        entry.issue_closed = true;
                        self.save(&mut entry).await
                    }
                    Err(e) => {
                        errors.push(e);
                        Ok(())
                    }
                },
                _ => self.save(&mut entry).await,
            }
        };
        // Release the claim, whatever happened (a claim left behind lapses after its lease).
        entry.claim = None;
        if let Err(e) = self.save(&mut entry).await {
            tracing::warn!(error = %e, "could not release the ledger claim; it lapses by itself");
        }
        worked?;
        if errors.is_empty() {
            return Ok(Outcome::Done {
                ticket: entry.issue.as_ref().map(|i| i.ticket(entry.issue_created)),
                episode: entry.episode,
            });
        }
        let retryable = errors.iter().any(|e| e.retryable);
        Err(MessageError::Port(PortError {
            operation: errors
                .iter()
                .map(|e| e.operation.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            message: errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            retryable,
        }))
    }

    /// Handles one SQS message.
    pub async fn process_message(&self, body: &str) -> Result<Outcome, MessageError> {
        let event = parse_body(body, &self.security_account)?;
        tracing::Span::current().record("finding_id", event.finding_id.as_str());
        self.process(&event).await
    }
}

/// The Lambda handler: one SQS batch, per-message failures reported.
pub async fn handler<T, N, W, L, D>(
    ticketer: &Ticketer<T, N, W, L, D>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error>
where
    T: IssueTracker,
    N: Notifier,
    W: TicketWriteBack,
    L: TicketLedger,
    D: DeadLetters,
{
    let options = BatchOptions {
        operation: "ticket",
        deadline: Some(DeadlineBudget {
            message: ticketer.message_budget,
            margin: DEADLINE_MARGIN,
        }),
    };
    let span = |message_id: &str| {
        tracing::info_span!(
            "message",
            message_id = %message_id,
            finding_id = tracing::field::Empty
        )
    };
    let records = &event.payload.records;
    let deadline = event.context.deadline;
    let response = batch::process(records, deadline, &options, span, async |m: &SqsMessage| {
        let body = m.body.as_deref().unwrap_or("");
        match ticketer.process_message(body).await {
            Ok(Outcome::Done { ticket, episode }) => {
                tracing::info!(
                    ticket = ticket.as_ref().map(|t| t.key.as_str()).unwrap_or("none"),
                    created = ticket.as_ref().is_some_and(|t| t.created),
                    episode,
                    "finding ticketed"
                );
                Disposition::Done
            }
            Ok(Outcome::Skipped(reason)) => {
                tracing::info!(reason, "finding skipped");
                Disposition::Done
            }
            Err(e) if e.retryable() => {
                tracing::error!(error = %e, retryable = true, "message failed; SQS redelivers it");
                Disposition::Failed
            }
            Err(e) => dead_letter(ticketer.dead_letters.as_ref(), m, body, &e).await,
        }
    })
    .await;
    Ok(response)
}

/// A message that can never succeed: to the dead-letter queue at once with its reason, and done;
/// without a dead-letter port (or when sending fails), failed, reaching the DLQ after its retries.
async fn dead_letter<D: DeadLetters>(
    dead_letters: Option<&D>,
    m: &SqsMessage,
    body: &str,
    error: &MessageError,
) -> Disposition {
    let reason = error.to_string();
    let Some(dlq) = dead_letters else {
        tracing::error!(error = %reason, retryable = false, "message can never succeed; it reaches the DLQ after its retries");
        return Disposition::Failed;
    };
    let id = m.message_id.as_deref().unwrap_or("");
    match dlq.dead_letter(id, body, &reason).await {
        Ok(()) => {
            tracing::error!(error = %reason, retryable = false, "message can never succeed; sent to the DLQ with its reason");
            Disposition::Done
        }
        Err(e) => {
            tracing::error!(error = %reason, dlq_error = %e, "message can never succeed and could not be sent to the DLQ; it reaches the DLQ after its retries");
            Disposition::Failed
        }
    }
}
