//! The detection rules: one rule per file, the file stem is the rule id.
//!
//! A rule looks at one successful (or, for `iam-user-change-denied`, denied) CloudTrail IAM
//! record and says whether it is a finding, about what subject. Scoring is not the rule's
//! business ([`crate::score`]); neither is ending findings ([`crate::resolve`]).

use crate::policy::Policy;
use crate::record::CloudTrailRecord;

#[path = "access-key-created.rs"]
mod access_key_created;
#[path = "access-key-created-for-other-user.rs"]
mod access_key_created_for_other_user;
#[path = "access-key-reactivated.rs"]
mod access_key_reactivated;
#[path = "admin-access-granted-to-user.rs"]
pub mod admin_access_granted_to_user;
#[path = "console-password-changed-for-other-user.rs"]
mod console_password_changed_for_other_user;
#[path = "console-password-created.rs"]
mod console_password_created;
#[path = "iam-user-change-denied.rs"]
mod iam_user_change_denied;
#[path = "iam-user-created.rs"]
mod iam_user_created;
#[path = "mfa-device-deactivated.rs"]
mod mfa_device_deactivated;
#[path = "root-access-key-created.rs"]
mod root_access_key_created;
#[path = "user-permissions-changed.rs"]
mod user_permissions_changed;

/// What a rule is: its id, score and documentation, kept beside its logic.
#[derive(Debug, PartialEq, Eq)]
pub struct RuleMeta {
    /// Kebab-case id: file stem, sample event, runbook, GeneratorId `iamwatch/<id>`.
    pub id: &'static str,
    /// Short title; the finding's title is `<title>: <subject>`.
    pub title: &'static str,
    /// Base score before factors.
    pub base: u8,
    /// The CloudTrail event names the rule looks at.
    pub event_names: &'static [&'static str],
    /// ASFF `Types`.
    pub types: &'static [&'static str],
    /// What the finding means and why it matters (goes into the recommendation text).
    pub recommendation: &'static str,
    /// MITRE ATT&CK technique ids.
    pub attack: &'static [&'static str],
}

/// A rule's verdict on a record: a finding about `subject`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub rule: &'static RuleMeta,
    /// The part of the finding id after the rule id: user name, key id, user + grant...
    pub subject: String,
    /// The IAM user the finding is about (`root` for the root user), when there is one.
    pub user: Option<String>,
    /// The access key the finding is about.
    pub access_key_id: Option<String>,
    /// The grant: `policy:<arn>`, `inline:<name>` or `group:<name>`.
    pub grant: Option<String>,
    /// One sentence of what happened, without the actor: "created IAM user alice".
    pub summary: String,
}

/// A detection rule.
pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    /// The finding this record makes under this rule, if any.
    fn detect(&self, record: &CloudTrailRecord, policy: &Policy) -> Option<Detection>;
}

/// Every rule, in the order they are tried; for a record at most one fires.
pub static RULES: &[&dyn Rule] = &[
    &iam_user_created::Rule,
    &root_access_key_created::Rule,
    &access_key_created_for_other_user::Rule,
    &access_key_created::Rule,
    &console_password_created::Rule,
    &console_password_changed_for_other_user::Rule,
    &admin_access_granted_to_user::Rule,
    &user_permissions_changed::Rule,
    &mfa_device_deactivated::Rule,
    &access_key_reactivated::Rule,
    &iam_user_change_denied::Rule,
];

/// Every rule id.
pub const RULE_IDS: [&str; 11] = [
    "iam-user-created",
    "root-access-key-created",
    "access-key-created-for-other-user",
    "access-key-created",
    "console-password-created",
    "console-password-changed-for-other-user",
    "admin-access-granted-to-user",
    "user-permissions-changed",
    "mfa-device-deactivated",
    "access-key-reactivated",
    "iam-user-change-denied",
];

/// The calls that make findings (their denied attempts make `iam-user-change-denied`).
pub const FIRING_EVENT_NAMES: [&str; 10] = [
    "AddUserToGroup",
    "AttachUserPolicy",
    "CreateAccessKey",
    "CreateLoginProfile",
    "CreateUser",
    "DeactivateMFADevice",
    "DeleteVirtualMFADevice",
    "PutUserPolicy",
    "UpdateAccessKey",
    "UpdateLoginProfile",
];

/// Every CloudTrail event name iamwatch reads: the firing calls and the resolving ones, sorted.
/// The CDK app's EventBridge rules use exactly this list (`cdk/lib/event-names.json`).
pub fn in_scope_event_names() -> Vec<&'static str> {
    let mut v: Vec<&str> = FIRING_EVENT_NAMES
        .iter()
        .chain(crate::resolve::RESOLVING_EVENT_NAMES.iter())
        .copied()
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The rule with this id.
pub fn by_id(id: &str) -> Option<&'static RuleMeta> {
    RULES.iter().map(|r| r.meta()).find(|m| m.id == id)
}

/// The first rule that fires on this record.
pub fn detect(record: &CloudTrailRecord, policy: &Policy) -> Option<Detection> {
    RULES.iter().find_map(|r| r.detect(record, policy))
}

// Helpers shared by the rules.

/// The successful call of one of `names`.
pub(crate) fn succeeded(record: &CloudTrailRecord, names: &[&str]) -> bool {
    record.succeeded() && names.contains(&record.event_name.as_str())
}

/// The target user of a call that may omit `userName` (then it acts on the caller).
pub(crate) fn target_or_caller(record: &CloudTrailRecord) -> Option<String> {
    record
        .param("userName")
        .or_else(|| record.caller_iam_user())
        .map(str::to_string)
        .or_else(|| {
            (record.identity_type() == crate::record::IdentityType::Root).then(|| "root".into())
        })
}

/// The access key id CreateAccessKey returned (or the event id when a log redacts it).
pub(crate) fn created_key_id(record: &CloudTrailRecord) -> String {
    record
        .response("/accessKey/accessKeyId")
        .map(str::to_string)
        .or_else(|| {
            record
                .event_id
                .clone()
                .map(|id| format!("unknown-key-{id}"))
        })
        .unwrap_or_else(|| "unknown-key".to_string())
}

#[cfg(test)]
pub(crate) mod testing {
    use crate::record::CloudTrailRecord;
    use serde_json::{json, Value};

    /// A successful IAM call by the IAM user `alice` of account 111122223333.
    pub fn record(event_name: &str, params: Value) -> CloudTrailRecord {
        with_identity(
            event_name,
            params,
            json!({"type": "IAMUser", "userName": "alice", "accountId": "111122223333",
                   "arn": "arn:aws:iam::111122223333:user/alice", "principalId": "AIDAEXAMPLE"}),
        )
    }

    pub fn with_identity(event_name: &str, params: Value, identity: Value) -> CloudTrailRecord {
        serde_json::from_value(json!({
            "eventVersion": "1.09", "eventTime": "2026-11-01T10:00:00Z",
            "eventSource": "iam.amazonaws.com", "eventName": event_name,
            "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.10",
            "userIdentity": identity, "requestParameters": params,
            "responseElements": null, "eventID": "e-1", "recipientAccountId": "111122223333"
        }))
        .unwrap()
    }

    pub fn root(event_name: &str, params: Value) -> CloudTrailRecord {
        with_identity(
            event_name,
            params,
            json!({"type": "Root", "accountId": "111122223333",
                   "arn": "arn:aws:iam::111122223333:root", "principalId": "111122223333"}),
        )
    }

    pub fn role(event_name: &str, params: Value) -> CloudTrailRecord {
        with_identity(
            event_name,
            params,
            json!({"type": "AssumedRole", "accountId": "111122223333",
                   "arn": "arn:aws:sts::111122223333:assumed-role/deployer/s1",
                   "sessionContext": {"sessionIssuer": {"type": "Role",
                       "arn": "arn:aws:iam::111122223333:role/deployer"},
                       "attributes": {"mfaAuthenticated": "false"}}}),
        )
    }

    pub fn failed(mut r: CloudTrailRecord, code: &str) -> CloudTrailRecord {
        r.error_code = Some(code.to_string());
        r
    }

    pub fn with_response(mut r: CloudTrailRecord, resp: Value) -> CloudTrailRecord {
        r.response_elements = Some(resp);
        r
    }
}
