//! `root-access-key-created`: the root user made itself an access key. Root keys can do
//! anything, cannot be limited by policy, and AWS says never to have one.

use super::{created_key_id, succeeded, Context, Detection, Outcome, RuleMeta, Subject};
use crate::record::{CloudTrailRecord, IdentityType};
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "root-access-key-created",
    title: "Root user access key created",
    base: 90,
    event_source: IAM,
    event_names: &["CreateAccessKey"],
    outcome: Outcome::Success,
    resolved_by: &["DeleteAccessKey", "UpdateAccessKey", "DeleteUser"],
    types: &[
        "TTPs/Persistence/Account Manipulation",
        "Software and Configuration Checks/AWS Security Best Practices",
    ],
    recommendation: "Deactivate the root access key now unless a documented break-glass \
        procedure created it; then rotate the root password and check root MFA.",
    attack: &["T1098.001"],
};

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn detect(&self, r: &CloudTrailRecord, _: &Context) -> Option<Detection> {
        if !succeeded(r, META.event_names)
            || r.identity_type() != IdentityType::Root
            || r.param("userName").is_some()
        {
            return None;
        }
        let key = created_key_id(r)?;
        Some(Detection {
            rule: &META,
            summary: format!("created access key {key} for the root user"),
            subject: Subject::AccessKey {
                id: key,
                user: Some("root".to_string()),
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
    fn root_without_user_name() {
        let r = with_response(
            root("CreateAccessKey", json!(null)),
            json!({"accessKey": {"accessKeyId": "AKIAROOT", "status": "Active"}}),
        );
        let d = detect(&r, &Policy::default()).unwrap();
        assert_eq!(d.rule.id, "root-access-key-created");
        assert_eq!(d.subject.key(), "AKIAROOT");
    }

    #[test]
    fn root_for_a_user_is_the_other_user_rule() {
        let r = root("CreateAccessKey", json!({"userName": "bob"}));
        assert_eq!(
            detect(&r, &Policy::default()).unwrap().rule.id,
            "access-key-created-for-other-user"
        );
    }
}
