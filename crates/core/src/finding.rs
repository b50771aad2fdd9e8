//! The AWS Security Finding Format (ASFF) model: the subset of fields iamwatch writes.
//!
//! Field names follow the ASFF JSON (and the Security Hub `BatchImportFindings` API), so a finding
//! serializes to exactly what Security Hub accepts. Length limits of the format are enforced where
//! findings are built ([`crate::build`]).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// ASFF schema version written on every finding.
pub const SCHEMA_VERSION: &str = "2018-10-08";
/// Maximum length of `Id`.
pub const MAX_ID: usize = 512;
/// Maximum length of `Title`.
pub const MAX_TITLE: usize = 256;
/// Maximum length of `Description`.
pub const MAX_DESCRIPTION: usize = 1024;
/// Maximum length of `Remediation.Recommendation.Text`.
pub const MAX_RECOMMENDATION_TEXT: usize = 512;

/// `RecordState` of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordState {
    /// The finding is current.
    Active,
    /// A later event ended it (the user, key or grant is gone or deactivated).
    Archived,
}

/// One ASFF finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Finding {
    pub schema_version: String,
    pub id: String,
    pub product_arn: String,
    pub generator_id: String,
    pub aws_account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_account_name: Option<String>,
    pub types: Vec<String>,
    pub first_observed_at: String,
    pub last_observed_at: String,
    pub created_at: String,
    pub updated_at: String,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub remediation: Remediation,
    pub product_fields: BTreeMap<String, String>,
    pub resources: Vec<Resource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    pub record_state: RecordState,
}

/// `Severity`: the label and the score it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Severity {
    pub label: crate::Label,
    /// The score, 0..100, as a string (ASFF's `Original`).
    pub original: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Remediation {
    pub recommendation: Recommendation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Recommendation {
    pub text: String,
    /// The runbook's URL; absent when no runbook base URL is set (the description then names
    /// the runbook's path in the project).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One affected resource: the IAM user, or the access key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    #[serde(rename = "Type")]
    pub kind: String,
    pub id: String,
    pub partition: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<ResourceDetails>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceDetails {
    #[serde(
        rename = "AwsIamUser",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub aws_iam_user: Option<AwsIamUserDetails>,
    #[serde(
        rename = "AwsIamAccessKey",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub aws_iam_access_key: Option<AwsIamAccessKeyDetails>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AwsIamUserDetails {
    pub user_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AwsIamAccessKeyDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

/// `Action`: the API call behind the finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Action {
    pub action_type: String,
    pub aws_api_call_action: AwsApiCallAction,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AwsApiCallAction {
    pub api: String,
    pub service_name: String,
    pub caller_type: String,
    pub first_seen: String,
    pub last_seen: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_ip_details: Option<RemoteIpDetails>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoteIpDetails {
    pub ip_address_v4: String,
}

/// A finding's identity: `iamwatch/<account>/<rule-id>/<subject>`, deterministic, so that a
/// redelivered event, a retry or a re-scan updates the same finding. Displayed, it is at most
/// [`MAX_ID`] characters: a longer subject is cut and a hash of the whole id keeps it unique
/// and deterministic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FindingId<'a> {
    pub account: &'a str,
    pub rule: &'a str,
    /// The subject's key ([`crate::subject::Subject::key`]).
    pub subject: &'a str,
}

impl<'a> FindingId<'a> {
    /// The parts of an id string (the subject of a cut id keeps its hash suffix).
    pub fn parse(id: &'a str) -> Option<FindingId<'a>> {
        let rest = id.strip_prefix("iamwatch/")?;
        let (account, rest) = rest.split_once('/')?;
        let (rule, subject) = rest.split_once('/')?;
        Some(FindingId {
            account,
            rule,
            subject,
        })
    }
}

impl std::fmt::Display for FindingId<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let id = format!("iamwatch/{}/{}/{}", self.account, self.rule, self.subject);
        if id.len() <= MAX_ID {
            return f.write_str(&id);
        }
        let hash = fnv1a(id.as_bytes());
        let mut cut = MAX_ID - 17;
        while !id.is_char_boundary(cut) {
            cut -= 1;
        }
        write!(f, "{}#{hash:016x}", &id[..cut])
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// ProductFields keys written on every finding (and read back by the pipeline).
pub mod fields {
    pub const RULE_ID: &str = "iamwatch/RuleId";
    pub const SCORE: &str = "iamwatch/Score";
    pub const FACTORS: &str = "iamwatch/Factors";
    pub const EVENT_ID: &str = "iamwatch/EventId";
    pub const EVENT_NAME: &str = "iamwatch/EventName";
    pub const ACTOR: &str = "iamwatch/Actor";
    pub const USER: &str = "iamwatch/User";
    pub const ACCESS_KEY_ID: &str = "iamwatch/AccessKeyId";
    pub const GRANT: &str = "iamwatch/Grant";
    /// The IAM role a finding is about (only on findings about a role).
    pub const ROLE: &str = "iamwatch/Role";
    /// The IAM group a finding is about (only on findings about a group).
    pub const GROUP: &str = "iamwatch/Group";
    /// The managed policy ARN a finding is about (only on findings about a policy).
    pub const POLICY: &str = "iamwatch/Policy";
    /// The identity provider ARN a finding is about (only on findings about a provider).
    pub const PROVIDER: &str = "iamwatch/Provider";
    pub const ACCOUNT_NAME: &str = "iamwatch/AccountName";
    pub const OU_PATH: &str = "iamwatch/OuPath";
    pub const ENRICHMENT: &str = "iamwatch/Enrichment";
    pub const FILED_IN: &str = "iamwatch/FiledIn";
    pub const RESOLVED_BY: &str = "iamwatch/ResolvedBy";
    /// On a finding re-filed after its user was renamed: the id it was filed under before.
    pub const RENAMED_FROM: &str = "iamwatch/RenamedFrom";
    /// On the archived finding of a renamed user: the id it was re-filed under.
    pub const REFILED_AS: &str = "iamwatch/RefiledAs";
}

impl Finding {
    /// The rule id of this finding, from its ProductFields.
    pub fn rule_id(&self) -> Option<&str> {
        self.product_fields.get(fields::RULE_ID).map(String::as_str)
    }

    /// The score (0..100) of this finding.
    pub fn score(&self) -> u8 {
        self.severity.original.parse().unwrap_or(0)
    }

    /// A product field by key.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.product_fields.get(key).map(String::as_str)
    }
}

/// `3 findings (1 critical, 2 high), 1 archived`: the findings part of a summary line.
pub fn count_phrase(findings: &[Finding]) -> String {
    let mut by_label = [0usize; 5];
    for f in findings {
        by_label[f.severity.label as usize] += 1;
    }
    let archived = findings
        .iter()
        .filter(|f| f.record_state == RecordState::Archived)
        .count();
    format!(
        "{}{}",
        label_count_phrase(&by_label),
        if archived > 0 {
            format!(", {archived} archived")
        } else {
            String::new()
        },
    )
}

/// `3 findings (1 critical, 2 high)`, from counts by label (indexed as [`crate::Label::ALL`]):
/// the findings part of a summary line where they are counted as they go.
pub fn label_count_phrase(by_label: &[usize; 5]) -> String {
    let total: usize = by_label.iter().sum();
    let parts: Vec<String> = crate::Label::ALL
        .iter()
        .rev()
        .filter(|l| by_label[**l as usize] > 0)
        .map(|l| format!("{} {}", by_label[*l as usize], l.as_str().to_lowercase()))
        .collect();
    format!(
        "{total} finding{}{}",
        if total == 1 { "" } else { "s" },
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        }
    )
}

/// Truncates `s` to at most `max` bytes on a character boundary, marking the cut with "...".
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::label_count_phrase;

    #[test]
    fn count_phrase_reads_as_scan_s() {
        assert_eq!(label_count_phrase(&[0; 5]), "0 findings");
        assert_eq!(label_count_phrase(&[0, 1, 0, 0, 0]), "1 finding (1 low)");
        assert_eq!(
            label_count_phrase(&[0, 1, 6, 1, 1]),
            "9 findings (1 critical, 1 high, 6 medium, 1 low)"
        );
    }
}
