//! `access-key-reactivated`: an inactive access key was made active again: often undoing a
//! containment step, or reviving a forgotten key.

use super::{succeeded, target_or_caller, Context, Detection, Outcome, RuleMeta, Subject};
use crate::record::CloudTrailRecord;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "access-key-reactivated",
    title: "Access key reactivated",
    base: 40,
    event_source: IAM,
    event_names: &["UpdateAccessKey"],
    outcome: Outcome::Success,
    resolved_by: &["DeleteAccessKey", "UpdateAccessKey", "DeleteUser"],
    types: &["TTPs/Persistence/Account Manipulation"],
    recommendation: "Find out why the key was inactive and who revived it; if it was \
        deactivated during an incident, deactivate it again and escalate.",
    attack: &["T1098.001"],
};

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn detect(&self, r: &CloudTrailRecord, _: &Context) -> Option<Detection> {
        if !succeeded(r, META.event_names) || r.param("status") != Some("Active") {
            return None;
        }
        let key = match r.param("accessKeyId") {
            Some(k) => k.to_string(),
            None => super::stand_in(r, "key")?,
        };
        let user = target_or_caller(r);
        Some(Detection {
            rule: &META,
            summary: format!(
                "reactivated access key {key} of {}",
                user.as_deref().unwrap_or("unknown user")
            ),
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
    fn active_fires_inactive_does_not() {
        let p = Policy::default();
        let on = record(
            "UpdateAccessKey",
            json!({"userName": "bob", "accessKeyId": "AKIA1", "status": "Active"}),
        );
        assert_eq!(detect(&on, &p).unwrap().rule.id, "access-key-reactivated");
        let off = record(
            "UpdateAccessKey",
            json!({"userName": "bob", "accessKeyId": "AKIA1", "status": "Inactive"}),
        );
        assert!(detect(&off, &p).is_none());
    }
}
