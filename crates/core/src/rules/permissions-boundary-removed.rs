//! `permissions-boundary-removed`: the permissions boundary of a user or role was removed, so
//! the policies attached to it take full effect: whatever the boundary held back is granted.
//!
//! PutUserPermissionsBoundary / PutRolePermissionsBoundary (a boundary set again) end the
//! finding, as do DeleteUser and DeleteRole.

use super::{succeeded, Context, Detection, Outcome, RuleMeta, Subject};
use crate::record::CloudTrailRecord;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "permissions-boundary-removed",
    title: "Permissions boundary removed",
    base: 50,
    event_source: IAM,
    event_names: &[
        "DeleteUserPermissionsBoundary",
        "DeleteRolePermissionsBoundary",
    ],
    outcome: Outcome::Success,
    resolved_by: &[
        "PutUserPermissionsBoundary",
        "PutRolePermissionsBoundary",
        "DeleteUser",
        "DeleteRole",
    ],
    types: &[
        "TTPs/Privilege Escalation/Account Manipulation",
        "TTPs/Defense Evasion/Impair Defenses",
    ],
    recommendation: "Without its boundary, this user or role has every right its policies \
        grant. Unless a change request covers it, put the boundary back and check what the \
        principal did since.",
    attack: &["T1098", "T1562"],
};

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn detect(&self, r: &CloudTrailRecord, _: &Context) -> Option<Detection> {
        if !succeeded(r, META.event_names) {
            return None;
        }
        let unknown = |kind: &str| {
            format!(
                "unknown-{kind}-{}",
                r.event_id.as_deref().unwrap_or(&r.event_time)
            )
        };
        let (subject, what) = if r.event_name == "DeleteUserPermissionsBoundary" {
            let user = r
                .param("userName")
                .map(str::to_string)
                .unwrap_or_else(|| unknown("user"));
            let what = format!("IAM user {user}");
            (Subject::User(user), what)
        } else {
            let role = r
                .param("roleName")
                .map(str::to_string)
                .unwrap_or_else(|| unknown("role"));
            let what = format!("IAM role {role}");
            (Subject::Role(role), what)
        };
        Some(Detection {
            rule: &META,
            subject,
            summary: format!("removed the permissions boundary of {what}"),
            base_override: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{detect, testing::*};
    use crate::Policy;
    use serde_json::{json, Value};

    #[test]
    fn user_and_role_boundaries() {
        let p = Policy::default();
        let d = detect(
            &record("DeleteUserPermissionsBoundary", json!({"userName": "bob"})),
            &p,
        )
        .unwrap();
        assert_eq!(d.rule.id, "permissions-boundary-removed");
        assert_eq!(
            (d.subject.key(), d.subject.user()),
            ("bob".into(), Some("bob"))
        );
        let d = detect(
            &record("DeleteRolePermissionsBoundary", json!({"roleName": "ci"})),
            &p,
        )
        .unwrap();
        assert_eq!(
            (d.subject.key(), d.subject.role()),
            ("ci".into(), Some("ci"))
        );
        assert_eq!(d.summary, "removed the permissions boundary of IAM role ci");
        let d = detect(&record("DeleteRolePermissionsBoundary", Value::Null), &p).unwrap();
        assert_eq!(d.subject.key(), "unknown-role-e-1");
        assert!(detect(
            &failed(
                record("DeleteRolePermissionsBoundary", json!({"roleName": "ci"})),
                "NoSuchEntity"
            ),
            &p
        )
        .is_none());
    }
}
