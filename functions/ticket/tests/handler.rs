//! The handler over memory doubles: parsing, skipping, ordering of Jira -> write-back -> Slack,
//! per-message failures and FIFO groups.

mod common;

use common::{batch, envelope, failed_ids, message};
use iamwatch_core::finding::{Finding, RecordState};
use iamwatch_core::ports::TicketWriteBack;
use iamwatch_core::ports::{PortError, TicketRef};
use iamwatch_notify::testing::{sample_event, MemoryNotifier, MemoryTicketSink};
use iamwatch_ticket::{handler, Ticketer, DEFAULT_MESSAGE_BUDGET};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

const A: &str = "iamwatch/111122223333/iam-user-created/backdoor";
const B: &str = "iamwatch/111122223333/iam-user-created/eve";

/// Records (finding id, ticket key) of each write-back; queued errors first.
#[derive(Default)]
struct MemoryWriteBack {
    written: Mutex<Vec<(String, String)>>,
    errors: Mutex<VecDeque<PortError>>,
}

impl TicketWriteBack for MemoryWriteBack {
    async fn write_back(&self, finding: &Finding, ticket: &TicketRef) -> Result<(), PortError> {
        if let Some(e) = self.errors.lock().unwrap().pop_front() {
            return Err(e);
        }
        self.written
            .lock()
            .unwrap()
            .push((finding.id.clone(), ticket.key.clone()));
        Ok(())
    }
}

type Memory = Ticketer<MemoryTicketSink, MemoryNotifier, MemoryWriteBack>;

fn ticketer() -> Memory {
    Ticketer {
        jira: Some(MemoryTicketSink::default()),
        slack: Some(MemoryNotifier::default()),
        write_back: MemoryWriteBack::default(),
        min_score: 70,
        message_budget: DEFAULT_MESSAGE_BUDGET,
    }
}

fn err(operation: &str, retryable: bool) -> PortError {
    PortError {
        operation: operation.to_string(),
        message: "injected".to_string(),
        retryable,
    }
}

fn jira(t: &Memory) -> &MemoryTicketSink {
    t.jira.as_ref().unwrap()
}

fn slack(t: &Memory) -> &MemoryNotifier {
    t.slack.as_ref().unwrap()
}

#[tokio::test]
async fn a_finding_event_is_ticketed_written_back_and_posted() {
    let t = ticketer();
    let resp = handler(
        &t,
        batch(vec![message("m1", A, &envelope(&sample_event(A, 85)))]),
    )
    .await
    .unwrap();
    assert!(failed_ids(&resp).is_empty());
    let tickets = jira(&t).tickets();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].0, A);
    assert_eq!(
        *t.write_back.written.lock().unwrap(),
        [(A.to_string(), "MEM-1".to_string())]
    );
    assert_eq!(
        slack(&t).sent(),
        [(A.to_string(), Some("MEM-1".to_string()))]
    );
}

#[tokio::test]
async fn malformed_and_foreign_messages_fail_alone() {
    let t = ticketer();
    let mut foreign: serde_json::Value =
        serde_json::from_str(&envelope(&sample_event(B, 85))).unwrap();
    foreign["source"] = "aws.iam".into();
    let mut no_detail = foreign.clone();
    no_detail["source"] = "iamwatch".into();
    no_detail["detail"] = serde_json::json!({"findingId": B});
    let resp = handler(
        &t,
        batch(vec![
            message("bad-json", "g1", "{not json"),
            message("good", A, &envelope(&sample_event(A, 85))),
            message("foreign", "g2", &foreign.to_string()),
            message("no-detail", "g3", &no_detail.to_string()),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(failed_ids(&resp), ["bad-json", "foreign", "no-detail"]);
    assert_eq!(jira(&t).tickets().len(), 1);
    assert_eq!(slack(&t).sent().len(), 1);
}

#[tokio::test]
async fn archived_and_low_findings_are_skipped() {
    let t = ticketer();
    let mut archived = sample_event(A, 85);
    archived.record_state = RecordState::Archived;
    let low = sample_event(B, 69);
    let resp = handler(
        &t,
        batch(vec![
            message("archived", A, &envelope(&archived)),
            message("low", B, &envelope(&low)),
        ]),
    )
    .await
    .unwrap();
    assert!(failed_ids(&resp).is_empty());
    assert!(jira(&t).tickets().is_empty());
    assert!(slack(&t).sent().is_empty());
}

#[tokio::test]
async fn a_jira_outage_fails_the_message_before_slack_and_the_redelivery_posts_once() {
    let t = ticketer();
    jira(&t).fail_next(err("jira:search/jql", true));
    let body = envelope(&sample_event(A, 85));
    let resp = handler(&t, batch(vec![message("m1", A, &body)]))
        .await
        .unwrap();
    assert_eq!(failed_ids(&resp), ["m1"]);
    assert!(slack(&t).sent().is_empty(), "Slack must wait for Jira");
    assert!(t.write_back.written.lock().unwrap().is_empty());

    let resp = handler(&t, batch(vec![message("m1", A, &body)]))
        .await
        .unwrap();
    assert!(failed_ids(&resp).is_empty());
    assert_eq!(jira(&t).tickets().len(), 1);
    assert_eq!(slack(&t).sent().len(), 1);
}

#[tokio::test]
async fn a_slack_failure_fails_the_message_and_the_redelivery_comments_instead_of_reopening() {
    let t = ticketer();
    slack(&t).fail_next(err("slack:incoming webhook", true));
    let body = envelope(&sample_event(A, 85));
    let resp = handler(&t, batch(vec![message("m1", A, &body)]))
        .await
        .unwrap();
    assert_eq!(failed_ids(&resp), ["m1"]);
    let resp = handler(&t, batch(vec![message("m1", A, &body)]))
        .await
        .unwrap();
    assert!(failed_ids(&resp).is_empty());
    assert_eq!(jira(&t).tickets().len(), 1);
    assert_eq!(jira(&t).comments(), [A]);
    assert_eq!(slack(&t).sent().len(), 1);
}

#[tokio::test]
async fn a_retryable_write_back_failure_fails_before_slack_another_is_logged() {
    let t = ticketer();
    t.write_back
        .errors
        .lock()
        .unwrap()
        .push_back(err("securityhub:BatchUpdateFindings", true));
    let resp = handler(
        &t,
        batch(vec![message("m1", A, &envelope(&sample_event(A, 85)))]),
    )
    .await
    .unwrap();
    assert_eq!(failed_ids(&resp), ["m1"]);
    assert!(slack(&t).sent().is_empty());

    t.write_back
        .errors
        .lock()
        .unwrap()
        .push_back(err("securityhub:BatchUpdateFindings", false));
    let resp = handler(
        &t,
        batch(vec![message("m2", B, &envelope(&sample_event(B, 85)))]),
    )
    .await
    .unwrap();
    assert!(failed_ids(&resp).is_empty());
    assert_eq!(
        slack(&t).sent(),
        [(B.to_string(), Some("MEM-2".to_string()))]
    );
}

#[tokio::test]
async fn after_a_failure_the_rest_of_its_fifo_group_waits_other_groups_go_on() {
    let t = ticketer();
    jira(&t).fail_next(err("jira:create issue", true));
    let resp = handler(
        &t,
        batch(vec![
            message("a1", A, &envelope(&sample_event(A, 85))),
            message("b1", B, &envelope(&sample_event(B, 85))),
            message("a2", A, &envelope(&sample_event(A, 90))),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(failed_ids(&resp), ["a1", "a2"]);
    let tickets = jira(&t).tickets();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].0, B);
}

#[tokio::test]
async fn without_jira_slack_is_posted_without_a_ticket_and_nothing_is_written_back() {
    let t = Ticketer {
        jira: None::<MemoryTicketSink>,
        ..ticketer()
    };
    let resp = handler(
        &t,
        batch(vec![message("m1", A, &envelope(&sample_event(A, 85)))]),
    )
    .await
    .unwrap();
    assert!(failed_ids(&resp).is_empty());
    assert_eq!(slack(&t).sent(), [(A.to_string(), None)]);
    assert!(t.write_back.written.lock().unwrap().is_empty());
}

#[tokio::test]
async fn messages_are_not_started_when_the_invocation_is_nearly_out_of_time() {
    let t = ticketer();
    let mut event = batch(vec![message("m1", A, &envelope(&sample_event(A, 85)))]);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    event.context.deadline = now_ms + Duration::from_secs(10).as_millis() as u64;
    let resp = handler(&t, event).await.unwrap();
    assert_eq!(failed_ids(&resp), ["m1"]);
    assert!(jira(&t).tickets().is_empty());
}

/// A Slack that never answers in time.
struct HangingNotifier;

impl iamwatch_core::ports::Notifier for HangingNotifier {
    async fn notify(
        &self,
        _event: &iamwatch_core::finding_event::FindingEvent,
        _ticket: Option<&TicketRef>,
    ) -> Result<(), PortError> {
        tokio::time::sleep(Duration::from_secs(300)).await;
        Ok(())
    }
}

#[tokio::test]
async fn a_message_still_running_near_the_deadline_is_cut_off_and_failed() {
    let t = Ticketer {
        jira: Some(MemoryTicketSink::default()),
        slack: Some(HangingNotifier),
        write_back: MemoryWriteBack::default(),
        min_score: 70,
        message_budget: Duration::from_secs(1),
    };
    let mut event = batch(vec![message("m1", A, &envelope(&sample_event(A, 85)))]);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    event.context.deadline = now_ms + 4_500;
    let started = std::time::Instant::now();
    let resp = handler(&t, event).await.unwrap();
    assert_eq!(failed_ids(&resp), ["m1"]);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(t.jira.as_ref().unwrap().tickets().len(), 1);
}
