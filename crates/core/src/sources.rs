//! The event sources iamwatch accepts, as one table: CloudTrail's `eventSource`, and the
//! EventBridge `source` and `detail-type` that carry it. The reader's fast path, the record
//! and envelope checks and the engine all ask this table; a new source is one row.

/// CloudTrail's `eventSource` for IAM.
pub const IAM: &str = "iam.amazonaws.com";

/// CloudTrail's `eventSource` for console sign-ins (`ConsoleLogin`). AWS delivers these in the
/// region of the sign-in endpoint, not only us-east-1.
pub const SIGNIN: &str = "signin.amazonaws.com";

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
pub static SOURCES: &[EventSource] = &[
    EventSource {
        event_source: IAM,
        envelope_source: "aws.iam",
        detail_type: "AWS API Call via CloudTrail",
    },
    EventSource {
        event_source: SIGNIN,
        envelope_source: "aws.signin",
        detail_type: "AWS Console Sign In via CloudTrail",
    },
];

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
    fn sign_in_is_accepted_both_ways() {
        assert!(accepted("signin.amazonaws.com"));
        assert_eq!(
            by_envelope("aws.signin", "AWS Console Sign In via CloudTrail").map(|s| s.event_source),
            Some(SIGNIN)
        );
        // Each source keeps its own detail-type.
        assert_eq!(
            by_envelope("aws.signin", "AWS API Call via CloudTrail"),
            None
        );
        assert_eq!(
            by_envelope("aws.iam", "AWS Console Sign In via CloudTrail"),
            None
        );
    }

    #[test]
    fn every_rule_reads_an_accepted_source() {
        for m in crate::rules::metas() {
            assert!(accepted(m.event_source), "{}: {}", m.id, m.event_source);
        }
    }
}
