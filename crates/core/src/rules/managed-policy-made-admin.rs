//! `managed-policy-made-admin`: a customer managed policy got a new default version that gives
//! admin access (CreatePolicyVersion with `setAsDefault` and a document allowing `*` or `iam:*`
//! on `*`), or its default version was switched (SetDefaultPolicyVersion). Every user, group
//! and role the policy is attached to gets the new rights at once, without an Attach call.
//!
//! SetDefaultPolicyVersion always fires, at base 40: the record names the version but not its
//! content, so it may be an old admin version brought back (a known persistence trick).
//! DeletePolicy ends the finding; setting another default version does not (its content is
//! unknown as well).

use super::{succeeded, Context, Detection, Outcome, RuleMeta, Subject};
use crate::policy_document::document_allows_admin;
use crate::record::CloudTrailRecord;
use crate::sources::IAM;
use serde_json::Value;

/// The base of SetDefaultPolicyVersion, whose version's content is unknown.
pub const BASE_VERSION_SWITCHED: u8 = 40;

pub static META: RuleMeta = RuleMeta {
    id: "managed-policy-made-admin",
    title: "Managed IAM policy made admin",
    base: 70,
    event_source: IAM,
    event_names: &["CreatePolicyVersion", "SetDefaultPolicyVersion"],
    outcome: Outcome::Success,
    resolved_by: &["DeletePolicy"],
    types: &[
        "TTPs/Privilege Escalation/Account Manipulation",
        "TTPs/Persistence/Account Manipulation",
    ],
    recommendation: "Everything this policy is attached to now has the new version's rights. \
        Compare the default version with the previous one; unless a change request covers it, \
        set the previous version as default again and delete the new one.",
    attack: &["T1098.003", "T1484"],
};

pub struct Rule;

/// `setAsDefault`, a boolean that some producers write as a string.
fn set_as_default(r: &CloudTrailRecord) -> bool {
    match r
        .request_parameters
        .as_ref()
        .and_then(|p| p.get("setAsDefault"))
    {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn detect(&self, r: &CloudTrailRecord, _: &Context) -> Option<Detection> {
        if !succeeded(r, META.event_names) {
            return None;
        }
        let arn = r
            .param("policyArn")
            .or_else(|| r.response("/policyVersion/policyArn"))
            .map(str::to_string)
            .unwrap_or_else(|| {
                format!(
                    "unknown-policy-{}",
                    r.event_id.as_deref().unwrap_or(&r.event_time)
                )
            });
        let (summary, base_override) = if r.event_name == "CreatePolicyVersion" {
            if !set_as_default(r) || !r.param("policyDocument").is_some_and(document_allows_admin) {
                return None;
            }
            let version = r
                .response("/policyVersion/versionId")
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            (
                format!(
                    "made an admin document (Allow * or iam:* on *) the default version{version} \
                     of managed policy {arn}"
                ),
                None,
            )
        } else {
            let version = r.param("versionId").unwrap_or("(unknown version)");
            (
                format!(
                    "set version {version} as the default of managed policy {arn} (the \
                     version's content is not in the record)"
                ),
                Some(BASE_VERSION_SWITCHED),
            )
        };
        Some(Detection {
            rule: &META,
            subject: Subject::Policy(arn),
            summary,
            base_override,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{detect, testing::*};
    use crate::Policy;
    use serde_json::json;

    const ARN: &str = "arn:aws:iam::111122223333:policy/app-deploy";
    const ADMIN: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

    #[test]
    fn new_default_admin_version() {
        let p = Policy::default();
        for set in [json!(true), json!("true"), json!("TRUE")] {
            let r = with_response(
                record(
                    "CreatePolicyVersion",
                    json!({"policyArn": ARN, "policyDocument": ADMIN, "setAsDefault": set}),
                ),
                json!({"policyVersion": {"versionId": "v3", "isDefaultVersion": true}}),
            );
            let d = detect(&r, &p).unwrap();
            assert_eq!(d.rule.id, "managed-policy-made-admin");
            assert_eq!(d.subject.key(), ARN);
            assert_eq!(d.base(), 70);
            assert!(d.summary.contains("default version v3 of"), "{}", d.summary);
        }
    }

    #[test]
    fn non_default_or_non_admin_versions_make_no_finding() {
        let p = Policy::default();
        for params in [
            json!({"policyArn": ARN, "policyDocument": ADMIN}),
            json!({"policyArn": ARN, "policyDocument": ADMIN, "setAsDefault": false}),
            json!({"policyArn": ARN, "policyDocument": ADMIN, "setAsDefault": "false"}),
            json!({"policyArn": ARN, "setAsDefault": true,
                   "policyDocument": r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#}),
        ] {
            assert!(
                detect(&record("CreatePolicyVersion", params.clone()), &p).is_none(),
                "{params}"
            );
        }
    }

    #[test]
    fn default_version_switched_always_fires_at_40() {
        let r = record(
            "SetDefaultPolicyVersion",
            json!({"policyArn": ARN, "versionId": "v1"}),
        );
        let d = detect(&r, &Policy::default()).unwrap();
        assert_eq!(d.rule.id, "managed-policy-made-admin");
        assert_eq!(d.base(), 40);
        assert_eq!(d.subject.key(), ARN);
        assert!(d.summary.starts_with("set version v1 as the default"));
        let d = detect(
            &record("SetDefaultPolicyVersion", serde_json::Value::Null),
            &Policy::default(),
        )
        .unwrap();
        assert_eq!(d.subject.key(), "unknown-policy-e-1");
    }
}
