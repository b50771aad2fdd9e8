//! The ticket function: finding events from the FIFO queue `iamwatch-tickets.fifo` to Jira
//! issues and Slack messages, with the ticket written back on the finding (DESIGN.md, "Data
//! flow"; the environment and secrets are in `docs/ticketing.md`).
//!
//! Per message, in one tracing span (`message`, with the SQS message id and the finding id):
//!
//! 1. the body is parsed as an EventBridge envelope (source `iamwatch`, detail-type `IAM Watch
//!    Finding`) whose `detail` is a [`FindingEvent`]; malformed or foreign -> logged with the
//!    message id and the reason, and the message fails (after its retries it reaches the DLQ);
//! 2. an archived finding, or one scoring below the policy's `ticket_min_severity`, is skipped
//!    (the EventBridge rule filters them already; this is defence in depth);
//! 3. Jira (when configured): the finding's issue is opened, or commented on when it exists
//!    (deduplicated by the finding's label, so a redelivery never makes a second issue);
//! 4. the ticket is written back on the finding (`BatchUpdateFindings`: Workflow NOTIFIED and a
//!    Note); an error a retry may fix fails the message, any other is logged and skipped (the
//!    ticket exists; the finding may have been archived or moved meanwhile);
//! 5. Slack (when configured), with the ticket link.
//!
//! Slack goes last because it is the only step that is not idempotent: every earlier failure
//! fails the message before anything was posted, and the redelivery finds the issue again
//! (comment, not a second issue), so a Jira outage delays the Slack message but never sends it
//! twice. A Slack failure fails the message too; its redelivery comments on the issue and posts.
//!
//! The batch loop is [`iamwatch_lambda::batch`]: a message is started only while
//! [`Ticketer::message_budget`] of the invocation's time is left, and cut off
//! [`DEADLINE_MARGIN`] before the deadline; the rest are failed unprocessed, so a Lambda timeout
//! never redelivers a whole batch whose first messages were already posted to Slack.
//!
//! FIFO order is kept per message group: once a message of a group fails, the later messages of
//! that group in the batch are failed unprocessed (the Lambda contract for FIFO sources); other
//! groups go on.
//!
//! The write-back adapter is `iamwatch_aws::SecurityHubWriteBack`, the secrets come through
//! `iamwatch_aws::SecretsManager` ([`secrets`]).

pub mod config;
pub mod secrets;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use iamwatch_core::finding::RecordState;
use iamwatch_core::finding_event::{FindingEvent, FINDING_EVENT_DETAIL_TYPE, FINDING_EVENT_SOURCE};
use iamwatch_core::ports::{Notifier, PortError, TicketRef, TicketSink, TicketWriteBack};
use iamwatch_lambda::batch::{self, BatchOptions, DeadlineBudget, Disposition};
use lambda_runtime::LambdaEvent;
use serde::Deserialize;
use std::time::Duration;

/// What the handler needs, built once per container. `None` turns a step off.
pub struct Ticketer<T, N, W> {
    pub jira: Option<T>,
    pub slack: Option<N>,
    pub write_back: W,
    /// Findings scoring below this get no ticket.
    pub min_score: u8,
    /// A message is started only while at least this much of the invocation's time is left;
    /// later ones are failed unprocessed, so an invocation never times out mid-batch (a timeout
    /// would redeliver the messages already posted to Slack).
    pub message_budget: Duration,
}

/// The default [`Ticketer::message_budget`]: what one message takes in a bad case (a retry or
/// two of each call) with the notifiers' Lambda retry policy ([`lambda_retry_policy`]).
pub const DEFAULT_MESSAGE_BUDGET: Duration = Duration::from_secs(30);

/// A message still running this close to the deadline is cut off and failed, so the
/// invocation answers before Lambda times it out.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(3);

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
    /// Ticketed and/or notified.
    Done { ticket: Option<TicketRef> },
    /// Archived or below the threshold: nothing to do.
    Skipped(&'static str),
}

/// Why a message failed.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// The body is not a finding event; it never will be.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A call failed; `retryable` on the error says whether a redelivery may succeed.
    #[error(transparent)]
    Port(#[from] PortError),
}

#[derive(Deserialize)]
struct Envelope {
    source: Option<String>,
    #[serde(rename = "detail-type")]
    detail_type: Option<String>,
    detail: Option<serde_json::Value>,
}

/// Parses an SQS body: an EventBridge envelope of a finding event.
pub fn parse_body(body: &str) -> Result<FindingEvent, MessageError> {
    let envelope: Envelope = serde_json::from_str(body)
        .map_err(|e| MessageError::Malformed(format!("not an EventBridge envelope: {e}")))?;
    if envelope.source.as_deref() != Some(FINDING_EVENT_SOURCE)
        || envelope.detail_type.as_deref() != Some(FINDING_EVENT_DETAIL_TYPE)
    {
        return Err(MessageError::Malformed(format!(
            "source {:?} detail-type {:?} is not {FINDING_EVENT_SOURCE:?} {FINDING_EVENT_DETAIL_TYPE:?}",
            envelope.source, envelope.detail_type
        )));
    }
    let detail = envelope
        .detail
        .ok_or_else(|| MessageError::Malformed("the envelope has no detail".to_string()))?;
    serde_json::from_value(detail)
        .map_err(|e| MessageError::Malformed(format!("detail is not a finding event: {e}")))
}

impl<T: TicketSink, N: Notifier, W: TicketWriteBack> Ticketer<T, N, W> {
    /// Handles one finding event: skip, or Jira -> write-back -> Slack (see the crate docs).
    pub async fn process(&self, event: &FindingEvent) -> Result<Outcome, MessageError> {
        if event.record_state == RecordState::Archived {
            return Ok(Outcome::Skipped("the finding is archived"));
        }
        if event.score < self.min_score {
            return Ok(Outcome::Skipped("the score is below ticket_min_severity"));
        }
        let ticket = match &self.jira {
            Some(jira) => Some(jira.open(event).await?),
            None => None,
        };
        if let Some(t) = &ticket {
            match self.write_back.write_back(&event.finding, t).await {
                Ok(()) => tracing::info!(ticket = %t.key, "ticket written back on the finding"),
                Err(e) if e.retryable => return Err(e.into()),
                Err(e) => tracing::warn!(
                    ticket = %t.key,
                    error = %e,
                    "could not write the ticket back on the finding; the ticket stands"
                ),
            }
        }
        if let Some(slack) = &self.slack {
            slack.notify(event, ticket.as_ref()).await?;
        }
        Ok(Outcome::Done { ticket })
    }

    /// Handles one SQS message.
    pub async fn process_message(&self, body: &str) -> Result<Outcome, MessageError> {
        let event = parse_body(body)?;
        tracing::Span::current().record("finding_id", event.finding_id.as_str());
        self.process(&event).await
    }
}

/// The Lambda handler: one SQS batch, per-message failures reported.
pub async fn handler<T: TicketSink, N: Notifier, W: TicketWriteBack>(
    ticketer: &Ticketer<T, N, W>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
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
            Ok(Outcome::Done { ticket }) => {
                tracing::info!(
                    ticket = ticket.as_ref().map(|t| t.key.as_str()).unwrap_or("none"),
                    created = ticket.as_ref().is_some_and(|t| t.created),
                    "finding ticketed"
                );
                Disposition::Done
            }
            Ok(Outcome::Skipped(reason)) => {
                tracing::info!(reason, "finding skipped");
                Disposition::Done
            }
            Err(MessageError::Malformed(reason)) => {
                tracing::error!(error = %reason, "malformed message; it goes to the DLQ after its retries");
                Disposition::Failed
            }
            Err(MessageError::Port(e)) => {
                tracing::error!(
                    error = %e,
                    retryable = e.retryable,
                    "message failed; SQS redelivers it"
                );
                Disposition::Failed
            }
        }
    })
    .await;
    Ok(response)
}
