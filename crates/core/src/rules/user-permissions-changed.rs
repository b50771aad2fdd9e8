//! `user-permissions-changed`: any other permission grant to a user (a policy attached or put,
//! a group joined). Permissions belong on roles and groups managed as code, not on users.

use super::{Context, Detection, Outcome, RuleMeta, Subject};
use crate::policy_document::user_grant;
use crate::record::CloudTrailRecord;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "user-permissions-changed",
    title: "IAM user permissions changed",
    base: 20,
    event_source: IAM,
    event_names: &["AttachUserPolicy", "PutUserPolicy", "AddUserToGroup"],
    outcome: Outcome::Success,
    resolved_by: &[
        "DetachUserPolicy",
        "DeleteUserPolicy",
        "RemoveUserFromGroup",
        "DeleteUser",
    ],
    types: &["TTPs/Privilege Escalation/Account Manipulation"],
    recommendation: "Check the grant against the change that asked for it; prefer \
        permissions on groups or roles managed as code.",
    attack: &["T1098"],
};

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn detect(&self, r: &CloudTrailRecord, cx: &Context) -> Option<Detection> {
        let policy = cx.policy;
        let g = user_grant(r, policy).filter(|g| !g.admin)?;
        Some(Detection {
            rule: &META,
            summary: format!("granted IAM user {} {}", g.user, g.grant.describe()),
            subject: Subject::UserGrant {
                user: g.user,
                grant: g.grant,
            },
            base_override: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{detect, testing::*};
    use crate::Policy;
    use serde_json::json;

    #[test]
    fn non_admin_policy() {
        let r = record(
            "AttachUserPolicy",
            json!({"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
        );
        let d = detect(&r, &Policy::default()).unwrap();
        assert_eq!(d.rule.id, "user-permissions-changed");
        assert_eq!(
            d.subject.key(),
            "bob/policy:arn:aws:iam::aws:policy/ReadOnlyAccess"
        );
    }
}
