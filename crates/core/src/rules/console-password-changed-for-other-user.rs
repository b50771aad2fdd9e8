//! `console-password-changed-for-other-user`: someone set another user's console password.
//! Whoever did can now sign in as that user. A user changing their own password is routine
//! and no finding.

use super::{succeeded, Context, Detection, Outcome, RuleMeta, Subject};
use crate::record::CloudTrailRecord;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "console-password-changed-for-other-user",
    title: "Console password changed for another user",
    base: 60,
    event_source: IAM,
    event_names: &["UpdateLoginProfile"],
    outcome: Outcome::Success,
    resolved_by: &["DeleteLoginProfile", "DeleteUser"],
    types: &[
        "TTPs/Privilege Escalation/Account Manipulation",
        "TTPs/Persistence/Account Manipulation",
    ],
    recommendation: "Ask the user whether they asked for a reset; if not, reset the \
        password again with a forced change, check the user's recent sign-ins and revoke sessions.",
    attack: &["T1098"],
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
        let target = r.param("userName")?;
        // IAM user names are unique case-insensitively: "Alice" is alice.
        if r.caller_iam_user()
            .is_some_and(|c| c.eq_ignore_ascii_case(target))
        {
            return None;
        }
        Some(Detection {
            rule: &META,
            subject: Subject::User(target.to_string()),
            summary: format!("changed the console password of IAM user {target}"),
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
    fn other_user_fires() {
        let d = detect(
            &record("UpdateLoginProfile", json!({"userName": "bob"})),
            &Policy::default(),
        )
        .unwrap();
        assert_eq!(
            (d.rule.id, d.subject.key().as_str()),
            ("console-password-changed-for-other-user", "bob")
        );
    }

    #[test]
    fn own_password_change_is_no_finding() {
        assert!(detect(
            &record("UpdateLoginProfile", json!({"userName": "alice"})),
            &Policy::default()
        )
        .is_none());
        assert!(detect(&record("UpdateLoginProfile", json!({})), &Policy::default()).is_none());
    }
}
