//! `mfa-device-deactivated`: an MFA device was deactivated or deleted, leaving a password or
//! key as the only factor.

use super::{succeeded, target_or_caller, Detection, RuleMeta};
use crate::policy::Policy;
use crate::record::CloudTrailRecord;

pub static META: RuleMeta = RuleMeta {
    id: "mfa-device-deactivated",
    title: "MFA device deactivated",
    base: 50,
    event_names: &["DeactivateMFADevice", "DeleteVirtualMFADevice"],
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

    fn detect(&self, r: &CloudTrailRecord, _: &Policy) -> Option<Detection> {
        if !succeeded(r, META.event_names) {
            return None;
        }
        let serial = r.param("serialNumber").unwrap_or("unknown-device");
        // DeleteVirtualMFADevice names only the serial; the device is the caller's own then
        // (root's is `mfa/root-account-mfa-device`), as far as the event tells.
        let user = if serial.ends_with(":mfa/root-account-mfa-device") {
            Some("root".to_string())
        } else {
            target_or_caller(r)
        };
        let who = user.clone().unwrap_or_else(|| "unknown-user".to_string());
        Some(Detection {
            rule: &META,
            subject: format!("{who}/{serial}"),
            summary: format!("removed MFA device {serial} of {who}"),
            user,
            access_key_id: None,
            grant: None,
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
        assert_eq!(d.subject, "bob/arn:aws:iam::111122223333:mfa/bob");
        let r = root(
            "DeleteVirtualMFADevice",
            json!({"serialNumber": "arn:aws:iam::111122223333:mfa/root-account-mfa-device"}),
        );
        let d = detect(&r, &Policy::default()).unwrap();
        assert_eq!(
            d.subject,
            "root/arn:aws:iam::111122223333:mfa/root-account-mfa-device"
        );
        let r = record(
            "DeleteVirtualMFADevice",
            json!({"serialNumber": "arn:aws:iam::111122223333:mfa/alice"}),
        );
        let d = detect(&r, &Policy::default()).unwrap();
        assert_eq!(
            (d.subject.as_str(), d.user.as_deref()),
            ("alice/arn:aws:iam::111122223333:mfa/alice", Some("alice"))
        );
    }
}
