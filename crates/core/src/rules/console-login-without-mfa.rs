//! `console-login-without-mfa`: an IAM user signed in to the console with a password alone.
//! A phished or reused password is then all it takes.

use super::root_console_login::{sign_in_day, signed_in};
use super::{stand_in, Context, Detection, Outcome, RuleMeta, Subject};
use crate::record::{CloudTrailRecord, IdentityType};
use crate::sources::SIGNIN;

pub static META: RuleMeta = RuleMeta {
    id: "console-login-without-mfa",
    title: "Console sign-in without MFA",
    base: 50,
    event_source: SIGNIN,
    event_names: &["ConsoleLogin"],
    outcome: Outcome::Success,
    resolved_by: &["DeleteUser"],
    types: &[
        "TTPs/Initial Access/Valid Accounts",
        "Software and Configuration Checks/AWS Security Best Practices",
    ],
    recommendation: "Ask the user whether they signed in; enrol an MFA device for the user \
        (or move them to SSO) and require MFA by policy. If they did not, reset the password \
        and review the session.",
    attack: &["T1078.004"],
};

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn detect(&self, r: &CloudTrailRecord, _: &Context) -> Option<Detection> {
        if !signed_in(r)
            || r.identity_type() != IdentityType::IamUser
            || r.additional("MFAUsed") != Some("No")
        {
            return None;
        }
        let user = match r.caller_iam_user() {
            Some(u) => u.to_string(),
            None => stand_in(r, "user")?,
        };
        Some(Detection {
            rule: &META,
            summary: format!("signed in to the console as IAM user {user} without MFA"),
            subject: Subject::UserDay {
                user,
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
    use serde_json::json;

    #[test]
    fn password_only_sign_in_fires_once_a_day() {
        let p = Policy::default();
        let d = detect(&sign_in(alice(), "Success", "No"), &p).unwrap();
        assert_eq!(d.rule.id, "console-login-without-mfa");
        assert_eq!(
            (d.subject.key().as_str(), d.subject.user()),
            ("alice/2026-11-01", Some("alice"))
        );
        let mut later = sign_in(alice(), "Success", "No");
        later.event_time = "2026-11-01T23:59:00Z".into();
        assert_eq!(
            detect(&later, &p).unwrap().subject.key(),
            "alice/2026-11-01"
        );
    }

    #[test]
    fn no_finding_with_mfa_on_failure_or_for_other_identities() {
        let p = Policy::default();
        assert!(detect(&sign_in(alice(), "Success", "Yes"), &p).is_none());
        assert!(detect(&sign_in(alice(), "Failure", "No"), &p).is_none());
        let federated = json!({"type": "AssumedRole", "accountId": "111122223333",
            "arn": "arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com"});
        assert!(detect(&sign_in(federated, "Success", "No"), &p).is_none());
        // MFAUsed not logged: unknown, no finding.
        let mut r = sign_in(alice(), "Success", "No");
        r.additional_event_data = None;
        assert!(detect(&r, &p).is_none());
        // An IAM API call is not a sign-in, whatever its response says.
        let r = with_response(
            record("ConsoleLogin", json!(null)),
            json!({"ConsoleLogin": "Success"}),
        );
        assert!(detect(&r, &p).is_none());
    }
}
