//! SQS records and batches as Lambda delivers them, and environments of configuration tests
//! (feature `test-support`).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use std::collections::HashMap;

/// A lookup of these variables, as a function's `from_lookup` takes it (a later pair of the same
/// name wins); every other variable is unset.
pub fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'static {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

/// A record of a standard queue with this message id and body.
pub fn message(id: &str, body: &str) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.to_string());
    m.body = Some(body.to_string());
    m
}

/// A record of a FIFO queue: message id, message group, body.
pub fn fifo_message(id: &str, group: &str, body: &str) -> SqsMessage {
    let mut m = message(id, body);
    m.attributes
        .insert("MessageGroupId".to_string(), group.to_string());
    m
}

/// The event of a batch of records.
pub fn sqs_event(records: Vec<SqsMessage>) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = records;
    event
}

/// The invocation of a batch of records, with a default context (no deadline).
#[cfg(feature = "test-support")]
pub fn batch(records: Vec<SqsMessage>) -> lambda_runtime::LambdaEvent<SqsEvent> {
    lambda_runtime::LambdaEvent::new(sqs_event(records), lambda_runtime::Context::default())
}

/// The message ids a batch response reports as failed.
pub fn failed_ids(resp: &SqsBatchResponse) -> Vec<String> {
    resp.batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}
