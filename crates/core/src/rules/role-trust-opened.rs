//! `role-trust-opened`: a role was created, or its trust policy changed, so that someone outside
//! the organization may assume it: anyone (`"*"`, base 90, or 70 under a narrowing condition),
//! an outside account, or anyone a web-identity provider issues tokens to (70). How the trust
//! policy is read is [`crate::trust`].
//!
//! A trust document that cannot be read (not JSON even after URL-decoding, or missing from a
//! successful call) fires at the rule's base 70 with a summary that says so: the call succeeded,
//! so IAM accepted a document iamwatch cannot see into, and staying silent would hide exactly
//! the role that most needs a look. The finding tells the reader to fetch the trust policy.
//!
//! A later UpdateAssumeRolePolicy that closes the trust again does not archive the finding:
//! resolving events are read without the organization's accounts, so only DeleteRole ends it.

use super::{succeeded, Context, Detection, Outcome, RuleMeta, Subject};
use crate::record::CloudTrailRecord;
use crate::sources::IAM;
use crate::trust::{self, Trust};

pub static META: RuleMeta = RuleMeta {
    id: "role-trust-opened",
    title: "IAM role trust opened outside the organization",
    base: 70,
    event_source: IAM,
    event_names: &["CreateRole", "UpdateAssumeRolePolicy"],
    outcome: Outcome::Success,
    resolved_by: &["DeleteRole"],
    types: &[
        "TTPs/Persistence/Account Manipulation",
        "Effects/Data Exposure",
    ],
    recommendation: "A role that an outside account, anyone, or any user of a web-identity \
        provider can assume is a standing way into the account. Unless a change request names \
        this trust, restore the trust policy to the organization's principals and revoke the \
        role's active sessions.",
    attack: &["T1098.003", "T1199"],
};

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn detect(&self, r: &CloudTrailRecord, cx: &Context) -> Option<Detection> {
        if !succeeded(r, META.event_names) {
            return None;
        }
        let role = r
            .param("roleName")
            .or_else(|| r.response("/role/roleName"))
            .map(str::to_string)
            .unwrap_or_else(|| {
                format!(
                    "unknown-role-{}",
                    r.event_id.as_deref().unwrap_or(&r.event_time)
                )
            });
        let key = match r.event_name.as_str() {
            "CreateRole" => "assumeRolePolicyDocument",
            _ => "policyDocument",
        };
        let doc = r.request_parameters.as_ref().and_then(|p| p.get(key));
        let created = r.event_name == "CreateRole";
        let (summary, base) = match trust::read(doc, r.account_id(), cx) {
            Trust::Closed => return None,
            Trust::Open(o) if created => (
                format!(
                    "created IAM role {role} with a trust policy that lets {} assume it",
                    o.who
                ),
                o.base,
            ),
            Trust::Open(o) => (
                format!(
                    "changed the trust policy of IAM role {role} to let {} assume it",
                    o.who
                ),
                o.base,
            ),
            Trust::Unreadable(why) => (
                format!(
                    "{} a trust policy document iamwatch could not read ({why}); fetch the \
                     trust policy to see who may assume the role",
                    if created {
                        format!("created IAM role {role} with")
                    } else {
                        format!("gave IAM role {role}")
                    }
                ),
                META.base,
            ),
        };
        Some(Detection {
            rule: &META,
            subject: Subject::Role(role),
            summary,
            base_override: (base != META.base).then_some(base),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{detect, detect_in, testing::*, Context};
    use crate::Policy;
    use serde_json::{json, Value};
    use std::collections::BTreeSet;

    fn trust_doc(principal: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": principal, "Action": "sts:AssumeRole"}]})
        .to_string()
    }

    #[test]
    fn create_role_trusting_anyone() {
        let r = record(
            "CreateRole",
            json!({"roleName": "backdoor", "assumeRolePolicyDocument": trust_doc(json!({"AWS": "*"}))}),
        );
        let d = detect(&r, &Policy::default()).unwrap();
        assert_eq!(d.rule.id, "role-trust-opened");
        assert_eq!(d.subject.key(), "backdoor");
        assert_eq!(d.subject.role(), Some("backdoor"));
        assert_eq!(d.base(), 90);
        assert_eq!(
            d.summary,
            "created IAM role backdoor with a trust policy that lets anyone (\"*\") assume it"
        );
    }

    #[test]
    fn update_trust_to_an_outside_account() {
        let r = record(
            "UpdateAssumeRolePolicy",
            json!({"roleName": "app", "policyDocument": trust_doc(json!({"AWS": "arn:aws:iam::444455556666:root"}))}),
        );
        let d = detect(&r, &Policy::default()).unwrap();
        assert_eq!(d.rule.id, "role-trust-opened");
        assert_eq!(d.base(), 70);
        assert_eq!(d.base_override, None, "the rule's own base");
        assert_eq!(
            d.summary,
            "changed the trust policy of IAM role app to let account 444455556666 (not the \
             role's own account) assume it"
        );
    }

    #[test]
    fn in_organization_and_service_trusts_make_no_finding() {
        let p = Policy::default();
        let org: BTreeSet<String> = ["111122223333", "222222222222"].map(String::from).into();
        let cx = Context::new(&p).with_org_accounts(&org);
        let in_org = record(
            "CreateRole",
            json!({"roleName": "app", "assumeRolePolicyDocument": trust_doc(json!({"AWS": "222222222222"}))}),
        );
        assert!(detect_in(&in_org, &cx).is_none());
        assert!(
            detect(&in_org, &p).is_some(),
            "without the organization: another account is outside"
        );
        let service = record(
            "CreateRole",
            json!({"roleName": "app", "assumeRolePolicyDocument": trust_doc(json!({"Service": "lambda.amazonaws.com"}))}),
        );
        assert!(detect(&service, &p).is_none());
        let failed = failed(
            record(
                "CreateRole",
                json!({"roleName": "x", "assumeRolePolicyDocument": trust_doc(json!("*"))}),
            ),
            "MalformedPolicyDocument",
        );
        assert!(detect(&failed, &p).is_none());
    }

    /// Denied calls of this rule and of the other role, group, policy and provider rules are
    /// `iam-user-change-denied`'s.
    #[test]
    fn denied_calls_are_the_denial_rule() {
        for name in [
            "CreateRole",
            "UpdateAssumeRolePolicy",
            "AttachRolePolicy",
            "PutGroupPolicy",
            "CreatePolicyVersion",
            "SetDefaultPolicyVersion",
            "CreateSAMLProvider",
            "AddClientIDToOpenIDConnectProvider",
            "DeleteRolePermissionsBoundary",
        ] {
            let r = failed(record(name, json!({"roleName": "x"})), "AccessDenied");
            assert_eq!(
                detect(&r, &Policy::default()).map(|d| d.rule.id),
                Some("iam-user-change-denied"),
                "{name}"
            );
        }
    }

    #[test]
    fn unreadable_trust_fires_at_the_base() {
        let r = record(
            "UpdateAssumeRolePolicy",
            json!({"roleName": "app", "policyDocument": "{\"Statement\": [{"}),
        );
        let d = detect(&r, &Policy::default()).unwrap();
        assert_eq!(d.rule.id, "role-trust-opened");
        assert_eq!(d.base(), 70);
        assert!(
            d.summary
                .starts_with("gave IAM role app a trust policy document iamwatch could not read (the trust policy document is not JSON)"),
            "{}",
            d.summary
        );
    }

    #[test]
    fn missing_parameters_name_the_role_from_the_response_or_the_event() {
        let r = with_response(
            record("CreateRole", Value::Null),
            json!({"role": {"roleName": "from-response", "arn": "arn:aws:iam::111122223333:role/from-response"}}),
        );
        let d = detect(&r, &Policy::default()).unwrap();
        assert_eq!(d.subject.key(), "from-response");
        assert!(
            d.summary.contains("no trust policy document"),
            "{}",
            d.summary
        );
        let d = detect(
            &record("UpdateAssumeRolePolicy", Value::Null),
            &Policy::default(),
        )
        .unwrap();
        assert_eq!(
            d.subject.key(),
            "unknown-role-e-1",
            "never a shared subject"
        );
    }
}
