//! The SQS batch loop of the functions, with per-message failures (`ReportBatchItemFailures`).
//!
//! Each message is handled in its own tracing span (made by the caller, so it can declare the
//! fields it records, the SQS message id always among them). The handler says whether the
//! message is done or failed; a failed message is reported in the batch response so SQS
//! redelivers it alone (and, after its retries, moves it to the DLQ).
//!
//! - **FIFO order** is kept per message group (`MessageGroupId`): once a message of a group
//!   fails, the later messages of that group in the batch are failed unprocessed (the Lambda
//!   contract for FIFO sources); other groups go on. Standard queues have no groups.
//! - **Deadline budget** ([`DeadlineBudget`], when the invocation has a deadline): a message is
//!   started only while the budget is left, and cut off the margin before the deadline; the
//!   rest are failed unprocessed, so a Lambda timeout never redelivers a whole batch whose
//!   first messages already had effects.

use crate::deadline::time_left;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsMessage};
use iamwatch_core::ports::PortError;
use std::collections::HashSet;
use std::time::Duration;
use tracing::{Instrument, Span};

/// How one message ended, as far as SQS is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Done (or nothing to do): SQS deletes it.
    Done,
    /// Failed: reported, SQS redelivers it.
    Failed,
}

/// Time kept per message so an invocation answers before Lambda times it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineBudget {
    /// A message is started only while at least this much of the invocation's time is left.
    pub message: Duration,
    /// A message still running this close to the deadline is cut off and failed.
    pub margin: Duration,
}

impl DeadlineBudget {
    /// Whether a message may start with `left` of the invocation left, keeping `reserve` for
    /// the work that follows the messages (a batch's final AWS calls).
    pub fn may_start(&self, left: Duration, reserve: Duration) -> bool {
        left >= self.message.saturating_add(reserve)
    }

    /// How long work started with `left` of the invocation left may run, keeping `reserve`
    /// and the margin.
    pub fn limit(&self, left: Duration, reserve: Duration) -> Duration {
        left.saturating_sub(self.margin.saturating_add(reserve))
    }
}

/// The batch response of messages whose fate is known by position (`failed(i)`): each failed
/// message is reported by its id. A failed message without an id is logged with its place
/// and not reported (Lambda would retry the whole batch for an itemIdentifier it cannot
/// match), as in [`process`].
pub fn respond(messages: &[SqsMessage], failed: impl Fn(usize) -> bool) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for (i, m) in messages.iter().enumerate() {
        if !failed(i) {
            continue;
        }
        if m.message_id.as_deref().is_none_or(str::is_empty) {
            tracing::error!(
                position = i,
                "a message without a message id failed; it cannot be reported alone, so it is \
                 not retried and the rest of the batch is not held back"
            );
            continue;
        }
        response.add_failure(message_id(m, i));
    }
    response
}

/// How a batch is worked through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOptions {
    /// What the function does, naming the error of a message cut off at the deadline.
    pub operation: &'static str,
    /// `None`: messages run to completion whatever the deadline.
    pub deadline: Option<DeadlineBudget>,
}

/// The id a message is reported by: its SQS message id (a placeholder naming its position when
/// it has none).
pub fn message_id(m: &SqsMessage, index: usize) -> String {
    m.message_id
        .clone()
        .unwrap_or_else(|| format!("(no message id, #{index})"))
}

fn group_of(m: &SqsMessage) -> Option<&str> {
    m.attributes.get("MessageGroupId").map(String::as_str)
}

/// Works through `messages` in order: `span` makes each message's span from its id, `handle`
/// runs in it. `deadline_ms` is the invocation's deadline (epoch milliseconds, 0 for none).
/// Returns the batch response naming the failed messages.
pub async fn process<H>(
    messages: &[SqsMessage],
    deadline_ms: u64,
    options: &BatchOptions,
    span: impl Fn(&str) -> Span,
    mut handle: H,
) -> SqsBatchResponse
where
    H: AsyncFnMut(&SqsMessage) -> Disposition,
{
    let mut response = SqsBatchResponse::default();
    let mut failed_groups: HashSet<String> = HashSet::new();
    for (i, m) in messages.iter().enumerate() {
        let id = message_id(m, i);
        let span = span(&id);
        let group = group_of(m);
        let left = time_left(deadline_ms);
        let disposition = if options
            .deadline
            .zip(left)
            .is_some_and(|(budget, left)| left < budget.message)
        {
            span.in_scope(|| {
                tracing::warn!("too little time left in the invocation; left for redelivery")
            });
            Disposition::Failed
        } else if group.is_some_and(|g| failed_groups.contains(g)) {
            span.in_scope(|| {
                tracing::warn!("an earlier message of its FIFO group failed; left for redelivery")
            });
            Disposition::Failed
        } else {
            let work = handle(m).instrument(span.clone());
            match options.deadline.zip(left) {
                None => work.await,
                Some((budget, left)) => {
                    let limit = left.saturating_sub(budget.margin);
                    match tokio::time::timeout(limit, work).await {
                        Ok(d) => d,
                        Err(_) => {
                            let e = PortError {
                                operation: options.operation.to_string(),
                                message: format!(
                                    "cut off {:?} before the invocation deadline",
                                    budget.margin
                                ),
                                retryable: true,
                            };
                            span.in_scope(|| {
                                tracing::error!(
                                    error = %e,
                                    retryable = e.retryable,
                                    "message failed; SQS redelivers it"
                                )
                            });
                            Disposition::Failed
                        }
                    }
                }
            }
        };
        if disposition == Disposition::Failed {
            if let Some(g) = group {
                failed_groups.insert(g.to_string());
            }
            if m.message_id.as_deref().is_none_or(str::is_empty) {
                // A failure Lambda cannot name would fail the whole batch (an empty or unknown
                // itemIdentifier retries every message): it is logged here, with its place,
                // and only it is given up on.
                span.in_scope(|| {
                    tracing::error!(
                        position = i,
                        "a message without a message id failed; it cannot be reported alone, \
                         so it is not retried and the rest of the batch is not held back"
                    )
                });
                continue;
            }
            response.add_failure(id);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{failed_ids, fifo_message, message};

    const NONE: BatchOptions = BatchOptions {
        operation: "test",
        deadline: None,
    };

    fn span(id: &str) -> Span {
        tracing::info_span!("message", message_id = %id)
    }

    #[tokio::test]
    async fn failed_messages_are_reported_and_the_others_go_on() {
        let messages = vec![message("a", "ok"), message("b", "fail"), message("c", "ok")];
        let mut seen = Vec::new();
        let resp = process(&messages, 0, &NONE, span, async |m: &SqsMessage| {
            seen.push(m.body.clone().unwrap_or_default());
            if m.body.as_deref() == Some("fail") {
                Disposition::Failed
            } else {
                Disposition::Done
            }
        })
        .await;
        assert_eq!(failed_ids(&resp), ["b"]);
        assert_eq!(seen, ["ok", "fail", "ok"]);
    }

    #[tokio::test]
    async fn a_failed_fifo_group_fails_its_later_messages_unprocessed() {
        let messages = vec![
            fifo_message("a1", "A", "fail"),
            fifo_message("b1", "B", "ok"),
            fifo_message("a2", "A", "ok"),
        ];
        let mut handled = 0;
        let resp = process(&messages, 0, &NONE, span, async |m: &SqsMessage| {
            handled += 1;
            if m.body.as_deref() == Some("fail") {
                Disposition::Failed
            } else {
                Disposition::Done
            }
        })
        .await;
        assert_eq!(failed_ids(&resp), ["a1", "a2"]);
        assert_eq!(handled, 2);
        let unnamed = SqsMessage::default();
        assert_eq!(message_id(&unnamed, 3), "(no message id, #3)");
    }

    #[tokio::test]
    async fn the_deadline_budget_holds_back_and_cuts_off_messages() {
        let budget = BatchOptions {
            operation: "test",
            deadline: Some(DeadlineBudget {
                message: Duration::from_secs(1),
                margin: Duration::from_secs(3),
            }),
        };
        // Too little time left: not started.
        let soon = crate::deadline::now_ms() + 500;
        let mut started = 0;
        let resp = process(
            &[message("m1", "x")],
            soon,
            &budget,
            span,
            async |_: &SqsMessage| {
                started += 1;
                Disposition::Done
            },
        )
        .await;
        assert_eq!((failed_ids(&resp), started), (vec!["m1".to_string()], 0));
        // Started, then cut off the margin before the deadline.
        let later = crate::deadline::now_ms() + 3_300;
        let t = std::time::Instant::now();
        let resp = process(
            &[message("m2", "x")],
            later,
            &budget,
            span,
            async |_: &SqsMessage| {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Disposition::Done
            },
        )
        .await;
        assert_eq!(failed_ids(&resp), ["m2"]);
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    }

    #[test]
    fn budgets_keep_a_reserve_and_the_margin() {
        let b = DeadlineBudget {
            message: Duration::from_secs(2),
            margin: Duration::from_secs(1),
        };
        let reserve = Duration::from_secs(10);
        assert!(b.may_start(Duration::from_secs(12), reserve));
        assert!(!b.may_start(Duration::from_millis(11_999), reserve));
        assert_eq!(
            b.limit(Duration::from_secs(30), reserve),
            Duration::from_secs(19)
        );
        assert_eq!(b.limit(Duration::from_secs(5), reserve), Duration::ZERO);
    }

    #[test]
    fn respond_names_failed_messages_by_id_and_skips_unnamed_ones() {
        let mut unnamed = message("x", "b");
        unnamed.message_id = None;
        let messages = vec![message("a", "b"), unnamed, message("c", "b")];
        let resp = respond(&messages, |i| i != 0);
        assert_eq!(failed_ids(&resp), ["c"]);
        assert!(respond(&messages, |_| false).batch_item_failures.is_empty());
    }

    /// A failed message without an id is not reported (Lambda would retry the whole batch for
    /// an itemIdentifier it cannot match); the others are reported as usual.
    #[tokio::test]
    async fn a_failed_message_without_an_id_does_not_fail_the_batch() {
        let mut unnamed = message("m-0", "bad");
        unnamed.message_id = None;
        let messages = vec![unnamed, message("m-1", "bad"), message("m-2", "good")];
        let options = BatchOptions {
            operation: "test",
            deadline: None,
        };
        let response = process(
            &messages,
            0,
            &options,
            |id| tracing::info_span!("m", id),
            async |m| {
                if m.body.as_deref() == Some("bad") {
                    Disposition::Failed
                } else {
                    Disposition::Done
                }
            },
        )
        .await;
        assert_eq!(failed_ids(&response), ["m-1"]);
    }
}
