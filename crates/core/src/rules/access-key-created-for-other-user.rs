//! `access-key-created-for-other-user`: a caller made an access key for another user. The
//! classic backdoor: whoever holds the new key acts as that user.

use super::{created_key_id, succeeded, Context, Detection, Outcome, RuleMeta, Subject};
use crate::record::CloudTrailRecord;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "access-key-created-for-other-user",
    title: "Access key created for another user",
    base: 70,
    event_source: IAM,
    event_names: &["CreateAccessKey"],
    outcome: Outcome::Success,
    resolved_by: &["DeleteAccessKey", "UpdateAccessKey", "DeleteUser"],
    types: &[
        "TTPs/Persistence/Account Manipulation",
        "TTPs/Privilege Escalation/Account Manipulation",
    ],
    recommendation: "Ask the caller why they made a key for another user; unless a known \
        automation did, deactivate the key and review what it was used for.",
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
        let target = r.param("userName")?;
        // IAM user names are unique case-insensitively: "Alice" is alice.
        if r.caller_iam_user()
            .is_some_and(|c| c.eq_ignore_ascii_case(target))
        {
            return None;
        }
        let key = created_key_id(r)?;
        Some(Detection {
            rule: &META,
            summary: format!("created access key {key} for IAM user {target}"),
            subject: Subject::AccessKey {
                id: key,
                user: Some(target.to_string()),
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
    fn user_creates_key_for_another() {
        let r = with_response(
            record("CreateAccessKey", json!({"userName": "bob"})),
            json!({"accessKey": {"accessKeyId": "AKIABOB", "userName": "bob"}}),
        );
        let d = detect(&r, &Policy::default()).unwrap();
        assert_eq!(d.rule.id, "access-key-created-for-other-user");
        assert_eq!(
            (d.subject.key().as_str(), d.subject.user()),
            ("AKIABOB", Some("bob"))
        );
    }

    #[test]
    fn role_with_user_name_is_other_user() {
        let r = role("CreateAccessKey", json!({"userName": "bob"}));
        assert_eq!(
            detect(&r, &Policy::default()).unwrap().rule.id,
            "access-key-created-for-other-user"
        );
    }

    #[test]
    fn own_user_name_is_own_key() {
        let r = record("CreateAccessKey", json!({"userName": "alice"}));
        assert_eq!(
            detect(&r, &Policy::default()).unwrap().rule.id,
            "access-key-created"
        );
        // IAM user names are case-insensitive.
        let r = record("CreateAccessKey", json!({"userName": "Alice"}));
        assert_eq!(
            detect(&r, &Policy::default()).unwrap().rule.id,
            "access-key-created"
        );
    }
}
