//! `admin-access-granted-to-user`: a user was given admin access: an admin managed policy
//! attached, an inline policy allowing `*` or `iam:*` on `*`, or membership of an admin group.

use super::{Context, Detection, Outcome, RuleMeta, Subject};
use crate::policy_document::user_grant;
use crate::record::CloudTrailRecord;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "admin-access-granted-to-user",
    title: "Admin access granted to IAM user",
    base: 80,
    event_source: IAM,
    event_names: &["AttachUserPolicy", "PutUserPolicy", "AddUserToGroup"],
    outcome: Outcome::Success,
    resolved_by: &[
        "DetachUserPolicy",
        "DeleteUserPolicy",
        "RemoveUserFromGroup",
        "DeleteUser",
    ],
    types: &[
        "TTPs/Privilege Escalation/Account Manipulation",
        "TTPs/Persistence/Account Manipulation",
    ],
    recommendation: "Admin rights on a long-lived IAM user are rarely justified; unless a \
        change request covers it, detach the policy (or remove the group) and deactivate the \
        user's keys while you investigate.",
    attack: &["T1098.003"],
};

/// A permission change on a user: who, and what was granted.
pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn detect(&self, r: &CloudTrailRecord, cx: &Context) -> Option<Detection> {
        let policy = cx.policy;
        let g = user_grant(r, policy).filter(|g| g.admin)?;
        Some(Detection {
            rule: &META,
            summary: crate::policy_document::with_note(
                format!(
                    "granted admin access to IAM user {} with {}",
                    g.user,
                    g.grant.describe()
                ),
                &g.unreadable,
            ),
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
    fn admin_managed_policy() {
        let r = record(
            "AttachUserPolicy",
            json!({"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        );
        let d = detect(&r, &Policy::default()).unwrap();
        assert_eq!(d.rule.id, "admin-access-granted-to-user");
        assert_eq!(
            d.subject.key(),
            "bob/policy:arn:aws:iam::aws:policy/AdministratorAccess"
        );
        assert_eq!(
            d.subject.grant().map(|g| g.to_string()).as_deref(),
            Some("policy:arn:aws:iam::aws:policy/AdministratorAccess")
        );
    }

    #[test]
    fn inline_admin_and_group() {
        let doc = r#"{"Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#;
        let r = record(
            "PutUserPolicy",
            json!({"userName": "bob", "policyName": "p", "policyDocument": doc}),
        );
        assert_eq!(
            detect(&r, &Policy::default()).unwrap().subject.key(),
            "bob/inline:p"
        );
        let policy = Policy::from_toml("admin_groups = [\"Admins\"]", "p.toml").unwrap();
        let r = record(
            "AddUserToGroup",
            json!({"userName": "bob", "groupName": "Admins"}),
        );
        assert_eq!(
            detect(&r, &policy).unwrap().rule.id,
            "admin-access-granted-to-user"
        );
        assert_eq!(
            detect(&r, &Policy::default()).unwrap().rule.id,
            "user-permissions-changed"
        );
    }
}
