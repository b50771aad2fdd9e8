//! `console-password-created`: a user got a console password (a login profile): a second way
//! in besides SSO, and a password that can be phished.

use super::{
    stand_in, succeeded, target_or_caller, Context, Detection, Outcome, RuleMeta, Subject,
};
use crate::record::CloudTrailRecord;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "console-password-created",
    title: "Console password created",
    base: 40,
    event_source: IAM,
    event_names: &["CreateLoginProfile"],
    outcome: Outcome::Success,
    resolved_by: &["DeleteLoginProfile", "DeleteUser"],
    types: &["TTPs/Persistence/Account Manipulation"],
    recommendation: "Confirm the user needs console access outside SSO; require MFA, or \
        delete the login profile.",
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
        let user = match target_or_caller(r) {
            Some(u) => u,
            None => stand_in(r, "user")?,
        };
        Some(Detection {
            rule: &META,
            summary: format!("created a console password for IAM user {user}"),
            subject: Subject::User(user),
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
    fn fires() {
        let d = detect(
            &record("CreateLoginProfile", json!({"userName": "bob"})),
            &Policy::default(),
        )
        .unwrap();
        assert_eq!(
            (d.rule.id, d.subject.key().as_str()),
            ("console-password-created", "bob")
        );
    }
}
