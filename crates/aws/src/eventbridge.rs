//! [`EventBridgePublisher`]: the core's [`FindingPublisher`] over EventBridge `PutEvents`.
//!
//! Each finding event goes to the bus as source [`FINDING_EVENT_SOURCE`] (`iamwatch`),
//! detail-type [`FINDING_EVENT_DETAIL_TYPE`] (`IAM Watch Finding`), the detail being the
//! [`FindingEvent`] JSON (schema in `docs/contracts.md`). The events of one `publish` go in
//! calls of at most [`MAX_ENTRIES`] entries and [`MAX_REQUEST_BYTES`] (EventBridge's limits,
//! entry sizes counted as EventBridge counts them), one call at a time. Entries EventBridge
//! reports as failed with a retryable code (throttling, internal errors) are sent again, a few
//! times with [`backoff`]; what still fails, or fails for good, is reported by finding id, so
//! only the events that failed are retried later.

use crate::error::port_error;
use aws_config::SdkConfig;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;
use iamwatch_core::finding_event::{FindingEvent, FINDING_EVENT_DETAIL_TYPE, FINDING_EVENT_SOURCE};
use iamwatch_core::ports::{backoff, FindingPublisher, PortError, PublishReport};
use std::time::Duration;

/// Entries per `PutEvents` call (the API's limit).
pub const MAX_ENTRIES: usize = 10;
/// Total size of the entries of one `PutEvents` call (the API's limit: 256 KB).
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;
/// Sends of entries EventBridge reported as failed, first send included.
pub const MAX_SENDS: u32 = 4;
/// Wait before the second send of failed entries ([`backoff`], doubled for each later one).
pub const RESEND_BASE_DELAY: Duration = Duration::from_millis(100);
/// The longest wait between sends.
pub const RESEND_MAX_DELAY: Duration = Duration::from_millis(3200);

/// Entry error codes worth sending again.
fn retryable_entry_code(code: &str) -> bool {
    code.contains("Throttl") || code.contains("Internal") || code == "ServiceUnavailable"
}

/// The size EventBridge counts for an entry: source, detail-type, detail and resources in
/// UTF-8 bytes, plus 14 for the time.
pub fn entry_size(e: &PutEventsRequestEntry) -> usize {
    14 + e.source().map_or(0, str::len)
        + e.detail_type().map_or(0, str::len)
        + e.detail().map_or(0, str::len)
        + e.resources().iter().map(String::len).sum::<usize>()
}

/// Splits items into runs of at most `max_items` whose sizes add up to at most `max_bytes`
/// (an item bigger than `max_bytes` goes alone).
pub fn chunks_by_size<T>(
    items: Vec<T>,
    max_items: usize,
    max_bytes: usize,
    size: impl Fn(&T) -> usize,
) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut bytes = 0;
    for item in items {
        let n = size(&item);
        match out.last_mut() {
            Some(last) if last.len() < max_items && bytes + n <= max_bytes => {
                bytes += n;
                last.push(item);
            }
            _ => {
                bytes = n;
                out.push(vec![item]);
            }
        }
    }
    out
}

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

    fn operation(&self) -> String {
        format!("events:PutEvents to {}", self.bus)
    }

    fn entry(&self, e: &FindingEvent) -> Result<PutEventsRequestEntry, PortError> {
        let detail = serde_json::to_string(e).map_err(|err| PortError {
            operation: self.operation(),
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

    /// Sends one call's entries (finding id, entry), again for the retryable failed ones;
    /// returns the failures by finding id.
    async fn put(
        &self,
        mut entries: Vec<(String, PutEventsRequestEntry)>,
    ) -> Vec<(String, PortError)> {
        let operation = self.operation();
        let mut failed_for_good = Vec::new();
        for send in 1..=MAX_SENDS {
            let call = self
                .client
                .put_events()
                .set_entries(Some(entries.iter().map(|(_, e)| e.clone()).collect()))
                .send()
                .await;
            let out = match call {
                Ok(out) => out,
                Err(e) => {
                    let err = port_error(operation.clone(), &e);
                    failed_for_good.extend(entries.into_iter().map(|(id, _)| (id, err.clone())));
                    return failed_for_good;
                }
            };
            if out.failed_entry_count() == 0 {
                return failed_for_good;
            }
            // Results are in the order of the entries; failed ones carry an error code.
            let mut again = Vec::new();
            for ((id, entry), result) in entries.into_iter().zip(out.entries()) {
                let Some(code) = result.error_code() else {
                    continue;
                };
                let err = PortError {
                    operation: operation.clone(),
                    message: format!("{code}: {}", result.error_message().unwrap_or("")),
                    retryable: retryable_entry_code(code),
                };
                if err.retryable && send < MAX_SENDS {
                    again.push((id, entry, err));
                } else {
                    failed_for_good.push((id, err));
                }
            }
            if again.is_empty() {
                return failed_for_good;
            }
            tracing::warn!(failed = again.len(), error = %again[0].2, "sending failed entries again");
            tokio::time::sleep(backoff(send, RESEND_BASE_DELAY, RESEND_MAX_DELAY)).await;
            entries = again.into_iter().map(|(id, e, _)| (id, e)).collect();
        }
        failed_for_good
    }
}

impl FindingPublisher for EventBridgePublisher {
    async fn publish(&self, events: &[FindingEvent]) -> PublishReport {
        let mut report = PublishReport::default();
        let mut entries = Vec::new();
        for e in events {
            match self.entry(e) {
                Ok(entry) => entries.push((e.finding_id.clone(), entry)),
                Err(err) => report.failed.push((e.finding_id.clone(), err)),
            }
        }
        let calls = chunks_by_size(entries, MAX_ENTRIES, MAX_REQUEST_BYTES, |(_, e)| {
            entry_size(e)
        });
        // One call at a time: a burst's calls piled up at once only wait on each other (and
        // time out) wherever the bus is slower than the function.
        for chunk in calls {
            report.failed.extend(self.put(chunk).await);
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_hold_at_most_ten_entries_and_256_kb() {
        let sizes = vec![1usize; 25];
        let c = chunks_by_size(sizes, MAX_ENTRIES, MAX_REQUEST_BYTES, |n| *n);
        assert_eq!(c.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 5]);
        let big = vec![100 * 1024usize, 100 * 1024, 100 * 1024, 300 * 1024, 1];
        let c = chunks_by_size(big, MAX_ENTRIES, MAX_REQUEST_BYTES, |n| *n);
        assert_eq!(
            c,
            vec![
                vec![100 * 1024, 100 * 1024],
                vec![100 * 1024],
                vec![300 * 1024],
                vec![1]
            ]
        );
        assert!(chunks_by_size(Vec::<usize>::new(), 10, 10, |n| *n).is_empty());
    }

    #[test]
    fn entry_sizes_count_what_eventbridge_counts() {
        let e = PutEventsRequestEntry::builder()
            .source("iamwatch")
            .detail_type("IAM Watch Finding")
            .detail("{}")
            .resources("abc")
            .event_bus_name("not counted")
            .build();
        assert_eq!(entry_size(&e), 14 + 8 + 17 + 2 + 3);
        assert!(retryable_entry_code("ThrottlingException"));
        assert!(retryable_entry_code("InternalException"));
        assert!(!retryable_entry_code("MalformedDetail"));
    }
}
