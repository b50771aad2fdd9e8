//! `access-key-created`: a caller made an access key for its own user. A new long-lived
//! credential, often pasted into a laptop or a CI system.

use super::{
    created_key_id, succeeded, target_or_caller, Context, Detection, Outcome, RuleMeta, Subject,
};
use crate::record::{CloudTrailRecord, IdentityType};
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "access-key-created",
    title: "Access key created",
    base: 30,
    event_source: IAM,
    event_names: &["CreateAccessKey"],
    outcome: Outcome::Success,
    resolved_by: &["DeleteAccessKey", "UpdateAccessKey", "DeleteUser"],
    types: &["TTPs/Persistence/Account Manipulation"],
    recommendation: "Check that the user needs a long-lived key (a role or SSO usually \
        serves), that the user has at most one active key, and that it is stored safely.",
    attack: &["T1098.001"],
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
        let own = match r.param("userName") {
            None => r.identity_type() != IdentityType::Root,
            Some(name) => r
                .caller_iam_user()
                .is_some_and(|c| c.eq_ignore_ascii_case(name)),
        };
        if !own {
            return None;
        }
        let key = created_key_id(r)?;
        let user = target_or_caller(r);
        Some(Detection {
            rule: &META,
            summary: match &user {
                Some(u) => format!("created access key {key} for its own user {u}"),
                None => format!("created access key {key} for its own identity"),
            },
            subject: Subject::AccessKey { id: key, user },
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
    fn own_key_without_user_name() {
        let r = with_response(
            record("CreateAccessKey", json!(null)),
            json!({"accessKey": {"accessKeyId": "AKIAALICE"}}),
        );
        let d = detect(&r, &Policy::default()).unwrap();
        assert_eq!(d.rule.id, "access-key-created");
        assert_eq!(
            (d.subject.key().as_str(), d.subject.user()),
            ("AKIAALICE", Some("alice"))
        );
    }

    #[test]
    fn key_id_missing_falls_back_to_event_id() {
        let d = detect(&record("CreateAccessKey", json!({})), &Policy::default()).unwrap();
        assert_eq!(d.subject.key(), "unknown-key-e-1");
        let mut r = record("CreateAccessKey", json!({}));
        r.event_id = Some("e-2".into());
        assert_eq!(
            detect(&r, &Policy::default()).unwrap().subject.key(),
            "unknown-key-e-2",
            "no shared unknown-key subject"
        );
        r.event_id = None;
        assert!(detect(&r, &Policy::default()).is_none());
    }
}
