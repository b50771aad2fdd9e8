//! The iamwatch detection core: CloudTrail IAM records in, scored ASFF findings out.
//!
//! Pure: no AWS SDK, no async runtime, no network. The scanner (`iamwatch scan`) and the
//! Lambda functions run the same code; adapters around it implement the traits of [`ports`].
//!
//! # Layout
//!
//! - [`record`]: the CloudTrail record and the EventBridge envelope, lenient where logs are messy.
//! - [`input`]: every input form of the scanner (S3 log files, arrays, JSON Lines, envelopes,
//!   SQS batches, gzip), read fast by parsing only the IAM records.
//! - [`sources`]: the accepted event sources, as one table.
//! - [`rules`]: the detection rules, one file per rule id, and [`rules::RULES`], the one list
//!   every id, event name and resolving event is derived from.
//! - [`subject`]: what a finding is about (user, key, grant, role, group, provider, ...).
//! - [`policy_document`]: IAM policy documents and grants (what counts as admin).
//! - [`trust`]: role trust policies (who may assume a role, and whether from outside).
//! - [`resolve`]: resolving events, which archive the findings they end.
//! - [`observation`]: what a finding was observed in (a CloudTrail record), as scoring and
//!   finding building read it.
//! - [`score`]: base score plus explainable factors, clamped, labelled.
//! - [`policy`]: the policy file (TOML), validated with errors naming file and key.
//! - [`enrich`]: account and user context, and the offline org snapshot.
//! - [`engine`]: one record to one [`engine::Verdict`]; scoring a detection into a finding.
//! - [`build`] and [`finding`]: the ASFF model and how a finding is built.
//! - [`timeline`]: replays findings and resolutions from many files in event-time order.
//! - [`finding_event`]: the EventBridge event of a finding (detect -> ticket).
//! - [`ocsf`]: a finding as an OCSF Detection Finding (class 2004), for Security Lake.
//! - [`inventory`]: the daily inventory of IAM users (credential reports, hygiene rules, tables).
//! - [`links`]: every link a finding, ticket or message carries (runbooks, console pages).
//! - [`ports`]: the narrow traits adapters implement (`Enricher`, `FindingSink`, ...).
//! - [`glob`], [`net`], [`time`]: small helpers (ARN globs, lenient IPs and CIDRs, timestamps).

pub mod build;
pub mod engine;
pub mod enrich;
pub mod finding;
pub mod finding_event;
pub mod glob;
pub mod input;
pub mod inventory;
pub mod links;
pub mod net;
pub mod observation;
pub mod ocsf;
pub mod policy;
pub mod policy_document;
pub mod ports;
pub mod record;
pub mod resolve;
pub mod rules;
pub mod score;
pub mod select;
pub mod sources;
pub mod subject;
pub mod time;
pub mod timeline;
pub mod trust;

pub use build::FindingContext;
pub use engine::{evaluate, Verdict};
pub use enrich::{Enrichment, OrgSnapshot};
pub use finding::{Finding, FindingId};
pub use observation::Observation;
pub use policy::Policy;
pub use record::CloudTrailRecord;
pub use subject::{Grant, Subject};

use serde::{Deserialize, Serialize};
use std::fmt;

/// ASFF severity labels, by score: 0 INFORMATIONAL, 1-39 LOW, 40-69 MEDIUM, 70-89 HIGH,
/// 90-100 CRITICAL. Ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Label {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Label {
    pub const ALL: [Label; 5] = [
        Label::Informational,
        Label::Low,
        Label::Medium,
        Label::High,
        Label::Critical,
    ];

    pub fn from_score(score: u8) -> Label {
        match score {
            0 => Label::Informational,
            1..=39 => Label::Low,
            40..=69 => Label::Medium,
            70..=89 => Label::High,
            _ => Label::Critical,
        }
    }

    /// The lowest score with this label.
    pub fn min_score(self) -> u8 {
        match self {
            Label::Informational => 0,
            Label::Low => 1,
            Label::Medium => 40,
            Label::High => 70,
            Label::Critical => 90,
        }
    }

    /// Parses a label, case-insensitively.
    pub fn parse(s: &str) -> Option<Label> {
        Label::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Label::Informational => "INFORMATIONAL",
            Label::Low => "LOW",
            Label::Medium => "MEDIUM",
            Label::High => "HIGH",
            Label::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors of the core's loaders.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    #[error("org snapshot {origin}: {reason}")]
    OrgSnapshot { origin: String, reason: String },
}

#[cfg(test)]
mod tests {
    use super::Label;

    #[test]
    fn label_ranges() {
        let cases = [
            (0, "INFORMATIONAL"),
            (1, "LOW"),
            (39, "LOW"),
            (40, "MEDIUM"),
            (69, "MEDIUM"),
            (70, "HIGH"),
            (89, "HIGH"),
            (90, "CRITICAL"),
            (100, "CRITICAL"),
        ];
        for (score, label) in cases {
            assert_eq!(Label::from_score(score).as_str(), label, "score {score}");
        }
        assert_eq!(Label::parse("high"), Some(Label::High));
        assert_eq!(Label::parse("severe"), None);
        assert!(Label::Critical > Label::High);
    }
}
