//! `admin-access-granted-to-role`: a role was given admin access: an admin managed policy
//! attached, or an inline policy allowing `*` or `iam:*` on `*` (the tests of
//! `admin-access-granted-to-user`). Whoever may assume the role is now admin.
//!
//! `admin_groups` names groups users join and plays no part for roles.

use super::{Context, Detection, Outcome, RuleMeta, Subject};
use crate::policy_document::{principal_grant, PrincipalKind};
use crate::record::CloudTrailRecord;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "admin-access-granted-to-role",
    title: "Admin access granted to IAM role",
    base: 50,
    event_source: IAM,
    event_names: &["AttachRolePolicy", "PutRolePolicy"],
    outcome: Outcome::Success,
    resolved_by: &["DetachRolePolicy", "DeleteRolePolicy", "DeleteRole"],
    types: &[
        "TTPs/Privilege Escalation/Account Manipulation",
        "TTPs/Persistence/Account Manipulation",
    ],
    recommendation: "Whoever may assume this role is now admin. Check the role's trust policy \
        and the change that asked for the grant; if none did, detach the policy and revoke \
        the role's active sessions.",
    attack: &["T1098.003"],
};

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn detect(&self, r: &CloudTrailRecord, cx: &Context) -> Option<Detection> {
        let g =
            principal_grant(r, cx.policy).filter(|g| g.kind == PrincipalKind::Role && g.admin)?;
        Some(Detection {
            rule: &META,
            summary: crate::policy_document::with_note(
                format!(
                    "granted admin access to IAM role {} with {}",
                    g.name,
                    g.grant.describe()
                ),
                &g.unreadable,
            ),
            subject: Subject::RoleGrant {
                role: g.name,
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
    fn admin_managed_and_inline_policies() {
        let p = Policy::default();
        let r = role(
            "AttachRolePolicy",
            json!({"roleName": "ci", "policyArn": "arn:aws:iam::aws:policy/IAMFullAccess"}),
        );
        let d = detect(&r, &p).unwrap();
        assert_eq!(d.rule.id, "admin-access-granted-to-role");
        assert_eq!(
            d.subject.key(),
            "ci/policy:arn:aws:iam::aws:policy/IAMFullAccess"
        );
        assert_eq!(d.subject.role(), Some("ci"));
        // URL-encoded inline document.
        let doc = "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%7D";
        let r = record(
            "PutRolePolicy",
            json!({"roleName": "ci", "policyName": "all", "policyDocument": doc}),
        );
        assert_eq!(detect(&r, &p).unwrap().subject.key(), "ci/inline:all");
    }

    #[test]
    fn non_admin_grants_make_no_finding() {
        let p = Policy::default();
        let r = record(
            "AttachRolePolicy",
            json!({"roleName": "ci", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
        );
        assert!(detect(&r, &p).is_none());
        let p = Policy::from_toml(
            "admin_policies = [\"arn:aws:iam::111122223333:policy/break-glass\"]",
            "p.toml",
        )
        .unwrap();
        let r = record(
            "AttachRolePolicy",
            json!({"roleName": "ci", "policyArn": "arn:aws:iam::111122223333:policy/break-glass"}),
        );
        assert_eq!(
            detect(&r, &p).unwrap().rule.id,
            "admin-access-granted-to-role",
            "admin_policies applies to roles"
        );
    }
}
