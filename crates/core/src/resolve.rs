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
    /// Every finding about this role (DeleteRole), or those of the rules that declare the call
    /// (PutRolePermissionsBoundary ends `permissions-boundary-removed`).
    Role(String),
    /// The finding of this grant to a role (DetachRolePolicy, DeleteRolePolicy).
    RoleGrant { role: String, grant: String },
    /// Every finding about this group (DeleteGroup).
    Group(String),
    /// The finding of this grant to a group (DetachGroupPolicy, DeleteGroupPolicy).
    GroupGrant { group: String, grant: String },
    /// The findings about this identity provider (DeleteSAMLProvider,
    /// DeleteOpenIDConnectProvider).
    Provider(String),
    /// The findings about this managed policy (DeletePolicy).
    Policy(String),
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
        // The boundary is back: ends `permissions-boundary-removed` of that user.
        "PutUserPermissionsBoundary" => Ends::User(r.param("userName")?.to_string()),
        "DeleteRole" | "PutRolePermissionsBoundary" => Ends::Role(r.param("roleName")?.to_string()),
        "DetachRolePolicy" => Ends::RoleGrant {
            role: r.param("roleName")?.to_string(),
            grant: format!("policy:{}", r.param("policyArn")?),
        },
        "DeleteRolePolicy" => Ends::RoleGrant {
            role: r.param("roleName")?.to_string(),
            grant: format!("inline:{}", r.param("policyName")?),
        },
        "DeleteGroup" => Ends::Group(r.param("groupName")?.to_string()),
        "DetachGroupPolicy" => Ends::GroupGrant {
            group: r.param("groupName")?.to_string(),
            grant: format!("policy:{}", r.param("policyArn")?),
        },
        "DeleteGroupPolicy" => Ends::GroupGrant {
            group: r.param("groupName")?.to_string(),
            grant: format!("inline:{}", r.param("policyName")?),
        },
        "DeleteSAMLProvider" => Ends::Provider(r.param("sAMLProviderArn")?.to_string()),
        "DeleteOpenIDConnectProvider" => {
            Ends::Provider(r.param("openIDConnectProviderArn")?.to_string())
        }
        "DeletePolicy" => Ends::Policy(r.param("policyArn")?.to_string()),
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
        // IAM user, role and group names are unique case-insensitively.
        let same =
            |field: &str, name: &str| f.field(field).is_some_and(|v| v.eq_ignore_ascii_case(name));
        let same_grant = |grant: &str| f.field(fields::GRANT) == Some(grant);
        match &self.ends {
            Ends::User(u) | Ends::ConsolePassword(u) => same(fields::USER, u),
            Ends::AccessKey(k) => f.field(fields::ACCESS_KEY_ID) == Some(k),
            Ends::Grant { user: u, grant } => same(fields::USER, u) && same_grant(grant),
            Ends::Role(role) => same(fields::ROLE, role),
            Ends::RoleGrant { role, grant } => same(fields::ROLE, role) && same_grant(grant),
            Ends::Group(group) => same(fields::GROUP, group),
            Ends::GroupGrant { group, grant } => same(fields::GROUP, group) && same_grant(grant),
            Ends::Provider(arn) => f.field(fields::PROVIDER) == Some(arn),
            Ends::Policy(arn) => f.field(fields::POLICY) == Some(arn),
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
                            "policyName": "p", "groupName": "g", "roleName": "r",
                            "sAMLProviderArn": "arn:aws:iam::111122223333:saml-provider/s",
                            "openIDConnectProviderArn":
                                "arn:aws:iam::111122223333:oidc-provider/o",
                            "permissionsBoundary": "arn:aws:iam::aws:policy/PowerUserAccess",
                            "policyDocument": "{}", "assumeRolePolicyDocument": "{}"});
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
