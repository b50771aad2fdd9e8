//! [`SqsDeadLetters`]: the core's [`DeadLetters`] over SQS `SendMessage` to a dead-letter queue.
//!
//! Lambda's SQS event source has no on-failure destination (AWS offers those for stream and
//! Kafka sources only), and a message reported as failed is retried until the queue's
//! `maxReceiveCount`. A message that can never succeed is therefore sent to the dead-letter
//! queue by the function itself, body unchanged, with its reason and original message id as
//! message attributes (`iamwatch-reason`, `iamwatch-message-id`), and reported as done. A
//! redrive (`StartMessageMoveTask`) puts the body back on the source queue as it was.

use crate::error::port_error;
use aws_sdk_sqs::types::MessageAttributeValue;
use iamwatch_core::finding::truncate;
use iamwatch_core::ports::{DeadLetters, PortError};

/// Message attribute holding why the message was dead-lettered.
pub const REASON_ATTRIBUTE: &str = "iamwatch-reason";
/// Message attribute holding the message id it had on the source queue.
pub const MESSAGE_ID_ATTRIBUTE: &str = "iamwatch-message-id";
/// The longest reason kept (an SQS attribute may be larger; a reason need not be).
const MAX_REASON: usize = 1000;

/// Sends messages to one dead-letter queue. Build once per container.
#[derive(Clone)]
pub struct SqsDeadLetters {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsDeadLetters {
    /// `queue_url`: the dead-letter queue (`IAMWATCH_TICKETS_DLQ_URL`).
    pub fn new(sdk: &aws_config::SdkConfig, queue_url: impl Into<String>) -> SqsDeadLetters {
        SqsDeadLetters {
            client: aws_sdk_sqs::Client::new(sdk),
            queue_url: queue_url.into(),
        }
    }
}

fn attribute(value: &str) -> Result<MessageAttributeValue, PortError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| PortError {
            operation: "sqs:SendMessage".to_string(),
            message: e.to_string(),
            retryable: false,
        })
}

impl DeadLetters for SqsDeadLetters {
    async fn dead_letter(
        &self,
        message_id: &str,
        body: &str,
        reason: &str,
    ) -> Result<(), PortError> {
        let operation = format!("sqs:SendMessage to {}", self.queue_url);
        // SQS refuses an empty body; an empty message is dead-lettered as a placeholder.
        let body = if body.is_empty() {
            "(empty body)"
        } else {
            body
        };
        let id = if message_id.is_empty() {
            "(none)"
        } else {
            message_id
        };
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .message_attributes(REASON_ATTRIBUTE, attribute(&truncate(reason, MAX_REASON))?)
            .message_attributes(MESSAGE_ID_ATTRIBUTE, attribute(id)?)
            .send()
            .await
            .map_err(|e| port_error(operation, &e))?;
        Ok(())
    }
}
