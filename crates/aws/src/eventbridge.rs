//! [`EventBridgePublisher`]: the core's [`FindingPublisher`] over EventBridge `PutEvents`.
//!
//! Each finding event goes to the bus as source [`FINDING_EVENT_SOURCE`] (`iamwatch`),
//! detail-type [`FINDING_EVENT_DETAIL_TYPE`] (`IAM Watch Finding`), the detail being the
//! [`FindingEvent`] JSON (schema in `docs/contracts.md`). At most [`MAX_ENTRIES`] entries a
//! call; entries EventBridge reports as failed (`FailedEntryCount`) are sent again, a few times
//! with backoff, and then make the call fail.

use crate::error::port_error;
use aws_config::SdkConfig;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;
use iamwatch_core::finding_event::{FindingEvent, FINDING_EVENT_DETAIL_TYPE, FINDING_EVENT_SOURCE};
use iamwatch_core::ports::{backoff, FindingPublisher, PortError};
use std::time::Duration;

/// Entries per `PutEvents` call (the API's limit).
pub const MAX_ENTRIES: usize = 10;
/// Sends of entries EventBridge reported as failed, first send included.
pub const MAX_SENDS: u32 = 4;
/// Wait before the second send of failed entries ([`backoff`], doubled for each later one).
pub const RESEND_BASE_DELAY: Duration = Duration::from_millis(100);
/// The longest wait between sends.
pub const RESEND_MAX_DELAY: Duration = Duration::from_millis(6400);

/// Publishes finding events to one bus. Build once per container.
#[derive(Clone)]
pub struct EventBridgePublisher {
    client: Client,
    bus: String,
}

impl EventBridgePublisher {
    /// `bus`: name or ARN of the bus (`IAMWATCH_EVENT_BUS`).
    pub fn new(sdk: &SdkConfig, bus: impl Into<String>) -> EventBridgePublisher {
        EventBridgePublisher {
            client: Client::new(sdk),
            bus: bus.into(),
        }
    }

    fn entry(&self, e: &FindingEvent) -> Result<PutEventsRequestEntry, PortError> {
        let detail = serde_json::to_string(e).map_err(|err| PortError {
            operation: "events:PutEvents".to_string(),
            message: format!("finding event {} does not serialize: {err}", e.finding_id),
            retryable: false,
        })?;
        Ok(PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(FINDING_EVENT_SOURCE)
            .detail_type(FINDING_EVENT_DETAIL_TYPE)
            .resources(e.finding_id.clone())
            .detail(detail)
            .build())
    }

    async fn put(&self, mut entries: Vec<PutEventsRequestEntry>) -> Result<(), PortError> {
        let operation = format!("events:PutEvents to {}", self.bus);
        for send in 1..=MAX_SENDS {
            let out = self
                .client
                .put_events()
                .set_entries(Some(entries.clone()))
                .send()
                .await
                .map_err(|e| port_error(operation.clone(), &e))?;
            if out.failed_entry_count() == 0 {
                return Ok(());
            }
            // Results are in the order of the entries; failed ones carry an error code.
            let failed: Vec<(PutEventsRequestEntry, String)> = entries
                .iter()
                .zip(out.entries())
                .filter_map(|(e, r)| {
                    r.error_code().map(|c| {
                        (
                            e.clone(),
                            format!("{c}: {}", r.error_message().unwrap_or("")),
                        )
                    })
                })
                .collect();
            if failed.is_empty() {
                return Ok(());
            }
            if send == MAX_SENDS {
                return Err(PortError {
                    operation,
                    message: format!(
                        "{} of the entries failed, e.g. {}",
                        failed.len(),
                        failed[0].1
                    ),
                    retryable: true,
                });
            }
            tracing::warn!(failed = failed.len(), error = %failed[0].1, "sending failed entries again");
            tokio::time::sleep(backoff(send, RESEND_BASE_DELAY, RESEND_MAX_DELAY)).await;
            entries = failed.into_iter().map(|(e, _)| e).collect();
        }
        Ok(())
    }
}

impl FindingPublisher for EventBridgePublisher {
    async fn publish(&self, events: &[FindingEvent]) -> Result<(), PortError> {
        for chunk in events.chunks(MAX_ENTRIES) {
            let entries = chunk
                .iter()
                .map(|e| self.entry(e))
                .collect::<Result<Vec<_>, _>>()?;
            self.put(entries).await?;
        }
        Ok(())
    }
}
