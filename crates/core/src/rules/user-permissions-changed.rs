//! `user-permissions-changed`: any other permission grant to a user (a policy attached or put,
//! a group joined). Permissions belong on roles and groups managed as code, not on users.

use super::admin_access_granted_to_user::grant;
use super::{Detection, RuleMeta};
use crate::policy::Policy;
use crate::record::CloudTrailRecord;

pub static META: RuleMeta = RuleMeta {
    id: "user-permissions-changed",
    title: "IAM user permissions changed",
    base: 20,
    event_names: &["AttachUserPolicy", "PutUserPolicy", "AddUserToGroup"],
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

    fn detect(&self, r: &CloudTrailRecord, policy: &Policy) -> Option<Detection> {
        let g = grant(r, policy).filter(|g| !g.admin)?;
        Some(Detection {
            rule: &META,
            subject: format!("{}/{}", g.user, g.grant),
            summary: format!("granted IAM user {} {}", g.user, g.what),
            user: Some(g.user),
            access_key_id: None,
            grant: Some(g.grant),
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
            d.subject,
            "bob/policy:arn:aws:iam::aws:policy/ReadOnlyAccess"
        );
    }
}
