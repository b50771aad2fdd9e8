//! The finding event the detect function publishes to EventBridge (source `iamwatch`,
//! detail-type `IAM Watch Finding`), which the ticket function consumes. The schema is written
//! down in `docs/contracts.md`.

use crate::finding::{fields, Finding, RecordState};
use crate::Label;
use serde::{Deserialize, Serialize};

/// EventBridge `source` of finding events.
pub const FINDING_EVENT_SOURCE: &str = "iamwatch";
/// EventBridge `detail-type` of finding events.
pub const FINDING_EVENT_DETAIL_TYPE: &str = "IAM Watch Finding";

/// The `detail` of a finding event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingEvent {
    pub finding_id: String,
    pub rule_id: String,
    pub label: Label,
    pub score: u8,
    pub record_state: RecordState,
    pub account_id: String,
    pub account_name: Option<String>,
    #[serde(default)]
    pub ou_path: Vec<String>,
    pub actor: String,
    pub target: Option<String>,
    pub runbook_url: String,
    pub finding: Finding,
}

impl FindingEvent {
    /// The event of a finding. The account is the event's, taken from the finding id, so a
    /// finding filed in the security account as a fallback still names its own account.
    pub fn from_finding(f: &Finding) -> FindingEvent {
        let account_id =
            f.id.strip_prefix("iamwatch/")
                .and_then(|rest| rest.split('/').next())
                .unwrap_or(&f.aws_account_id)
                .to_string();
        FindingEvent {
            finding_id: f.id.clone(),
            rule_id: f.rule_id().unwrap_or_default().to_string(),
            label: f.severity.label,
            score: f.score(),
            record_state: f.record_state,
            account_id,
            account_name: f.field(fields::ACCOUNT_NAME).map(str::to_string),
            ou_path: f
                .field(fields::OU_PATH)
                .map(|p| p.split('/').map(str::to_string).collect())
                .unwrap_or_default(),
            actor: f.field(fields::ACTOR).unwrap_or_default().to_string(),
            target: f
                .field(fields::ACCESS_KEY_ID)
                .or(f.field(fields::USER))
                .map(str::to_string),
            runbook_url: f.remediation.recommendation.url.clone().unwrap_or_default(),
            finding: f.clone(),
        }
    }
}
