//! `iam-user-change-denied`: an attempt to make one of the changes above was denied. One
//! finding per caller and UTC day: someone is probing for a way to persist.

use super::{Context, Detection, Outcome, RuleMeta, Subject};
use crate::record::CloudTrailRecord;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "iam-user-change-denied",
    title: "Denied attempt to change IAM users",
    base: 30,
    event_source: IAM,
    event_names: &[],
    outcome: Outcome::Denied,
    resolved_by: &["DeleteUser"],
    types: &[
        "Unusual Behaviors/User",
        "TTPs/Persistence/Account Manipulation",
    ],
    recommendation: "Find out what the caller was trying to do; repeated denials from a \
        credential that should not touch IAM suggest it is compromised.",
    attack: &["T1098"],
};

/// Whether an `errorCode` means the call was denied.
pub fn is_denial(code: &str) -> bool {
    code.starts_with("AccessDenied")
        || code == "Client.UnauthorizedOperation"
        || code == "UnauthorizedOperation"
}

/// Whether an `errorMessage` says a service control policy denied the call: AWS writes
/// "... with an explicit deny in a service control policy" (the guardrail that keeps an OU
/// free of IAM users).
pub fn denied_by_scp(message: Option<&str>) -> bool {
    message.is_some_and(|m| {
        m.to_ascii_lowercase()
            .contains("explicit deny in a service control policy")
    })
}

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn detect(&self, r: &CloudTrailRecord, _: &Context) -> Option<Detection> {
        let code = r.error_code.as_deref()?;
        if !is_denial(code)
            || r.event_source != META.event_source
            || !super::firing_event_names().contains(&r.event_name.as_str())
        {
            return None;
        }
        let actor = r.actor();
        let day = crate::time::utc_date(&r.event_time).unwrap_or_else(|| r.event_time.clone());
        let target = r.param("userName").map(str::to_string);
        let guardrail = if denied_by_scp(r.error_message.as_deref()) {
            " by a guardrail (an explicit deny in a service control policy)"
        } else {
            ""
        };
        Some(Detection {
            rule: &META,
            summary: format!(
                "was denied {}{}{guardrail} ({code})",
                r.event_name,
                target
                    .as_deref()
                    .map(|t| format!(" on {t}"))
                    .unwrap_or_default()
            ),
            subject: Subject::DeniedCaller {
                caller: actor,
                day,
                target,
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
    fn denials_fire_other_errors_do_not() {
        let p = Policy::default();
        for code in [
            "AccessDenied",
            "AccessDeniedException",
            "Client.UnauthorizedOperation",
            "UnauthorizedOperation",
        ] {
            let r = failed(record("CreateUser", json!({"userName": "bob"})), code);
            let d = detect(&r, &p).unwrap();
            assert_eq!(d.rule.id, "iam-user-change-denied");
            assert_eq!(
                d.subject.key(),
                "arn:aws:iam::111122223333:user/alice/2026-11-01"
            );
        }
        for code in ["EntityAlreadyExists", "LimitExceeded", "NoSuchEntity"] {
            assert!(detect(
                &failed(record("CreateUser", json!({"userName": "bob"})), code),
                &p
            )
            .is_none());
        }
        // One finding per caller and UTC day, whatever offset the timestamp carries.
        let mut late = failed(
            record("CreateUser", json!({"userName": "bob"})),
            "AccessDenied",
        );
        late.event_time = "2026-11-02T01:00:00+02:00".into();
        assert_eq!(
            detect(&late, &p).unwrap().subject.key(),
            "arn:aws:iam::111122223333:user/alice/2026-11-01"
        );
        // A denied read or resolving call is out of this rule's scope.
        assert!(detect(
            &failed(
                record("DeleteUser", json!({"userName": "bob"})),
                "AccessDenied"
            ),
            &p
        )
        .is_none());
        assert!(detect(&failed(record("ListUsers", json!({})), "AccessDenied"), &p).is_none());
    }

    /// A call a service control policy denied says a guardrail blocked it; other denials
    /// do not.
    #[test]
    fn a_denial_by_a_service_control_policy_names_the_guardrail() {
        let p = Policy::default();
        let mut r = failed(
            record("CreateUser", json!({"userName": "bob"})),
            "AccessDenied",
        );
        r.error_message = Some(
            "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: \
             iam:CreateUser on resource: arn:aws:iam::111122223333:user/bob with an explicit \
             deny in a service control policy"
                .into(),
        );
        let d = detect(&r, &p).unwrap();
        assert_eq!(
            d.summary,
            "was denied CreateUser on bob by a guardrail (an explicit deny in a service \
             control policy) (AccessDenied)"
        );
        r.error_message = Some(
            "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: \
             iam:CreateUser because no identity-based policy allows the iam:CreateUser action"
                .into(),
        );
        assert_eq!(
            detect(&r, &p).unwrap().summary,
            "was denied CreateUser on bob (AccessDenied)"
        );
        r.error_message = None;
        assert_eq!(
            detect(&r, &p).unwrap().summary,
            "was denied CreateUser on bob (AccessDenied)"
        );
    }

    /// Failed sign-ins are no denial of an IAM change, even should a producer give them an
    /// errorCode (CloudTrail gives none: `responseElements.ConsoleLogin = "Failure"`).
    #[test]
    fn failed_sign_ins_are_not_denials() {
        let p = Policy::default();
        for r in [
            sign_in(alice(), "Failure", "No"),
            failed(sign_in(alice(), "Failure", "No"), "AccessDenied"),
            failed(sign_in(root_identity(), "Failure", "No"), "AccessDenied"),
        ] {
            assert!(detect(&r, &p).is_none(), "{:?}", r.error_code);
        }
    }
}
