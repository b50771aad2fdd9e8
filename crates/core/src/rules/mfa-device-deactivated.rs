//! `mfa-device-deactivated`: an MFA device was deactivated or deleted, leaving a password or
//! key as the only factor.

use super::{
    stand_in, succeeded, target_or_caller, Context, Detection, Outcome, RuleMeta, Subject,
};
use crate::record::CloudTrailRecord;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "mfa-device-deactivated",
    title: "MFA device deactivated",
    base: 50,
    event_source: IAM,
    event_names: &["DeactivateMFADevice", "DeleteVirtualMFADevice"],
    outcome: Outcome::Success,
    resolved_by: &["DeleteUser"],
    types: &["TTPs/Defense Evasion/Modify Authentication Process"],
    recommendation: "Ask the user whether they replaced their MFA device; if not, \
        re-enrol MFA, reset the password and review the user's recent activity.",
    attack: &["T1556.006"],
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
        // A device the record does not name gets a stand-in unique to the event.
        let serial = match r.param("serialNumber") {
            Some(s) => s.to_string(),
            None => stand_in(r, "device")?,
        };
        // DeleteVirtualMFADevice names only the serial; the device is the caller's own then
        // (root's is `mfa/root-account-mfa-device`), as far as the event tells.
        let user = if serial.ends_with(":mfa/root-account-mfa-device") {
            Some("root".to_string())
        } else {
            target_or_caller(r)
        };
        let who = user.as_deref().unwrap_or("an unknown user");
        Some(Detection {
            rule: &META,
            summary: format!("removed MFA device {serial} of {who}"),
            subject: Subject::MfaDevice { serial, user },
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
    fn deactivate_and_delete() {
        let r = record(
            "DeactivateMFADevice",
            json!({"userName": "bob", "serialNumber": "arn:aws:iam::111122223333:mfa/bob"}),
        );
        let d = detect(&r, &Policy::default()).unwrap();
        assert_eq!(d.rule.id, "mfa-device-deactivated");
        assert_eq!(d.subject.key(), "bob/arn:aws:iam::111122223333:mfa/bob");
        let r = root(
            "DeleteVirtualMFADevice",
            json!({"serialNumber": "arn:aws:iam::111122223333:mfa/root-account-mfa-device"}),
        );
        let d = detect(&r, &Policy::default()).unwrap();
        assert_eq!(
            d.subject.key(),
            "root/arn:aws:iam::111122223333:mfa/root-account-mfa-device"
        );
        let r = record(
            "DeleteVirtualMFADevice",
            json!({"serialNumber": "arn:aws:iam::111122223333:mfa/alice"}),
        );
        let d = detect(&r, &Policy::default()).unwrap();
        assert_eq!(
            (d.subject.key().as_str(), d.subject.user()),
            ("alice/arn:aws:iam::111122223333:mfa/alice", Some("alice"))
        );
    }

    /// Two unrelated records that name no device never share a subject.
    #[test]
    fn unnamed_devices_get_a_subject_per_event() {
        let a = role("DeactivateMFADevice", json!(null));
        let mut b = a.clone();
        b.event_id = Some("e-2".into());
        let p = Policy::default();
        let (da, db) = (detect(&a, &p).unwrap(), detect(&b, &p).unwrap());
        assert_eq!(da.subject.key(), "unknown-user/unknown-device-e-1");
        assert_ne!(da.subject.key(), db.subject.key());
        b.event_id = None;
        assert!(detect(&b, &p).is_none(), "reported as unreadable instead");
    }
}
