//! Resolving events: calls that end earlier findings (the user deleted, the key deactivated,
//! the grant removed). They file no finding; the findings they end are archived.

use crate::finding::{fields, Finding, RecordState};
use crate::record::CloudTrailRecord;
use crate::time;

/// The calls that end findings.
pub const RESOLVING_EVENT_NAMES: [&str; 7] = [
    "DeleteAccessKey",
    "DeleteLoginProfile",
    "DeleteUser",
    "DeleteUserPolicy",
    "DetachUserPolicy",
    "RemoveUserFromGroup",
    "UpdateAccessKey",
];

/// What a resolving event ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ends {
    /// Every finding about this user (DeleteUser).
    User(String),
    /// The findings about this access key (DeleteAccessKey, UpdateAccessKey Inactive).
    AccessKey(String),
    /// The console-password findings of this user (DeleteLoginProfile).
    ConsolePassword(String),
    /// The admin-access / permissions finding of this grant (DetachUserPolicy,
    /// DeleteUserPolicy, RemoveUserFromGroup).
    Grant { user: String, grant: String },
}

/// A resolving event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub account: String,
    pub event_name: String,
    pub event_id: Option<String>,
    pub event_time: String,
    pub ends: Ends,
}

/// The resolution a successful record makes, if it is a resolving event.
pub fn resolution(r: &CloudTrailRecord) -> Option<Resolution> {
    if !r.succeeded() {
        return None;
    }
    let user = || {
        r.param("userName")
            .or_else(|| r.caller_iam_user())
            .map(str::to_string)
    };
    let ends = match r.event_name.as_str() {
        "DeleteUser" => Ends::User(r.param("userName")?.to_string()),
        "DeleteAccessKey" => Ends::AccessKey(r.param("accessKeyId")?.to_string()),
        "UpdateAccessKey" if r.param("status") == Some("Inactive") => {
            Ends::AccessKey(r.param("accessKeyId")?.to_string())
        }
        "DeleteLoginProfile" => Ends::ConsolePassword(user()?),
        "DetachUserPolicy" => Ends::Grant {
            user: r.param("userName")?.to_string(),
            grant: format!("policy:{}", r.param("policyArn")?),
        },
        "DeleteUserPolicy" => Ends::Grant {
            user: r.param("userName")?.to_string(),
            grant: format!("inline:{}", r.param("policyName")?),
        },
        "RemoveUserFromGroup" => Ends::Grant {
            user: r.param("userName")?.to_string(),
            grant: format!("group:{}", r.param("groupName")?),
        },
        _ => return None,
    };
    Some(Resolution {
        account: r.account_id().to_string(),
        event_name: r.event_name.clone(),
        event_id: r.event_id.clone(),
        event_time: r.event_time.clone(),
        ends,
    })
}

impl Resolution {
    /// Whether this resolution ends `f` (an active finding of the same account).
    pub fn ends(&self, f: &Finding) -> bool {
        if f.record_state != RecordState::Active
            || !f
                .id
                .strip_prefix("iamwatch/")
                .and_then(|rest| rest.strip_prefix(self.account.as_str()))
                .is_some_and(|rest| rest.starts_with('/'))
        {
            return false;
        }
        // IAM user names are unique case-insensitively.
        let same_user = |u: &str| {
            f.field(fields::USER)
                .is_some_and(|v| v.eq_ignore_ascii_case(u))
        };
        let rule = f.rule_id().unwrap_or("");
        match &self.ends {
            Ends::User(u) => same_user(u),
            Ends::AccessKey(k) => f.field(fields::ACCESS_KEY_ID) == Some(k),
            Ends::ConsolePassword(u) => {
                same_user(u)
                    && matches!(
                        rule,
                        "console-password-created" | "console-password-changed-for-other-user"
                    )
            }
            Ends::Grant { user: u, grant } => {
                same_user(u)
                    && f.field(fields::GRANT) == Some(grant)
                    && matches!(
                        rule,
                        "admin-access-granted-to-user" | "user-permissions-changed"
                    )
            }
        }
    }

    /// `f` archived by this resolution. Its `UpdatedAt` moves past the current one, since
    /// Security Hub takes an update only with a newer `UpdatedAt`.
    pub fn archive(&self, f: &Finding) -> Finding {
        let mut out = f.clone();
        out.record_state = RecordState::Archived;
        out.updated_at = time::later_than(&self.event_time, &f.updated_at);
        out.product_fields.insert(
            fields::RESOLVED_BY.to_string(),
            format!(
                "{} {}",
                self.event_name,
                self.event_id.as_deref().unwrap_or("(no event id)")
            ),
        );
        out
    }
}
