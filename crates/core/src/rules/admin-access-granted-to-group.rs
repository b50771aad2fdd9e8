//! `admin-access-granted-to-group`: a group was given admin access: an admin managed policy
//! attached, or an inline policy allowing `*` or `iam:*` on `*` (the tests of
//! `admin-access-granted-to-user`). Every member, present and future, is admin.
//!
//! `admin_groups` names groups users join; it says nothing of a group's own policies, so it
//! plays no part here.

use super::{Context, Detection, Outcome, RuleMeta, Subject};
use crate::policy_document::{principal_grant, PrincipalKind};
use crate::record::CloudTrailRecord;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "admin-access-granted-to-group",
    title: "Admin access granted to IAM group",
    base: 70,
    event_source: IAM,
    event_names: &["AttachGroupPolicy", "PutGroupPolicy"],
    outcome: Outcome::Success,
    resolved_by: &["DetachGroupPolicy", "DeleteGroupPolicy", "DeleteGroup"],
    types: &[
        "TTPs/Privilege Escalation/Account Manipulation",
        "TTPs/Persistence/Account Manipulation",
    ],
    recommendation: "Every member of this group, and anyone later added to it, is now admin. \
        Unless a change request covers it, detach the policy, list the group's members and \
        check what they did since.",
    attack: &["T1098.003"],
};

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn detect(&self, r: &CloudTrailRecord, cx: &Context) -> Option<Detection> {
        let g =
            principal_grant(r, cx.policy).filter(|g| g.kind == PrincipalKind::Group && g.admin)?;
        Some(Detection {
            rule: &META,
            summary: crate::policy_document::with_note(
                format!(
                    "granted admin access to IAM group {} with {}",
                    g.name,
                    g.grant.describe()
                ),
                &g.unreadable,
            ),
            subject: Subject::GroupGrant {
                group: g.name,
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
        let r = record(
            "AttachGroupPolicy",
            json!({"groupName": "Ops", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        );
        let d = detect(&r, &p).unwrap();
        assert_eq!(d.rule.id, "admin-access-granted-to-group");
        assert_eq!(
            d.subject.key(),
            "Ops/policy:arn:aws:iam::aws:policy/AdministratorAccess"
        );
        assert_eq!(d.subject.group(), Some("Ops"));
        assert_eq!(d.subject.user(), None);
        let doc = r#"{"Statement":[{"Effect":"Allow","Action":["iam:*"],"Resource":"*"}]}"#;
        let r = record(
            "PutGroupPolicy",
            json!({"groupName": "Ops", "policyName": "all", "policyDocument": doc}),
        );
        assert_eq!(detect(&r, &p).unwrap().subject.key(), "Ops/inline:all");
    }

    #[test]
    fn non_admin_and_failed_grants_make_no_finding() {
        let p = Policy::default();
        let r = record(
            "AttachGroupPolicy",
            json!({"groupName": "Ops", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
        );
        assert!(detect(&r, &p).is_none());
        let doc = r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        let r = record(
            "PutGroupPolicy",
            json!({"groupName": "Ops", "policyName": "s3", "policyDocument": doc}),
        );
        assert!(detect(&r, &p).is_none());
        let r = failed(
            record(
                "AttachGroupPolicy",
                json!({"groupName": "Ops", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
            ),
            "NoSuchEntity",
        );
        assert!(detect(&r, &p).is_none());
        // admin_groups is about joining a group, not about the group's policies.
        let p = Policy::from_toml("admin_groups = [\"Ops\"]", "p.toml").unwrap();
        let r = record(
            "AttachGroupPolicy",
            json!({"groupName": "Ops", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
        );
        assert!(detect(&r, &p).is_none());
    }
}
