//! `root-console-login`: someone signed in to the console as the root user. Root can do
//! anything, including what no policy can stop; daily work never needs it.

use super::{Context, Detection, Outcome, RuleMeta, Subject};
use crate::record::{CloudTrailRecord, IdentityType};
use crate::sources::SIGNIN;

pub static META: RuleMeta = RuleMeta {
    id: "root-console-login",
    title: "Root user signed in to the console",
    base: 70,
    event_source: SIGNIN,
    event_names: &["ConsoleLogin"],
    outcome: Outcome::Success,
    // A sign-in is over once it happened: nothing ends it but a person closing the finding.
    resolved_by: &[],
    types: &[
        "TTPs/Initial Access/Valid Accounts",
        "Unusual Behaviors/User",
    ],
    recommendation: "Find out who signed in as root and why; the few tasks that need root \
        should be planned. If nobody did, reset the root password, check its MFA and review \
        what the session did.",
    attack: &["T1078.004"],
};

/// Whether a `ConsoleLogin` record is a successful sign-in: `responseElements.ConsoleLogin`
/// is "Success" (a failed one says "Failure"; CloudTrail sets no `errorCode` on it).
pub(crate) fn signed_in(r: &CloudTrailRecord) -> bool {
    r.event_source == SIGNIN
        && r.event_name == "ConsoleLogin"
        && r.succeeded()
        && r.response("/ConsoleLogin") == Some("Success")
}

/// The sign-in's UTC date: one finding per user and day.
pub(crate) fn sign_in_day(r: &CloudTrailRecord) -> String {
    crate::time::utc_date(&r.event_time).unwrap_or_else(|| r.event_time.clone())
}

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn detect(&self, r: &CloudTrailRecord, _: &Context) -> Option<Detection> {
        if !signed_in(r) || r.identity_type() != IdentityType::Root {
            return None;
        }
        let mfa = match r.additional("MFAUsed") {
            Some("Yes") => "with MFA",
            Some("No") => "without MFA",
            _ => "(MFA not logged)",
        };
        Some(Detection {
            rule: &META,
            summary: format!("signed in to the console as the root user {mfa}"),
            subject: Subject::UserDay {
                user: "root".to_string(),
                day: sign_in_day(r),
            },
            base_override: None,
        })
    }

    fn skipped_factors(&self) -> &'static [&'static str] {
        &["no-mfa"]
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{detect, testing::*};
    use crate::Policy;

    #[test]
    fn root_sign_in_fires_with_or_without_mfa() {
        let p = Policy::default();
        for mfa in ["Yes", "No"] {
            let d = detect(&sign_in(root_identity(), "Success", mfa), &p).unwrap();
            assert_eq!(d.rule.id, "root-console-login");
            assert_eq!(d.subject.key(), "root/2026-11-01");
            assert_eq!(d.subject.user(), Some("root"));
        }
    }

    #[test]
    fn failed_sign_ins_make_no_finding() {
        let p = Policy::default();
        let mut r = sign_in(root_identity(), "Failure", "No");
        r.error_message = Some("Failed authentication".into());
        assert!(
            detect(&r, &p).is_none(),
            "not root-console-login, not a denial either"
        );
        let mut r = sign_in(alice(), "Failure", "No");
        r.error_message = Some("Failed authentication".into());
        assert!(detect(&r, &p).is_none());
    }
}
