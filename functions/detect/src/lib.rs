//! The detect function: an SQS batch of EventBridge envelopes of CloudTrail IAM events in,
//! Security Hub findings and finding events out (DESIGN.md, "Data flow").
//!
//! Per message, in one tracing span (`message`, with the SQS message id and the event id):
//!
//! 1. the body is parsed as an EventBridge envelope and validated
//!    ([`Envelope::into_iam_record`]): malformed or forged -> logged with the message id and
//!    the reason, and the message fails (after its retries it reaches the DLQ); out of scope ->
//!    logged, and the message succeeds;
//! 2. a second message with an eventID already seen in the batch succeeds without doing
//!    anything (the first carries the event);
//! 3. [`evaluate`]: suppressed -> logged and counted; a finding -> enrich, score, file, publish;
//!    a resolution -> the findings it ends are archived (re-filed with `RecordState =
//!    ARCHIVED`) and published.
//!
//! A failure (filing, publishing, finding what a resolution ends) fails only that message, so
//! SQS redelivers it alone (`ReportBatchItemFailures`, through [`iamwatch_lambda::batch`]);
//! findings have deterministic ids, so a redelivery updates the same finding. CloudWatch EMF
//! metrics of the batch are printed as JSON lines ([`Metrics::emf_lines`]).
//!
//! [`config`] is the function's environment.

pub mod config;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use iamwatch_core::engine::evaluate_in;
use iamwatch_core::engine::finding;
use iamwatch_core::finding::{fields, Finding, RecordState};
use iamwatch_core::finding_event::FindingEvent;
use iamwatch_core::ports::{Enricher, FindingPublisher, FindingSink, PortError};
use iamwatch_core::record::{Envelope, EnvelopeRejection};
use iamwatch_core::rules::Context;
use iamwatch_core::{FindingContext, Label, Policy, Verdict};
use iamwatch_lambda::batch::{self, BatchOptions, Disposition};
use iamwatch_lambda::{deadline, emf};
use lambda_runtime::LambdaEvent;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What the handler needs, built once per container.
pub struct Detector<E, S, P> {
    pub enricher: E,
    pub sink: S,
    pub publisher: P,
    pub policy: Policy,
    pub ctx: FindingContext,
}

/// Counts of one batch, printed as CloudWatch EMF.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Messages received.
    pub events: u64,
    /// Findings filed, by label.
    pub findings: BTreeMap<Label, u64>,
    /// Findings archived by resolving events.
    pub archived: u64,
    /// Findings dropped by a `[[suppress]]` entry.
    pub suppressed: u64,
    /// Findings filed with enrichment gaps.
    pub enrichment_failures: u64,
    /// Malformed or forged envelopes.
    pub rejected_envelopes: u64,
    /// Messages with an eventID already seen in the batch.
    pub duplicates: u64,
    /// Messages reported as failed (rejected ones included).
    pub failed: u64,
}

/// CloudWatch namespace of the metrics.
pub const METRICS_NAMESPACE: &str = "iamwatch";

impl Metrics {
    /// The EMF documents of the batch: one with the counters (dimension `Function`), one per
    /// label with findings (dimensions `Function`, `Label`).
    pub fn emf_lines(&self, timestamp_ms: u64) -> Vec<String> {
        let function = [("Function", "detect")];
        let mut lines = vec![emf::document(
            METRICS_NAMESPACE,
            timestamp_ms,
            &function,
            &[
                ("Events", self.events),
                ("Findings", self.findings.values().sum()),
                ("Archived", self.archived),
                ("Suppressed", self.suppressed),
                ("EnrichmentFailures", self.enrichment_failures),
                ("RejectedEnvelopes", self.rejected_envelopes),
                ("Duplicates", self.duplicates),
                ("FailedMessages", self.failed),
            ],
        )];
        for (label, n) in &self.findings {
            lines.push(emf::document(
                METRICS_NAMESPACE,
                timestamp_ms,
                &[("Function", "detect"), ("Label", label.as_str())],
                &[("Findings", *n)],
            ));
        }
        lines
    }
}

/// How one message ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not an IAM event iamwatch watches, or an in-scope call that makes no finding.
    Ignored,
    /// Same eventID as an earlier message of the batch.
    Duplicate,
    Suppressed,
    /// Filed (and published) a finding with this id.
    Filed(String),
    /// Archived these findings.
    Archived(Vec<String>),
    /// Failed; SQS redelivers it (and, after its retries, moves it to the DLQ).
    Failed {
        reason: String,
        retryable: bool,
    },
}

/// The Lambda handler: processes the batch, prints its EMF metrics, returns the failed
/// message ids.
pub async fn handler<E, S, P>(
    d: &Detector<E, S, P>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error>
where
    E: Enricher,
    S: FindingSink,
    P: FindingPublisher,
{
    let (response, metrics) = process_batch(d, &event.payload.records).await;
    emf::print(&metrics.emf_lines(deadline::now_ms()));
    Ok(response)
}

/// How the detect function works through a batch: every message runs to completion (a
/// message takes a few AWS calls; the function's timeout leaves room for a full batch).
pub const BATCH: BatchOptions = BatchOptions {
    operation: "detect",
    deadline: None,
};

/// Processes the messages in order; returns the batch response and the metrics.
pub async fn process_batch<E, S, P>(
    d: &Detector<E, S, P>,
    messages: &[SqsMessage],
) -> (SqsBatchResponse, Metrics)
where
    E: Enricher,
    S: FindingSink,
    P: FindingPublisher,
{
    let mut metrics = Metrics::default();
    let mut seen = HashSet::new();
    let span = |message_id: &str| {
        tracing::info_span!(
            "message",
            message_id = %message_id,
            event_id = tracing::field::Empty,
            event_name = tracing::field::Empty,
            account = tracing::field::Empty,
        )
    };
    let response = batch::process(messages, 0, &BATCH, span, async |m: &SqsMessage| {
        let outcome = process_message(d, m, &mut seen, &mut metrics).await;
        metrics.events += 1;
        match &outcome {
            Outcome::Failed { reason, retryable } => {
                metrics.failed += 1;
                tracing::error!(error = %reason, retryable, "message failed");
                Disposition::Failed
            }
            other => {
                tracing::info!(outcome = ?other, "message done");
                Disposition::Done
            }
        }
    })
    .await;
    (response, metrics)
}

fn failed(e: &PortError) -> Outcome {
    Outcome::Failed {
        reason: e.to_string(),
        retryable: e.retryable,
    }
}

/// One message, in the current span.
pub async fn process_message<E, S, P>(
    d: &Detector<E, S, P>,
    m: &SqsMessage,
    seen: &mut HashSet<String>,
    metrics: &mut Metrics,
) -> Outcome
where
    E: Enricher,
    S: FindingSink,
    P: FindingPublisher,
{
    let span = tracing::Span::current();
    let body = m.body.as_deref().unwrap_or("");
    let envelope: Envelope = match serde_json::from_str(body) {
        Ok(e) => e,
        Err(e) => {
            metrics.rejected_envelopes += 1;
            tracing::warn!(reason = "malformed", error = %e, "rejected envelope");
            return Outcome::Failed {
                reason: format!("malformed envelope: {e}"),
                retryable: false,
            };
        }
    };
    let record = match envelope.into_iam_record() {
        Ok(r) => r,
        Err(rej @ EnvelopeRejection::OutOfScope { .. }) => {
            tracing::info!(reason = %rej, "out of scope");
            return Outcome::Ignored;
        }
        Err(rej) => {
            metrics.rejected_envelopes += 1;
            tracing::warn!(reason = %rej, "rejected envelope");
            return Outcome::Failed {
                reason: rej.to_string(),
                retryable: false,
            };
        }
    };
    span.record("event_name", record.event_name.as_str());
    span.record("account", record.account_id());
    if let Some(id) = &record.event_id {
        span.record("event_id", id.as_str());
        if !seen.insert(id.clone()) {
            metrics.duplicates += 1;
            return Outcome::Duplicate;
        }
    }
    // A call iamwatch would otherwise drop silently is a failure with its reason (logged, and
    // to the DLQ), never nothing.
    if let Some(why) = iamwatch_core::engine::unreadable(&record) {
        tracing::warn!(reason = %why, "unreadable in-scope call");
        return Outcome::Failed {
            reason: why,
            retryable: false,
        };
    }
    let rename = iamwatch_core::resolve::renaming(&record);
    let outcome = judge(d, &record, rename.as_ref(), metrics).await;
    // A renamed user's findings follow it, whatever the verdict on the rename itself.
    if let (Some(rename), false) = (rename, matches!(outcome, Outcome::Failed { .. })) {
        if let Err(e) = follow_rename(d, &rename, metrics).await {
            return failed(&e);
        }
    }
    outcome
}

/// Re-files every active finding of a renamed user under its new name, and archives it under
/// the old one where the id holds the name, so a rename never hides a finding.
async fn follow_rename<E, S, P>(
    d: &Detector<E, S, P>,
    rename: &iamwatch_core::resolve::Rename,
    metrics: &mut Metrics,
) -> Result<(), PortError>
where
    E: Enricher,
    S: FindingSink,
    P: FindingPublisher,
{
    let moved: Vec<Finding> = d
        .sink
        .active_findings(&rename.account)
        .await?
        .into_iter()
        // The rename's own finding was filed under the new name already.
        .filter(|f| {
            rename.applies(f)
                && (rename.event_id.is_none()
                    || f.field(fields::EVENT_ID) != rename.event_id.as_deref())
        })
        .flat_map(|f| {
            let (old, new) = rename.refile(&f);
            old.into_iter().chain(std::iter::once(new))
        })
        .collect();
    if moved.is_empty() {
        return Ok(());
    }
    let ids = file_and_publish(d, &moved).await?;
    metrics.archived += moved
        .iter()
        .filter(|f| f.record_state == RecordState::Archived)
        .count() as u64;
    tracing::info!(from = %rename.from, to = %rename.to, refiled = ?ids, "findings follow the renamed user");
    Ok(())
}

/// The verdict on a checked record, carried out: a finding filed and published, a resolution's
/// findings archived, a suppression counted.
async fn judge<E, S, P>(
    d: &Detector<E, S, P>,
    record: &iamwatch_core::CloudTrailRecord,
    rename: Option<&iamwatch_core::resolve::Rename>,
    metrics: &mut Metrics,
) -> Outcome
where
    E: Enricher,
    S: FindingSink,
    P: FindingPublisher,
{
    // Rules that ask whether an account is in the organization learn it from Organizations.
    let org_accounts = d.enricher.org_accounts().await;
    let mut cx = Context::new(&d.policy);
    if let Some(accounts) = &org_accounts {
        cx = cx.with_org_accounts(accounts);
    }
    match evaluate_in(record, &cx) {
        Verdict::OutOfScope | Verdict::NoFinding => Outcome::Ignored,
        Verdict::Suppressed { detection, reason } => {
            metrics.suppressed += 1;
            tracing::info!(rule = detection.rule.id, subject = %detection.subject, reason = %reason, "suppressed");
            Outcome::Suppressed
        }
        Verdict::Finding(detection) => {
            let enrichment = d.enricher.enrich(record, detection.subject.user()).await;
            if !enrichment.gaps.is_empty() {
                metrics.enrichment_failures += 1;
                tracing::warn!(gaps = ?enrichment.gaps, "enrichment incomplete");
            }
            let (mut f, score) = finding(&detection, record, &d.policy, &enrichment, &d.ctx);
            // A rename's own finding follows the user at once, as the scanner's timeline does.
            if let Some(rn) = rename {
                f = rn.refile(&f).1;
            }
            tracing::info!(finding_id = %f.id, rule = detection.rule.id, score = score.value, label = %score.label, "finding");
            match file_and_publish(d, std::slice::from_ref(&f)).await {
                Ok(_) => {
                    *metrics.findings.entry(score.label).or_default() += 1;
                    Outcome::Filed(f.id)
                }
                Err(e) => failed(&e),
            }
        }
        Verdict::Resolution(res) => {
            let ended: Vec<Finding> = match d.sink.active_findings(&res.account).await {
                Ok(fs) => fs.into_iter().filter(|f| res.ends(f)).collect(),
                Err(e) => return failed(&e),
            };
            if ended.is_empty() {
                tracing::info!(ends = ?res.ends, "resolving event ends no active finding");
                return Outcome::Archived(Vec::new());
            }
            let archived: Vec<Finding> = ended.iter().map(|f| res.archive(f)).collect();
            match file_and_publish(d, &archived).await {
                Ok(ids) => {
                    metrics.archived += ids.len() as u64;
                    tracing::info!(archived = ?ids, "archived");
                    Outcome::Archived(ids)
                }
                Err(e) => failed(&e),
            }
        }
    }
}

/// Files the findings, then publishes their events (in the form they were filed, in the
/// order given). The first failure is returned; a retry files again (same ids: an update) and
/// publishes again.
async fn file_and_publish<E, S, P>(
    d: &Detector<E, S, P>,
    findings: &[Finding],
) -> Result<Vec<String>, PortError>
where
    E: Enricher,
    S: FindingSink,
    P: FindingPublisher,
{
    let report = d.sink.file(findings).await;
    if let Some((id, e)) = report.failed.first() {
        return Err(PortError {
            operation: e.operation.clone(),
            message: format!("{id}: {}", e.message),
            retryable: report.failed.iter().all(|(_, e)| e.retryable),
        });
    }
    let filed: HashMap<&str, &Finding> = report.filed.iter().map(|f| (f.id.as_str(), f)).collect();
    let events: Vec<FindingEvent> = findings
        .iter()
        .map(|f| FindingEvent::from_finding(filed.get(f.id.as_str()).copied().unwrap_or(f)))
        .collect();
    d.publisher.publish(&events).await?;
    Ok(report.filed.into_iter().map(|f| f.id).collect())
}
