//! Shared by the ticket function's tests: batches of finding events as SQS delivers them from
//! the tickets queue, and a Security Hub stand-in for `BatchUpdateFindings`.
#![allow(dead_code)]

use aws_lambda_events::event::sqs::SqsMessage;
use iamwatch_core::finding_event::FindingEvent;
#[allow(unused_imports)]
pub use iamwatch_lambda::testing::{batch, failed_ids};
use iamwatch_notify::testing::{Canned, RecordingServer};
use serde_json::{json, Value};

pub const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:iamwatch-tickets";
/// The security account of the tests: the findings bus is there.
pub const SECURITY: &str = "123456789012";

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
