//! SQS messages to the event a Lambda gets, and queue helpers.

use crate::HarnessError;
use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use lambda_runtime::{Context, LambdaEvent};

/// Sends `body` to the queue; returns the message id.
pub async fn send(sdk: &SdkConfig, queue_url: &str, body: &str) -> Result<String, HarnessError> {
    let out = aws_sdk_sqs::Client::new(sdk)
        .send_message()
        .queue_url(queue_url)
        .message_body(body)
        .send()
        .await
        .map_err(|e| {
            HarnessError::aws("SendMessage", aws_sdk_sqs::error::DisplayErrorContext(e))
        })?;
    Ok(out.message_id().unwrap_or_default().to_string())
}

/// Receives up to `max` messages (several calls of at most 10, until the queue is empty).
pub async fn receive(
    sdk: &SdkConfig,
    queue_url: &str,
    max: usize,
) -> Result<Vec<aws_sdk_sqs::types::Message>, HarnessError> {
    let client = aws_sdk_sqs::Client::new(sdk);
    let mut out = Vec::new();
    while out.len() < max {
        let page = client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages((max - out.len()).min(10) as i32)
            .visibility_timeout(300)
            .send()
            .await
            .map_err(|e| {
                HarnessError::aws("ReceiveMessage", aws_sdk_sqs::error::DisplayErrorContext(e))
            })?;
        if page.messages().is_empty() {
            break;
        }
        out.extend(page.messages().iter().cloned());
    }
    Ok(out)
}

/// Deletes the messages a handler processed (what the Lambda service does for the messages
/// not reported as failed).
pub async fn delete(
    sdk: &SdkConfig,
    queue_url: &str,
    messages: &[&aws_sdk_sqs::types::Message],
) -> Result<(), HarnessError> {
    let client = aws_sdk_sqs::Client::new(sdk);
    for m in messages {
        if let Some(h) = m.receipt_handle() {
            client
                .delete_message()
                .queue_url(queue_url)
                .receipt_handle(h)
                .send()
                .await
                .map_err(|e| {
                    HarnessError::aws("DeleteMessage", aws_sdk_sqs::error::DisplayErrorContext(e))
                })?;
        }
    }
    Ok(())
}

/// The `SqsEvent` Lambda builds from received messages.
pub fn sqs_event(messages: &[aws_sdk_sqs::types::Message], queue_arn: &str) -> SqsEvent {
    let mut event = SqsEvent::default();
    for m in messages {
        event.records.push(message(
            m.message_id(),
            m.body(),
            m.receipt_handle(),
            queue_arn,
        ));
    }
    event
}

/// One SQS record of a Lambda event.
pub fn message(
    id: Option<&str>,
    body: Option<&str>,
    receipt: Option<&str>,
    queue_arn: &str,
) -> SqsMessage {
    let mut msg = SqsMessage::default();
    msg.message_id = id.map(str::to_string);
    msg.body = body.map(str::to_string);
    msg.receipt_handle = receipt.map(str::to_string);
    msg.event_source = Some("aws:sqs".to_string());
    msg.event_source_arn = Some(queue_arn.to_string());
    msg.aws_region = Some("us-east-1".to_string());
    msg
}

/// A Lambda event of a batch with a default context.
pub fn lambda_event(event: SqsEvent) -> LambdaEvent<SqsEvent> {
    LambdaEvent::new(event, Context::default())
}
