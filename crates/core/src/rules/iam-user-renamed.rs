//! `iam-user-renamed`: an IAM user got a new name. Findings, tickets and people know the user
//! by its old name; a rename can hide it. The finding is filed under the old name, and every
//! active finding of the old name follows the user to the new one
//! ([`crate::resolve::rename`]), so a rename never hides a finding.

use super::{stand_in, succeeded, Context, Detection, Outcome, RuleMeta, Subject};
use crate::record::CloudTrailRecord;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "iam-user-renamed",
    title: "IAM user renamed",
    base: 30,
    event_source: IAM,
    event_names: &["UpdateUser"],
    outcome: Outcome::Success,
    // The finding's user follows the rename: DeleteUser of the new name ends it.
    resolved_by: &["DeleteUser"],
    types: &["TTPs/Defense Evasion/Masquerading"],
    recommendation: "Confirm who renamed the user and why; a rename can hide a user from \
        reviews keyed by name. Its findings now carry the new name.",
    attack: &["T1036", "T1098"],
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
        // UpdateUser that only moves the path is no rename.
        let new = r.param("newUserName")?;
        let old = match r.param("userName") {
            Some(u) if u == new => return None,
            Some(u) => u.to_string(),
            None => stand_in(r, "user")?,
        };
        Some(Detection {
            rule: &META,
            summary: format!("renamed IAM user {old} to {new}"),
            subject: Subject::User(old),
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
    fn fires_on_a_new_name_only() {
        let p = Policy::default();
        let r = record(
            "UpdateUser",
            json!({"userName": "bob", "newUserName": "robert"}),
        );
        let d = detect(&r, &p).unwrap();
        assert_eq!(d.rule.id, "iam-user-renamed");
        assert_eq!(
            (d.subject.key().as_str(), d.subject.user()),
            ("bob", Some("bob"))
        );
        assert_eq!(d.summary, "renamed IAM user bob to robert");
        for params in [
            json!({"userName": "bob", "newPath": "/ops/"}),
            json!({"userName": "bob", "newUserName": "bob"}),
        ] {
            assert!(
                detect(&record("UpdateUser", params.clone()), &p).is_none(),
                "{params}"
            );
        }
        let r = failed(
            record("UpdateUser", json!({"userName": "bob", "newUserName": "x"})),
            "EntityAlreadyExists",
        );
        assert!(detect(&r, &p).is_none());
        // No old name in the record: a stand-in unique to the event.
        let d = detect(&record("UpdateUser", json!({"newUserName": "x"})), &p).unwrap();
        assert_eq!(d.subject.key(), "unknown-user-e-1");
    }
}
