//! Resolving events: calls that end earlier findings (the user deleted, the key deactivated,
//! the grant removed). They file no finding; the findings they end are archived.
//!
//! Which findings a call can end is declared by each rule ([`crate::rules::RuleMeta::resolved_by`]);
//! this module reads what the call is about ([`Ends`]) and matches it against a finding's parts.

use crate::finding::{fields, Finding, FindingId, RecordState};
use crate::record::CloudTrailRecord;
use crate::time;

/// What a resolving event ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ends {
    /// Every finding about this user (DeleteUser).
    User(String),
    /// The findings about this access key (DeleteAccessKey, UpdateAccessKey Inactive).
    AccessKey(String),
    /// The findings about this user's console password (DeleteLoginProfile).
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
    /// Whether this resolution ends `f`: an active finding of the same account, of a rule that
    /// declares this call in its `resolved_by`, about the same user, key or grant.
    pub fn ends(&self, f: &Finding) -> bool {
        if f.record_state != RecordState::Active {
            return false;
        }
        let Some(id) = FindingId::parse(&f.id) else {
            return false;
        };
        if id.account != self.account
            || !crate::rules::by_id(id.rule)
                .is_some_and(|m| m.resolved_by.contains(&self.event_name.as_str()))
        {
            return false;
        }
        // IAM user names are unique case-insensitively.
        let same_user = |u: &str| {
            f.field(fields::USER)
                .is_some_and(|v| v.eq_ignore_ascii_case(u))
        };
        match &self.ends {
            Ends::User(u) | Ends::ConsolePassword(u) => same_user(u),
            Ends::AccessKey(k) => f.field(fields::ACCESS_KEY_ID) == Some(k),
            Ends::Grant { user: u, grant } => same_user(u) && f.field(fields::GRANT) == Some(grant),
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

#[cfg(test)]
mod tests {
    use super::resolution;
    use crate::rules::testing::record;
    use serde_json::json;

    /// Every call a rule declares in `resolved_by` is read as a resolution here, and no other.
    #[test]
    fn every_declared_resolving_call_resolves() {
        let params = json!({"userName": "bob", "accessKeyId": "AKIA1", "status": "Inactive",
                            "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
                            "policyName": "p", "groupName": "g"});
        for name in crate::rules::resolving_event_names() {
            assert!(
                resolution(&record(name, params.clone())).is_some(),
                "{name} is declared by a rule but not read"
            );
        }
        for name in crate::rules::firing_event_names() {
            if !crate::rules::resolving_event_names().contains(name) {
                assert!(
                    resolution(&record(name, params.clone())).is_none(),
                    "{name}"
                );
            }
        }
    }
}
