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
//! # Batching
//!
//! Findings are not filed one message at a time: each message *stages* the findings it makes
//! (a new finding, the findings a resolution archives, those a rename moves), and the staged
//! findings of the batch are filed together ([`FindingSink::file`]: one `BatchImportFindings`
//! call per account and 100 findings) and their events published together
//! ([`FindingPublisher::publish`]: one `PutEvents` call per 10 events). Staged findings are
//! flushed early only where order matters: before a message reads Security Hub (a resolution
//! or a rename looks up the active findings, which must include those staged before it), and
//! before a finding id is staged a second time (each state of a finding is filed and
//! published in order, as one message at a time would).
//!
//! A failure (filing, publishing, finding what a resolution ends) fails only the messages it
//! came from: each staged finding remembers its messages, and a finding in the sink's or the
//! publisher's failures fails them, so SQS redelivers them alone (`ReportBatchItemFailures`);
//! findings have deterministic ids, so a redelivery updates the same finding, never files a
//! second one. CloudWatch EMF metrics of the batch are printed as JSON lines
//! ([`Metrics::emf_lines`]).
//!
//! # Reads
//!
//! Before the messages are worked through, the enrichment of every finding of the batch is read
//! ahead ([`PREFETCH_CONCURRENCY`] at a time): each (account, target user) once, one per
//! account first so the account's role and names are read once and shared, then the others
//! concurrently. A message uses what was read for its account and user.
//!
//! # Deadline
//!
//! A message is started only while [`MESSAGE_BUDGET`] plus [`FLUSH_RESERVE`] of the
//! invocation is left, and cut off so the reserve stays; the rest are failed unprocessed
//! (reported for redelivery, with a warning). The final filing and publishing runs within
//! the reserve, and is cut off [`DEADLINE_MARGIN`] before the deadline: the messages whose
//! findings it had not confirmed fail, so a Lambda timeout never redelivers a whole batch.
//!
//! [`config`] is the function's environment.

pub mod config;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use iamwatch_core::engine::evaluate_in;
use iamwatch_core::engine::finding;
use iamwatch_core::enrich::Enrichment;
use iamwatch_core::finding::{fields, Finding, RecordState};
use iamwatch_core::finding_event::FindingEvent;
use iamwatch_core::ports::{Enricher, FindingPublisher, FindingSink, PortError};
use iamwatch_core::record::{Envelope, EnvelopeRejection};
use iamwatch_core::rules::Context;
use iamwatch_core::{FindingContext, Label, Policy, Verdict};
use iamwatch_lambda::batch::{self, DeadlineBudget};
use iamwatch_lambda::{deadline, emf};
use lambda_runtime::LambdaEvent;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;
use tracing::{Instrument, Span};

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

/// A message is started only while this much of the invocation is left (besides
/// [`FLUSH_RESERVE`]): what one message takes in a bad case (its reads retried).
pub const MESSAGE_BUDGET: Duration = Duration::from_secs(5);
/// Time kept for the batch's final filing and publishing.
pub const FLUSH_RESERVE: Duration = Duration::from_secs(15);
/// Work still running this close to the deadline is cut off and its messages failed.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(2);
/// Time kept within an invocation: per message and margin, and for the final filing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub deadline: DeadlineBudget,
    pub flush_reserve: Duration,
}

/// The detect function's budget: [`MESSAGE_BUDGET`], [`DEADLINE_MARGIN`], [`FLUSH_RESERVE`].
pub const BUDGET: Budget = Budget {
    deadline: DeadlineBudget {
        message: MESSAGE_BUDGET,
        margin: DEADLINE_MARGIN,
    },
    flush_reserve: FLUSH_RESERVE,
};

/// The Lambda handler: processes the batch within the invocation's deadline, prints its EMF
/// metrics, returns the failed message ids.
pub async fn handler<E, S, P>(
    d: &Detector<E, S, P>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error>
where
    E: Enricher,
    S: FindingSink,
    P: FindingPublisher,
{
    let (response, metrics) =
        process_batch_until(d, &event.payload.records, event.context.deadline).await;
    emf::print(&metrics.emf_lines(deadline::now_ms()));
    Ok(response)
}

/// Processes the messages with no deadline; returns the batch response and the metrics.
pub async fn process_batch<E, S, P>(
    d: &Detector<E, S, P>,
    messages: &[SqsMessage],
) -> (SqsBatchResponse, Metrics)
where
    E: Enricher,
    S: FindingSink,
    P: FindingPublisher,
{
    process_batch_until(d, messages, 0).await
}

/// A finding staged for filing, with the messages it came from.
struct Staged {
    finding: Finding,
    messages: Vec<usize>,
    count: Count,
}

/// What a filed finding counts as in the metrics.
#[derive(Debug, Clone, Copy)]
enum Count {
    /// A new finding of this label.
    Finding(Label),
    /// A finding archived by a resolving event.
    Archived,
    /// A finding a rename moved (archived under the old name when `true`).
    Moved(bool),
}

/// Enrichments read ahead, per (account, target user, root caller).
type EnrichKey = (String, Option<String>, bool);

/// Enrichments read ahead at once.
pub const PREFETCH_CONCURRENCY: usize = 16;

fn enrich_key(record: &iamwatch_core::CloudTrailRecord, user: Option<&str>) -> EnrichKey {
    (
        record.account_id().to_string(),
        user.map(str::to_string),
        record.user_identity.kind.as_deref() == Some("Root"),
    )
}

/// A message's body read once per batch: the IAM record, or why there is none. A batch holds
/// one per message in a `Vec`, so the record is not boxed.
#[allow(clippy::large_enum_variant)]
enum Parsed {
    Record(iamwatch_core::CloudTrailRecord),
    Malformed(String),
    Rejected(EnvelopeRejection),
}

impl Parsed {
    fn of(m: &SqsMessage) -> Parsed {
        match serde_json::from_str::<Envelope>(m.body.as_deref().unwrap_or("")) {
            Err(e) => Parsed::Malformed(e.to_string()),
            Ok(envelope) => match envelope.into_iam_record() {
                Ok(r) => Parsed::Record(r),
                Err(rej) => Parsed::Rejected(rej),
            },
        }
    }
}

/// The enrichments of the batch's findings, read ahead: one (account, user) per account
/// first, then the rest [`PREFETCH_CONCURRENCY`] at a time.
async fn prefetch<E, S, P>(
    d: &Detector<E, S, P>,
    parsed: &[Parsed],
) -> HashMap<EnrichKey, Enrichment>
where
    E: Enricher,
    S: FindingSink,
    P: FindingPublisher,
{
    use futures_util::StreamExt as _;
    let org_accounts = d.enricher.org_accounts().await;
    let cx = Context::with_org(&d.policy, org_accounts.as_ref());
    let mut wanted: Vec<(EnrichKey, iamwatch_core::CloudTrailRecord)> = Vec::new();
    let mut keys = HashSet::new();
    for p in parsed {
        let Parsed::Record(record) = p else {
            continue;
        };
        if let Verdict::Finding(detection) = evaluate_in(record, &cx) {
            let key = enrich_key(record, detection.subject.user());
            if keys.insert(key.clone()) {
                wanted.push((key, record.clone()));
            }
        }
    }
    let mut accounts = HashSet::new();
    let (first, rest): (Vec<_>, Vec<_>) = wanted
        .into_iter()
        .partition(|(k, _)| accounts.insert(k.0.clone()));
    let read = |(key, record): (EnrichKey, iamwatch_core::CloudTrailRecord)| async move {
        let e = d.enricher.enrich(&record, key.1.as_deref()).await;
        (key, e)
    };
    let mut out: HashMap<EnrichKey, Enrichment> = futures_util::stream::iter(first)
        .map(read)
        .buffer_unordered(PREFETCH_CONCURRENCY)
        .collect()
        .await;
    out.extend(
        futures_util::stream::iter(rest)
            .map(read)
            .buffer_unordered(PREFETCH_CONCURRENCY)
            .collect::<Vec<_>>()
            .await,
    );
    out
}

/// The state of a batch in progress.
#[derive(Default)]
struct Batch {
    /// Enrichments read ahead ([`prefetch`]).
    prefetched: HashMap<EnrichKey, Enrichment>,
    staged: Vec<Staged>,
    staged_ids: HashSet<String>,
    /// Per message: its outcome so far (`None`: not started), and the first failure of the
    /// findings it staged.
    outcomes: Vec<Option<Outcome>>,
    failures: Vec<Option<PortError>>,
    seen: HashSet<String>,
    metrics: Metrics,
}

impl Batch {
    fn new(n: usize) -> Batch {
        Batch {
            outcomes: vec![None; n],
            failures: vec![None; n],
            ..Batch::default()
        }
    }

    /// Stages `f` for message `i`; a finding with the same id staged before is flushed
    /// first, so each state of a finding is filed and published in order.
    async fn stage<E, S, P>(&mut self, d: &Detector<E, S, P>, i: usize, f: Finding, count: Count)
    where
        E: Enricher,
        S: FindingSink,
        P: FindingPublisher,
    {
        if self.staged_ids.contains(&f.id) {
            self.flush(d).await;
        }
        self.staged_ids.insert(f.id.clone());
        self.staged.push(Staged {
            finding: f,
            messages: vec![i],
            count,
        });
    }

    /// Files the staged findings and publishes their events; a finding that failed fails its
    /// messages. Cut off mid-way, nothing is lost: the staged findings stay staged (and
    /// filing them again is an update).
    async fn flush<E, S, P>(&mut self, d: &Detector<E, S, P>)
    where
        E: Enricher,
        S: FindingSink,
        P: FindingPublisher,
    {
        if self.staged.is_empty() {
            return;
        }
        let findings: Vec<Finding> = self.staged.iter().map(|s| s.finding.clone()).collect();
        let failures = file_and_publish(d, &findings).await;
        self.staged_ids.clear();
        for s in std::mem::take(&mut self.staged) {
            match failures.get(s.finding.id.as_str()) {
                Some(e) => {
                    for &m in &s.messages {
                        self.failures[m].get_or_insert_with(|| e.clone());
                    }
                }
                None => match s.count {
                    Count::Finding(label) => *self.metrics.findings.entry(label).or_default() += 1,
                    Count::Archived | Count::Moved(true) => self.metrics.archived += 1,
                    Count::Moved(false) => {}
                },
            }
        }
    }

    /// Fails every message with staged findings (the final flush was cut off).
    fn fail_staged(&mut self, e: &PortError) {
        for s in std::mem::take(&mut self.staged) {
            for &m in &s.messages {
                self.failures[m].get_or_insert_with(|| e.clone());
            }
        }
        self.staged_ids.clear();
    }

    /// Message `i`'s final outcome.
    fn outcome(&self, i: usize) -> Outcome {
        match (&self.outcomes[i], &self.failures[i]) {
            (Some(o @ Outcome::Failed { .. }), _) => o.clone(),
            (_, Some(e)) => failed(e),
            (Some(o), None) => o.clone(),
            (None, None) => Outcome::Failed {
                reason: "not processed".to_string(),
                retryable: true,
            },
        }
    }
}

fn message_span(message_id: &str) -> Span {
    tracing::info_span!(
        "message",
        message_id = %message_id,
        event_id = tracing::field::Empty,
        event_name = tracing::field::Empty,
        account = tracing::field::Empty,
    )
}

/// Processes the messages in order within the invocation's deadline (`deadline_ms`, epoch
/// milliseconds; 0 for none) and [`BUDGET`], staging their findings and filing them
/// together; returns the batch response and the metrics.
pub async fn process_batch_until<E, S, P>(
    d: &Detector<E, S, P>,
    messages: &[SqsMessage],
    deadline_ms: u64,
) -> (SqsBatchResponse, Metrics)
where
    E: Enricher,
    S: FindingSink,
    P: FindingPublisher,
{
    process_batch_within(d, messages, deadline_ms, &BUDGET).await
}

/// [`process_batch_until`] with another budget.
pub async fn process_batch_within<E, S, P>(
    d: &Detector<E, S, P>,
    messages: &[SqsMessage],
    deadline_ms: u64,
    budget: &Budget,
) -> (SqsBatchResponse, Metrics)
where
    E: Enricher,
    S: FindingSink,
    P: FindingPublisher,
{
    let reserve = budget.flush_reserve;
    let margin = budget.deadline.margin;
    let mut b = Batch::new(messages.len());
    let parsed: Vec<Parsed> = messages.iter().map(Parsed::of).collect();
    let read_ahead = prefetch(d, &parsed);
    match deadline::time_left(deadline_ms) {
        None => b.prefetched = read_ahead.await,
        Some(left) => {
            // Cut off, the messages read what they need themselves (or are not started).
            if let Ok(p) =
                tokio::time::timeout(budget.deadline.limit(left, reserve), read_ahead).await
            {
                b.prefetched = p;
            }
        }
    }
    let spans: Vec<Span> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| message_span(&batch::message_id(m, i)))
        .collect();
    for (i, p) in parsed.into_iter().enumerate() {
        let left = deadline::time_left(deadline_ms);
        if left.is_some_and(|left| !budget.deadline.may_start(left, reserve)) {
            spans[i].in_scope(|| {
                tracing::warn!("too little time left in the invocation; left for redelivery")
            });
            b.outcomes[i] = Some(Outcome::Failed {
                reason: "not started: too little time left in the invocation".to_string(),
                retryable: true,
            });
            continue;
        }
        let work = async {
            let o = process_message(d, p, i, &mut b).await;
            b.outcomes[i] = Some(o);
        }
        .instrument(spans[i].clone());
        match left {
            None => work.await,
            Some(left) => {
                if tokio::time::timeout(budget.deadline.limit(left, reserve), work)
                    .await
                    .is_err()
                {
                    b.outcomes[i] = Some(Outcome::Failed {
                        reason: format!(
                            "cut off {:?} before the invocation deadline",
                            reserve + margin
                        ),
                        retryable: true,
                    });
                }
            }
        }
    }
    let flush = b.flush(d);
    let cut_off = match deadline::time_left(deadline_ms) {
        None => {
            flush.await;
            false
        }
        Some(left) => tokio::time::timeout(budget.deadline.limit(left, Duration::ZERO), flush)
            .await
            .is_err(),
    };
    if cut_off {
        b.fail_staged(&PortError {
            operation: "detect".to_string(),
            message: format!("filing cut off {margin:?} before the invocation deadline"),
            retryable: true,
        });
    }
    let outcomes: Vec<Outcome> = (0..messages.len()).map(|i| b.outcome(i)).collect();
    let mut metrics = b.metrics;
    for (o, span) in outcomes.iter().zip(&spans) {
        metrics.events += 1;
        span.in_scope(|| match o {
            Outcome::Failed { reason, retryable } => {
                metrics.failed += 1;
                tracing::error!(error = %reason, retryable, "message failed");
            }
            other => tracing::info!(outcome = ?other, "message done"),
        });
    }
    let response = batch::respond(messages, |i| matches!(outcomes[i], Outcome::Failed { .. }));
    (response, metrics)
}

fn failed(e: &PortError) -> Outcome {
    Outcome::Failed {
        reason: e.to_string(),
        retryable: e.retryable,
    }
}

/// Message `i`, in the current span: its findings are staged in `b`, its outcome returned
/// (final unless a staged finding fails later).
async fn process_message<E, S, P>(
    d: &Detector<E, S, P>,
    parsed: Parsed,
    i: usize,
    b: &mut Batch,
) -> Outcome
where
    E: Enricher,
    S: FindingSink,
    P: FindingPublisher,
{
    let span = tracing::Span::current();
    let record = match parsed {
        Parsed::Record(r) => r,
        Parsed::Malformed(e) => {
            b.metrics.rejected_envelopes += 1;
            tracing::warn!(reason = "malformed", error = %e, "rejected envelope");
            return Outcome::Failed {
                reason: format!("malformed envelope: {e}"),
                retryable: false,
            };
        }
        Parsed::Rejected(rej @ EnvelopeRejection::OutOfScope { .. }) => {
            tracing::info!(reason = %rej, "out of scope");
            return Outcome::Ignored;
        }
        Parsed::Rejected(rej) => {
            b.metrics.rejected_envelopes += 1;
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
        if !b.seen.insert(id.clone()) {
            b.metrics.duplicates += 1;
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
    let outcome = judge(d, &record, rename.as_ref(), i, b).await;
    // A renamed user's findings follow it, whatever the verdict on the rename itself.
    if let (Some(rename), false) = (rename, matches!(outcome, Outcome::Failed { .. })) {
        if let Err(e) = follow_rename(d, &rename, i, b).await {
            return failed(&e);
        }
    }
    outcome
}

/// Stages every active finding of a renamed user re-filed under its new name, and archived
/// under the old one where the id holds the name, so a rename never hides a finding.
async fn follow_rename<E, S, P>(
    d: &Detector<E, S, P>,
    rename: &iamwatch_core::resolve::Rename,
    i: usize,
    b: &mut Batch,
) -> Result<(), PortError>
where
    E: Enricher,
    S: FindingSink,
    P: FindingPublisher,
{
    // What is staged must be in Security Hub before its active findings are read.
    b.flush(d).await;
    let moved: Vec<Finding> = d
        .sink
        .active_findings(&rename.account)
        .await?
        .into_iter()
        // The rename's own finding was staged under the new name already.
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
    let ids: Vec<String> = moved.iter().map(|f| f.id.clone()).collect();
    for f in moved {
        let archived = f.record_state == RecordState::Archived;
        b.stage(d, i, f, Count::Moved(archived)).await;
    }
    tracing::info!(from = %rename.from, to = %rename.to, refiled = ?ids, "findings follow the renamed user");
    Ok(())
}

/// The verdict on a checked record, carried out: a finding staged, a resolution's findings
/// staged archived, a suppression counted.
async fn judge<E, S, P>(
    d: &Detector<E, S, P>,
    record: &iamwatch_core::CloudTrailRecord,
    rename: Option<&iamwatch_core::resolve::Rename>,
    i: usize,
    b: &mut Batch,
) -> Outcome
where
    E: Enricher,
    S: FindingSink,
    P: FindingPublisher,
{
    // Rules that ask whether an account is in the organization learn it from Organizations.
    let org_accounts = d.enricher.org_accounts().await;
    let cx = Context::with_org(&d.policy, org_accounts.as_ref());
    match evaluate_in(record, &cx) {
        Verdict::OutOfScope | Verdict::NoFinding => Outcome::Ignored,
        Verdict::Suppressed { detection, reason } => {
            b.metrics.suppressed += 1;
            tracing::info!(rule = detection.rule.id, subject = %detection.subject, reason = %reason, "suppressed");
            Outcome::Suppressed
        }
        Verdict::Finding(detection) => {
            let user = detection.subject.user();
            let enrichment = match b.prefetched.get(&enrich_key(record, user)) {
                Some(e) => e.clone(),
                None => d.enricher.enrich(record, user).await,
            };
            if !enrichment.gaps.is_empty() {
                b.metrics.enrichment_failures += 1;
                tracing::warn!(gaps = ?enrichment.gaps, "enrichment incomplete");
            }
            let (mut f, score) = finding(&detection, record, &d.policy, &enrichment, &d.ctx);
            // A rename's own finding follows the user at once, as the scanner's timeline does.
            if let Some(rn) = rename {
                f = rn.refile(&f).1;
            }
            tracing::info!(finding_id = %f.id, rule = detection.rule.id, score = score.value, label = %score.label, "finding");
            let id = f.id.clone();
            b.stage(d, i, f, Count::Finding(score.label)).await;
            Outcome::Filed(id)
        }
        Verdict::Resolution(res) => {
            // What is staged must be in Security Hub before its active findings are read.
            b.flush(d).await;
            let ended: Vec<Finding> = match d.sink.active_findings(&res.account).await {
                Ok(fs) => fs.into_iter().filter(|f| res.ends(f)).collect(),
                Err(e) => return failed(&e),
            };
            if ended.is_empty() {
                tracing::info!(ends = ?res.ends, "resolving event ends no active finding");
                return Outcome::Archived(Vec::new());
            }
            let mut ids = Vec::new();
            for f in ended.iter().map(|f| res.archive(f)) {
                ids.push(f.id.clone());
                b.stage(d, i, f, Count::Archived).await;
            }
            tracing::info!(archived = ?ids, "archived");
            Outcome::Archived(ids)
        }
    }
}

/// Files the findings, then publishes the events of those filed (in the form they were filed,
/// in the order given). Returns the failures by finding id: filing failures, publishing
/// failures, and findings the sink reported neither filed nor failed. A retry files again
/// (same ids: an update) and publishes again.
async fn file_and_publish<E, S, P>(
    d: &Detector<E, S, P>,
    findings: &[Finding],
) -> HashMap<String, PortError>
where
    E: Enricher,
    S: FindingSink,
    P: FindingPublisher,
{
    let report = d.sink.file(findings).await;
    let mut failures: HashMap<String, PortError> = report.failed.into_iter().collect();
    let filed: HashMap<&str, &Finding> = report.filed.iter().map(|f| (f.id.as_str(), f)).collect();
    let mut events = Vec::new();
    for f in findings {
        if failures.contains_key(&f.id) {
            continue;
        }
        match filed.get(f.id.as_str()) {
            Some(as_filed) => events.push(FindingEvent::from_finding(as_filed)),
            None => {
                failures.insert(
                    f.id.clone(),
                    PortError {
                        operation: "securityhub:BatchImportFindings".to_string(),
                        message: format!("{}: not reported as filed", f.id),
                        retryable: true,
                    },
                );
            }
        }
    }
    if !events.is_empty() {
        let published = d.publisher.publish(&events).await;
        failures.extend(published.failed);
    }
    if let Some((id, e)) = failures.iter().next() {
        tracing::warn!(failed = failures.len(), finding_id = %id, error = %e, "findings not filed or published");
    }
    failures
}
