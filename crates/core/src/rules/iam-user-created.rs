//! `iam-user-created`: a new IAM user, a new long-lived identity outside SSO.

use super::{stand_in, succeeded, Context, Detection, Outcome, RuleMeta, Subject};
use crate::record::CloudTrailRecord;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "iam-user-created",
    title: "IAM user created",
    base: 40,
    event_source: IAM,
    event_names: &["CreateUser"],
    outcome: Outcome::Success,
    resolved_by: &["DeleteUser"],
    types: &["TTPs/Persistence/Create Account"],
    recommendation: "Confirm who asked for this IAM user and why SSO does not serve; \
        if nobody did, deactivate its credentials and investigate the caller.",
    attack: &["T1136.003"],
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
        // No user anywhere (a malformed record): a stand-in unique to the event.
        let user = match r.param("userName").or_else(|| r.response("/user/userName")) {
            Some(u) => u.to_string(),
            None => stand_in(r, "user")?,
        };
        Some(Detection {
            rule: &META,
            summary: format!("created IAM user {user}"),
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
    fn fires_on_create_user() {
        let d = detect(
            &record("CreateUser", json!({"userName": "bob"})),
            &Policy::default(),
        )
        .unwrap();
        assert_eq!(d.rule.id, "iam-user-created");
        assert_eq!(d.subject.key(), "bob");
        assert_eq!(d.subject.user(), Some("bob"));
    }

    #[test]
    fn failed_call_is_not_this_rule() {
        let r = failed(
            record("CreateUser", json!({"userName": "bob"})),
            "EntityAlreadyExists",
        );
        assert!(detect(&r, &Policy::default()).is_none());
    }

    #[test]
    fn no_user_anywhere_is_still_a_finding() {
        let d = detect(&record("CreateUser", json!(null)), &Policy::default()).unwrap();
        assert_eq!(d.rule.id, "iam-user-created");
        assert_eq!(d.subject.key(), "unknown-user-e-1");
        let d = detect(
            &with_response(
                record("CreateUser", json!(null)),
                json!({"user": {"userName": "bob"}}),
            ),
            &Policy::default(),
        )
        .unwrap();
        assert_eq!(d.subject.key(), "bob", "the response names the user");
    }
}
