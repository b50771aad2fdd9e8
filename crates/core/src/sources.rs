//! The event sources iamwatch accepts, as one table: CloudTrail's `eventSource`, and the
//! EventBridge `source` and `detail-type` that carry it. The reader's fast path, the record
//! and envelope checks and the engine all ask this table; a new source is one row.

/// CloudTrail's `eventSource` for IAM.
pub const IAM: &str = "iam.amazonaws.com";

/// One accepted source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSource {
    /// CloudTrail's `eventSource` (`iam.amazonaws.com`).
    pub event_source: &'static str,
    /// EventBridge's `source` of these events (`aws.iam`).
    pub envelope_source: &'static str,
    /// EventBridge's `detail-type` of these events.
    pub detail_type: &'static str,
}

/// Every accepted source.
pub static SOURCES: &[EventSource] = &[EventSource {
    event_source: IAM,
    envelope_source: "aws.iam",
    detail_type: "AWS API Call via CloudTrail",
}];

/// The accepted source with this CloudTrail `eventSource`.
pub fn by_event_source(event_source: &str) -> Option<&'static EventSource> {
    SOURCES.iter().find(|s| s.event_source == event_source)
}

/// The accepted source with this EventBridge `source` and `detail-type`.
pub fn by_envelope(source: &str, detail_type: &str) -> Option<&'static EventSource> {
    SOURCES
        .iter()
        .find(|s| s.envelope_source == source && s.detail_type == detail_type)
}

/// Whether CloudTrail's `eventSource` is one iamwatch reads.
pub fn accepted(event_source: &str) -> bool {
    by_event_source(event_source).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_is_accepted_both_ways() {
        assert!(accepted("iam.amazonaws.com"));
        assert!(!accepted("ec2.amazonaws.com"));
        assert_eq!(
            by_envelope("aws.iam", "AWS API Call via CloudTrail").map(|s| s.event_source),
            Some(IAM)
        );
        assert_eq!(by_envelope("aws.iam", "Something else"), None);
    }

    #[test]
    fn every_rule_reads_an_accepted_source() {
        for m in crate::rules::metas() {
            assert!(accepted(m.event_source), "{}: {}", m.id, m.event_source);
        }
    }
}
