//! Shared by the ticket function's tests: the findings and their events, batches of them as SQS
//! delivers them from the tickets queue, one delivery to a ticketer, what went to the
//! dead-letter queue, and a Security Hub stand-in for `BatchUpdateFindings`.
#![allow(dead_code)]

use aws_lambda_events::event::sqs::SqsMessage;
use iamwatch_core::finding::RecordState;
use iamwatch_core::finding_event::FindingEvent;
use iamwatch_core::ports::{DeadLetters, IssueTracker, Notifier, TicketLedger, TicketWriteBack};
#[allow(unused_imports)]
pub use iamwatch_lambda::testing::{batch, failed_ids};
use iamwatch_notify::testing::{sample_event, Canned, RecordingServer};
use iamwatch_ticket::{handler, Ticketer};
use serde_json::{json, Value};

pub const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:iamwatch-tickets";
/// The security account of the tests: the findings bus is there.
pub const SECURITY: &str = "123456789012";

/// Two findings of a member account.
pub const A: &str = "iamwatch/111122223333/iam-user-created/backdoor";
pub const B: &str = "iamwatch/111122223333/iam-user-created/eve";

/// The finding's event (score 85), last observed (and updated) at `at`.
pub fn observed(finding: &str, at: &str) -> FindingEvent {
    let mut e = sample_event(finding, 85);
    e.finding.last_observed_at = at.to_string();
    e.finding.updated_at = at.to_string();
    e
}

/// The finding's event archived at `at`.
pub fn archived(finding: &str, at: &str) -> FindingEvent {
    let mut e = observed(finding, at);
    e.record_state = RecordState::Archived;
    e.finding.record_state = RecordState::Archived;
    e
}

/// One message delivered alone to the handler; the ids of the failed messages.
pub async fn deliver<T, N, W, L, D>(
    t: &Ticketer<T, N, W, L, D>,
    id: &str,
    body: &str,
) -> Vec<String>
where
    T: IssueTracker,
    N: Notifier,
    W: TicketWriteBack,
    L: TicketLedger,
    D: DeadLetters,
{
    failed_ids(&handler(t, batch(vec![message(id, body)])).await.unwrap())
}

/// (reason, original message id, body) of each message on the dead-letter queue at `queue_url`.
pub async fn dead_letters(
    sdk: &aws_config::SdkConfig,
    queue_url: &str,
) -> Vec<(String, String, String)> {
    let out = aws_sdk_sqs::Client::new(sdk)
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .send()
        .await
        .unwrap();
    out.messages()
        .iter()
        .map(|m| {
            let attr = |k: &str| {
                m.message_attributes()
                    .and_then(|a| a.get(k))
                    .and_then(|v| v.string_value())
                    .unwrap_or_default()
                    .to_string()
            };
            (
                attr("iamwatch-reason"),
                attr("iamwatch-message-id"),
                m.body().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The EventBridge envelope of a finding event, as the ticket rule delivers it to SQS from the
/// findings bus of the security account.
pub fn envelope(event: &FindingEvent) -> String {
    envelope_from(event, SECURITY)
}

/// The envelope as if put by `account`.
pub fn envelope_from(event: &FindingEvent, account: &str) -> String {
    json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "IAM Watch Finding",
        "source": "iamwatch",
        "account": account,
        "time": "2025-05-01T10:00:05Z",
        "region": "us-east-1",
        "resources": [event.finding_id],
        "detail": event,
    })
    .to_string()
}

/// One SQS record of the standard tickets queue: message id, body.
pub fn message(id: &str, body: &str) -> SqsMessage {
    let mut m = iamwatch_lambda::testing::message(id, body);
    m.receipt_handle = Some(format!("receipt-{id}"));
    m.event_source = Some("aws:sqs".to_string());
    m.event_source_arn = Some(QUEUE_ARN.to_string());
    m.aws_region = Some("us-east-1".to_string());
    m
}

/// Security Hub's `BatchUpdateFindings` (REST-JSON: `PATCH /findings/batchupdate`), answering
/// every identifier as processed.
pub async fn fake_security_hub() -> RecordingServer {
    let server = RecordingServer::start().await.expect("bind");
    server.route("PATCH", "/findings/batchupdate", |req| {
        let ids = req.json()["FindingIdentifiers"].clone();
        if !ids.is_array() {
            return Canned::json(
                400,
                &json!({"__type": "InvalidInputException", "message": "FindingIdentifiers is required"}),
            );
        }
        Canned::json(
            200,
            &json!({"ProcessedFindings": ids, "UnprocessedFindings": []}),
        )
    });
    server
}

/// The JSON body of each `BatchUpdateFindings` call.
pub fn batch_updates(server: &RecordingServer) -> Vec<Value> {
    server
        .requests_to("PATCH", "/findings/batchupdate")
        .iter()
        .map(|r| r.json())
        .collect()
}
