//! The handler over memory doubles: envelope checks, the ledger's episodes and claims, each
//! output at most once and resumed alone, poison messages straight to the DLQ, the deadline.

mod common;

use common::{
    archived, batch, deliver, envelope, envelope_from, failed_ids, message, observed, A, B,
    SECURITY,
};
use iamwatch_aws::ledger::MemoryLedger;
use iamwatch_core::finding::Finding;
use iamwatch_core::finding_event::FindingEvent;
use iamwatch_core::ports::{
    DeadLetters, Issue, IssueTracker, PortError, TicketRef, TicketWriteBack,
};
use iamwatch_notify::testing::{sample_event, MemoryIssueTracker, MemoryNotifier};
use iamwatch_ticket::{handler, Ticketer, DEFAULT_CLAIM_LEASE, DEFAULT_MESSAGE_BUDGET};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// Records (finding id, product ARN, ticket key) of each write-back; queued errors first.
#[derive(Default)]
struct MemoryWriteBack {
    written: Mutex<Vec<(String, String, String)>>,
    errors: Mutex<VecDeque<PortError>>,
}

impl TicketWriteBack for MemoryWriteBack {
    async fn write_back(&self, finding: &Finding, ticket: &TicketRef) -> Result<(), PortError> {
        if let Some(e) = self.errors.lock().unwrap().pop_front() {
            return Err(e);
        }
        self.written.lock().unwrap().push((
            finding.id.clone(),
            finding.product_arn.clone(),
            ticket.key.clone(),
        ));
        Ok(())
    }
}

/// Records (message id, reason) of each message dead-lettered.
#[derive(Default)]
struct MemoryDeadLetters {
    sent: Mutex<Vec<(String, String)>>,
}

impl DeadLetters for MemoryDeadLetters {
    async fn dead_letter(
        &self,
        message_id: &str,
        _body: &str,
        reason: &str,
    ) -> Result<(), PortError> {
        self.sent
            .lock()
            .unwrap()
            .push((message_id.to_string(), reason.to_string()));
        Ok(())
    }
}

type Memory<T = MemoryIssueTracker, N = MemoryNotifier> =
    Ticketer<T, N, MemoryWriteBack, MemoryLedger, MemoryDeadLetters>;

/// The ticketer over memory doubles, with this Jira and this Slack.
fn with<T, N>(jira: T, slack: N) -> Memory<T, N> {
    Ticketer {
        jira: Some(jira),
        slack: Some(slack),
        write_back: MemoryWriteBack::default(),
        ledger: MemoryLedger::default(),
        dead_letters: Some(MemoryDeadLetters::default()),
        security_account: SECURITY.to_string(),
        min_score: 70,
        message_budget: DEFAULT_MESSAGE_BUDGET,
        claim_lease: DEFAULT_CLAIM_LEASE,
    }
}

fn with_tracker<T>(jira: T) -> Memory<T> {
    with(jira, MemoryNotifier::default())
}

fn ticketer() -> Memory {
    with_tracker(MemoryIssueTracker::default())
}

fn err(operation: &str, retryable: bool) -> PortError {
    PortError {
        operation: operation.to_string(),
        message: "injected".to_string(),
        retryable,
    }
}

fn jira(t: &Memory) -> &MemoryIssueTracker {
    t.jira.as_ref().unwrap()
}

fn slack<T>(t: &Memory<T>) -> &MemoryNotifier {
    t.slack.as_ref().unwrap()
}

fn dead<T>(t: &Memory<T>) -> Vec<(String, String)> {
    t.dead_letters
        .as_ref()
        .unwrap()
        .sent
        .lock()
        .unwrap()
        .clone()
}

fn written<T>(t: &Memory<T>) -> Vec<(String, String, String)> {
    t.write_back.written.lock().unwrap().clone()
}

/// The invocation deadline `ms` milliseconds from now (milliseconds since the epoch).
fn deadline_in(ms: u64) -> u64 {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    now_ms + ms
}

#[tokio::test]
async fn a_finding_event_is_ticketed_written_back_posted_and_recorded() {
    let t = ticketer();
    assert!(deliver(&t, "m1", &envelope(&sample_event(A, 85)))
        .await
        .is_empty());
    assert_eq!(
        jira(&t).issues(),
        [(iamwatch_notify::finding_label(A), "MEM-1".to_string())]
    );
    let product = sample_event(A, 85).finding.product_arn;
    assert_eq!(written(&t), [(A.to_string(), product, "MEM-1".to_string())]);
    assert_eq!(
        slack(&t).sent(),
        [(A.to_string(), Some("MEM-1".to_string()))]
    );
    let entries = t.ledger.entries();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!((e.episode, e.filed_in.as_str()), (1, "111122223333"));
    assert_eq!(e.issue.as_ref().unwrap().key, "MEM-1");
    assert!(e.issue_created && e.slack_sent && e.written_back);
    assert_eq!(e.claim, None, "the claim is released");
}

#[tokio::test]
async fn duplicate_deliveries_give_one_issue_one_message_one_write_back() {
    let t = ticketer();
    let body = envelope(&sample_event(A, 85));
    for i in 0..3 {
        assert!(deliver(&t, &format!("m{i}"), &body).await.is_empty());
    }
    let resp = handler(&t, batch(vec![message("x", &body), message("y", &body)]))
        .await
        .unwrap();
    assert!(failed_ids(&resp).is_empty());
    assert_eq!(jira(&t).issues().len(), 1);
    assert_eq!(slack(&t).sent().len(), 1);
    assert_eq!(written(&t).len(), 1);
}

/// A Jira that takes its time opening an issue, so that two deliveries overlap.
struct SlowTracker(MemoryIssueTracker);

impl IssueTracker for SlowTracker {
    async fn open(
        &self,
        event: &FindingEvent,
        episode: u32,
        known: &[String],
    ) -> Result<(Issue, bool), PortError> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.0.open(event, episode, known).await
    }
    async fn close(&self, issue: &Issue, event: &FindingEvent) -> Result<(), PortError> {
        self.0.close(issue, event).await
    }
    async fn recur(&self, issue: &Issue, event: &FindingEvent) -> Result<bool, PortError> {
        self.0.recur(issue, event).await
    }
}

#[tokio::test]
async fn concurrent_deliveries_of_one_finding_never_both_act() {
    let t = with_tracker(SlowTracker(MemoryIssueTracker::default()));
    let body = envelope(&sample_event(A, 85));
    let (first, second) = tokio::join!(deliver(&t, "m1", &body), deliver(&t, "m2", &body));
    let mut failed: Vec<String> = first.into_iter().chain(second).collect();
    failed.sort();
    assert_eq!(
        failed.len(),
        1,
        "the second delivery finds the claim and waits: {failed:?}"
    );
    assert_eq!(t.jira.as_ref().unwrap().0.issues().len(), 1);
    assert_eq!(slack(&t).sent().len(), 1);
    assert!(
        dead(&t).is_empty(),
        "a busy finding is retried, not dead-lettered"
    );
    // Its redelivery finds everything done.
    assert!(deliver(&t, &failed[0], &body).await.is_empty());
    assert_eq!(t.jira.as_ref().unwrap().0.issues().len(), 1);
    assert_eq!(slack(&t).sent().len(), 1);
}

#[tokio::test]
async fn jira_down_with_slack_up_posts_at_once_and_the_retry_opens_the_issue_only() {
    let t = ticketer();
    jira(&t).fail_next(err("jira:search/jql", true));
    let body = envelope(&sample_event(A, 85));
    assert_eq!(deliver(&t, "m1", &body).await, ["m1"]);
    assert_eq!(
        slack(&t).sent(),
        [(A.to_string(), None)],
        "Slack does not wait for Jira"
    );
    assert!(written(&t).is_empty());
    assert!(dead(&t).is_empty());

    assert!(deliver(&t, "m1", &body).await.is_empty());
    assert_eq!(jira(&t).issues().len(), 1);
    assert_eq!(slack(&t).sent().len(), 1, "no second Slack message");
    assert_eq!(written(&t).len(), 1);
}

#[tokio::test]
async fn a_slack_failure_is_resumed_alone() {
    let t = ticketer();
    slack(&t).fail_next(err("slack:incoming webhook", true));
    let body = envelope(&sample_event(A, 85));
    assert_eq!(deliver(&t, "m1", &body).await, ["m1"]);
    assert_eq!(jira(&t).issues().len(), 1);
    assert_eq!(written(&t).len(), 1);
    assert!(deliver(&t, "m1", &body).await.is_empty());
    assert_eq!(jira(&t).issues().len(), 1);
    assert_eq!(written(&t).len(), 1, "the write-back is not repeated");
    assert_eq!(
        slack(&t).sent(),
        [(A.to_string(), Some("MEM-1".to_string()))]
    );
}

#[tokio::test]
async fn a_poison_message_goes_straight_to_the_dlq_with_its_reason_and_others_go_on() {
    let t = ticketer();
    // Jira refuses a field (400): that can never succeed. Slack still posts.
    jira(&t).fail_next(err("jira:create issue", false));
    let resp = handler(
        &t,
        batch(vec![
            message("poison", &envelope(&sample_event(A, 85))),
            message("good", &envelope(&sample_event(B, 85))),
        ]),
    )
    .await
    .unwrap();
    assert!(failed_ids(&resp).is_empty(), "neither is retried in vain");
    let dead = dead(&t);
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0, "poison");
    assert!(dead[0].1.contains("jira:create issue"), "{:?}", dead[0]);
    assert_eq!(
        jira(&t).issues().len(),
        1,
        "the other finding got its issue"
    );
    assert_eq!(slack(&t).sent().len(), 2, "Slack for both");
    // A redrive after the fix resumes only Jira for the poisoned one.
    assert!(deliver(&t, "poison", &envelope(&sample_event(A, 85)))
        .await
        .is_empty());
    assert_eq!(jira(&t).issues().len(), 2);
    assert_eq!(slack(&t).sent().len(), 2);
}

#[tokio::test]
async fn malformed_and_forged_events_are_dead_lettered_with_a_clear_reason() {
    let t = ticketer();
    let good = sample_event(A, 85);
    let mut foreign: serde_json::Value = serde_json::from_str(&envelope(&good)).unwrap();
    foreign["source"] = "aws.iam".into();
    let mut no_account = foreign.clone();
    no_account["source"] = "iamwatch".into();
    no_account.as_object_mut().unwrap().remove("account");
    let mut other_arn = good.clone();
    other_arn.finding.product_arn =
        "arn:aws:securityhub:us-east-1:999988887777:product/999988887777/default".into();
    let mut other_id = good.clone();
    other_id.finding.id = B.into();
    let cases = [
        (
            "bad-json",
            "{not json".to_string(),
            "not an EventBridge envelope",
        ),
        ("foreign", foreign.to_string(), "source Some(\"aws.iam\")"),
        ("no-account", no_account.to_string(), "no account"),
        (
            "member",
            envelope_from(&good, "111122223333"),
            "is not the security account",
        ),
        ("arn", envelope(&other_arn), "ProductArn"),
        ("id", envelope(&other_id), "differs from detail.findingId"),
    ];
    let records = cases
        .iter()
        .map(|(id, body, _)| message(id, body))
        .collect();
    let resp = handler(&t, batch(records)).await.unwrap();
    assert!(failed_ids(&resp).is_empty());
    let dead = dead(&t);
    assert_eq!(dead.len(), cases.len());
    for ((id, _, why), (dead_id, reason)) in cases.iter().zip(&dead) {
        assert_eq!(id, dead_id);
        assert!(reason.contains(why), "{id}: {reason}");
    }
    assert!(jira(&t).issues().is_empty());
    assert!(slack(&t).sent().is_empty());
    assert!(written(&t).is_empty());
    assert!(t.ledger.entries().is_empty());
}

#[tokio::test]
async fn without_a_dead_letter_port_a_poison_message_fails_for_the_queues_redrive() {
    let t = Ticketer {
        dead_letters: None,
        ..ticketer()
    };
    assert_eq!(deliver(&t, "bad", "{not json").await, ["bad"]);
}

#[tokio::test]
async fn the_write_back_targets_the_finding_the_ledger_holds() {
    let t = ticketer();
    jira(&t).fail_next(err("jira:search/jql", true));
    assert_eq!(
        deliver(&t, "m1", &envelope(&sample_event(A, 85))).await,
        ["m1"]
    );
    // A later event of the same episode names another (allowed) product ARN: the security
    // account's. The write-back still goes where the episode began.
    let mut moved = sample_event(A, 85);
    moved.finding.product_arn =
        format!("arn:aws:securityhub:us-east-1:{SECURITY}:product/{SECURITY}/default");
    assert!(deliver(&t, "m2", &envelope(&moved)).await.is_empty());
    let w = written(&t);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].1, sample_event(A, 85).finding.product_arn);
}

#[tokio::test]
async fn an_archive_closes_the_issue_and_a_recurrence_reopens_it_in_a_new_episode() {
    let t = Ticketer {
        jira: Some(MemoryIssueTracker::reopening()),
        ..ticketer()
    };
    let first = observed(A, "2025-05-01T10:00:00Z");
    assert!(deliver(&t, "m1", &envelope(&first)).await.is_empty());
    assert!(
        deliver(&t, "m2", &envelope(&archived(A, "2025-05-02T10:00:00Z")))
            .await
            .is_empty()
    );
    assert_eq!(jira(&t).events(), [("MEM-1".to_string(), "closed")]);
    // The archive again: nothing more.
    assert!(
        deliver(&t, "m2", &envelope(&archived(A, "2025-05-02T10:00:00Z")))
            .await
            .is_empty()
    );
    assert_eq!(jira(&t).events().len(), 1);

    assert!(
        deliver(&t, "m3", &envelope(&observed(A, "2025-05-03T10:00:00Z")))
            .await
            .is_empty()
    );
    assert_eq!(
        jira(&t).events(),
        [
            ("MEM-1".to_string(), "closed"),
            ("MEM-1".to_string(), "reopened")
        ]
    );
    assert_eq!(jira(&t).issues().len(), 1, "the same issue, reopened");
    assert_eq!(slack(&t).sent().len(), 2, "one message per episode");
    let entries = t.ledger.entries();
    assert_eq!(
        entries.iter().map(|e| e.episode).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(entries[1].issue.as_ref().unwrap().key, "MEM-1");
}

#[tokio::test]
async fn a_recurrence_of_a_done_issue_without_a_reopen_transition_opens_a_new_issue() {
    let t = ticketer();
    assert!(
        deliver(&t, "m1", &envelope(&observed(A, "2025-05-01T10:00:00Z")))
            .await
            .is_empty()
    );
    assert!(
        deliver(&t, "m2", &envelope(&archived(A, "2025-05-02T10:00:00Z")))
            .await
            .is_empty()
    );
    assert!(
        deliver(&t, "m3", &envelope(&observed(A, "2025-05-03T10:00:00Z")))
            .await
            .is_empty()
    );
    let issues = jira(&t).issues();
    assert_eq!(
        issues.len(),
        2,
        "never a comment on a closed issue nobody reads"
    );
    assert_eq!(issues[1].0, iamwatch_notify::episode_label(A, 2));
    assert_eq!(written(&t).len(), 2);
}

#[tokio::test]
async fn out_of_order_deliveries_never_reopen_or_close_the_wrong_episode() {
    let t = ticketer();
    // The archive arrives before the finding it ends (a late delivery of the active event).
    assert!(
        deliver(&t, "a", &envelope(&archived(A, "2025-05-02T10:00:00Z")))
            .await
            .is_empty()
    );
    assert!(t.ledger.entries().is_empty(), "no ticket: nothing to close");
    assert!(
        deliver(&t, "m1", &envelope(&observed(A, "2025-05-01T10:00:00Z")))
            .await
            .is_empty()
    );
    assert!(
        deliver(&t, "a", &envelope(&archived(A, "2025-05-02T10:00:00Z")))
            .await
            .is_empty()
    );
    // A DLQ redrive days later of the first observation: an ended episode, skipped.
    assert!(
        deliver(&t, "m1", &envelope(&observed(A, "2025-05-01T10:00:00Z")))
            .await
            .is_empty()
    );
    assert_eq!(t.ledger.entries().len(), 1, "no new episode");
    assert_eq!(slack(&t).sent().len(), 1);
    // An archive from before the current episode began ends nothing.
    assert!(
        deliver(&t, "m3", &envelope(&observed(A, "2025-05-03T10:00:00Z")))
            .await
            .is_empty()
    );
    assert!(
        deliver(&t, "old", &envelope(&archived(A, "2025-05-02T12:00:00Z")))
            .await
            .is_empty()
    );
    let latest = t
        .ledger
        .entries()
        .into_iter()
        .max_by_key(|e| e.episode)
        .unwrap();
    assert_eq!(latest.episode, 2);
    assert_eq!(latest.archived_at, None);
}

#[tokio::test]
async fn low_findings_are_skipped_and_a_retryable_write_back_failure_is_resumed() {
    let t = ticketer();
    assert!(deliver(&t, "low", &envelope(&sample_event(B, 69)))
        .await
        .is_empty());
    assert!(t.ledger.entries().is_empty());
    t.write_back
        .errors
        .lock()
        .unwrap()
        .push_back(err("securityhub:BatchUpdateFindings", true));
    let body = envelope(&sample_event(A, 85));
    assert_eq!(deliver(&t, "m1", &body).await, ["m1"]);
    assert_eq!(slack(&t).sent().len(), 1);
    assert!(deliver(&t, "m1", &body).await.is_empty());
    assert_eq!(written(&t).len(), 1);
    assert_eq!(jira(&t).issues().len(), 1);
    assert_eq!(slack(&t).sent().len(), 1);
}

#[tokio::test]
async fn a_ledger_outage_fails_the_message_before_any_output() {
    let t = ticketer();
    t.ledger.fail_next(err("dynamodb:Query", true));
    let body = envelope(&sample_event(A, 85));
    assert_eq!(deliver(&t, "m1", &body).await, ["m1"]);
    assert!(jira(&t).issues().is_empty());
    assert!(slack(&t).sent().is_empty());
    assert!(deliver(&t, "m1", &body).await.is_empty());
    assert_eq!(slack(&t).sent().len(), 1);
}

#[tokio::test]
async fn messages_are_not_started_when_the_invocation_is_nearly_out_of_time() {
    let t = ticketer();
    let mut event = batch(vec![message("m1", &envelope(&sample_event(A, 85)))]);
    event.context.deadline = deadline_in(Duration::from_secs(10).as_millis() as u64);
    let resp = handler(&t, event).await.unwrap();
    assert_eq!(failed_ids(&resp), ["m1"]);
    assert!(jira(&t).issues().is_empty());
}

/// A Slack that never answers in time.
struct HangingNotifier;

impl iamwatch_core::ports::Notifier for HangingNotifier {
    async fn notify(
        &self,
        _event: &FindingEvent,
        _ticket: Option<&TicketRef>,
    ) -> Result<(), PortError> {
        tokio::time::sleep(Duration::from_secs(300)).await;
        Ok(())
    }
}

#[tokio::test]
async fn a_message_still_running_near_the_deadline_is_cut_off_and_failed() {
    let t = Ticketer {
        message_budget: Duration::from_secs(1),
        ..with(MemoryIssueTracker::default(), HangingNotifier)
    };
    let mut event = batch(vec![message("m1", &envelope(&sample_event(A, 85)))]);
    event.context.deadline = deadline_in(4_500);
    let started = std::time::Instant::now();
    let resp = handler(&t, event).await.unwrap();
    assert_eq!(failed_ids(&resp), ["m1"]);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(t.jira.as_ref().unwrap().issues().len(), 1);
}
