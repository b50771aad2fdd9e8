//! `iam-user-created`: a new IAM user, a new long-lived identity outside SSO.

use super::{succeeded, Detection, RuleMeta};
use crate::policy::Policy;
use crate::record::CloudTrailRecord;

pub static META: RuleMeta = RuleMeta {
    id: "iam-user-created",
    title: "IAM user created",
    base: 40,
    event_names: &["CreateUser"],
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

    fn detect(&self, r: &CloudTrailRecord, _: &Policy) -> Option<Detection> {
        if !succeeded(r, META.event_names) {
            return None;
        }
        let user = r
            .param("userName")
            .or_else(|| r.response("/user/userName"))?;
        Some(Detection {
            rule: &META,
            subject: user.to_string(),
            user: Some(user.to_string()),
            access_key_id: None,
            grant: None,
            summary: format!("created IAM user {user}"),
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
        assert_eq!(d.subject, "bob");
        assert_eq!(d.user.as_deref(), Some("bob"));
    }

    #[test]
    fn failed_call_is_not_this_rule() {
        let r = failed(
            record("CreateUser", json!({"userName": "bob"})),
            "EntityAlreadyExists",
        );
        assert!(detect(&r, &Policy::default()).is_none());
    }
}
