//! `identity-provider-changed`: a SAML or OIDC identity provider was created or changed (new
//! metadata, a new client id, new thumbprints). Whoever controls the provider can then sign in
//! to every role that trusts it, without any IAM user or key.
//!
//! The subject is the provider's ARN: from the response, or from the request
//! (`sAMLProviderArn`, `openIDConnectProviderArn`), or for a create call whose response lacks
//! it, built from the account and the provider's name or URL as IAM builds it.

use super::{succeeded, Context, Detection, Outcome, RuleMeta, Subject};
use crate::record::CloudTrailRecord;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "identity-provider-changed",
    title: "IAM identity provider created or changed",
    base: 60,
    event_source: IAM,
    event_names: &[
        "CreateSAMLProvider",
        "UpdateSAMLProvider",
        "CreateOpenIDConnectProvider",
        "AddClientIDToOpenIDConnectProvider",
        "UpdateOpenIDConnectProviderThumbprint",
    ],
    outcome: Outcome::Success,
    resolved_by: &["DeleteSAMLProvider", "DeleteOpenIDConnectProvider"],
    types: &["TTPs/Persistence/Account Manipulation"],
    recommendation: "A new or changed identity provider lets whoever controls it into every \
        role that trusts it. Confirm the provider, its metadata or client ids belong to your \
        identity team; if not, delete it and review the trust policies that name it.",
    attack: &["T1484.002"],
};

pub struct Rule;

/// The partition of the caller's ARN (`aws` when unknown).
fn partition(r: &CloudTrailRecord) -> &str {
    r.user_identity
        .arn
        .as_deref()
        .and_then(|a| a.split(':').nth(1))
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
}

/// The provider's ARN as the record tells it.
fn provider_arn(r: &CloudTrailRecord) -> Option<String> {
    let told = r
        .response("/sAMLProviderArn")
        .or_else(|| r.response("/openIDConnectProviderArn"))
        .or_else(|| r.param("sAMLProviderArn"))
        .or_else(|| r.param("openIDConnectProviderArn"));
    if let Some(arn) = told {
        return Some(arn.to_string());
    }
    let account = r.account_id();
    match r.event_name.as_str() {
        "CreateSAMLProvider" => r
            .param("name")
            .map(|n| format!("arn:{}:iam::{account}:saml-provider/{n}", partition(r))),
        "CreateOpenIDConnectProvider" => r.param("url").map(|u| {
            let host = u
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_end_matches('/');
            format!("arn:{}:iam::{account}:oidc-provider/{host}", partition(r))
        }),
        _ => None,
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
        let arn = provider_arn(r).unwrap_or_else(|| {
            format!(
                "unknown-provider-{}",
                r.event_id.as_deref().unwrap_or(&r.event_time)
            )
        });
        let what = match r.event_name.as_str() {
            "CreateSAMLProvider" => "created SAML identity provider",
            "UpdateSAMLProvider" => "replaced the SAML metadata of identity provider",
            "CreateOpenIDConnectProvider" => "created OIDC identity provider",
            "AddClientIDToOpenIDConnectProvider" => {
                "added a client id (audience) to OIDC identity provider"
            }
            _ => "replaced the thumbprints of OIDC identity provider",
        };
        let detail = match r.event_name.as_str() {
            "AddClientIDToOpenIDConnectProvider" => r
                .param("clientID")
                .map(|c| format!(": {c}"))
                .unwrap_or_default(),
            _ => String::new(),
        };
        Some(Detection {
            rule: &META,
            summary: format!("{what} {arn}{detail}"),
            subject: Subject::IdentityProvider(arn),
            base_override: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{detect, testing::*};
    use crate::Policy;
    use serde_json::{json, Value};

    fn key(r: &crate::CloudTrailRecord) -> String {
        let d = detect(r, &Policy::default()).unwrap();
        assert_eq!(d.rule.id, "identity-provider-changed");
        d.subject.key()
    }

    #[test]
    fn provider_arn_from_response_request_or_name() {
        let saml = "arn:aws:iam::111122223333:saml-provider/Okta";
        assert_eq!(
            key(&with_response(
                record(
                    "CreateSAMLProvider",
                    json!({"name": "Okta", "sAMLMetadataDocument": "<x/>"})
                ),
                json!({"sAMLProviderArn": saml}),
            )),
            saml
        );
        assert_eq!(
            key(&record(
                "CreateSAMLProvider",
                json!({"name": "Okta", "sAMLMetadataDocument": "<x/>"})
            )),
            saml,
            "built from the account and name"
        );
        assert_eq!(
            key(&record(
                "UpdateSAMLProvider",
                json!({"sAMLProviderArn": saml, "sAMLMetadataDocument": "<x/>"})
            )),
            saml
        );
        let oidc = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";
        assert_eq!(
            key(&record(
                "CreateOpenIDConnectProvider",
                json!({"url": "https://token.actions.githubusercontent.com",
                       "clientIDList": ["sts.amazonaws.com"], "thumbprintList": []})
            )),
            oidc
        );
        assert_eq!(
            key(&record(
                "UpdateOpenIDConnectProviderThumbprint",
                json!({"openIDConnectProviderArn": oidc, "thumbprintList": ["a"]})
            )),
            oidc
        );
        let r = record(
            "AddClientIDToOpenIDConnectProvider",
            json!({"openIDConnectProviderArn": oidc, "clientID": "my-app"}),
        );
        let d = detect(&r, &Policy::default()).unwrap();
        assert_eq!(d.subject.key(), oidc);
        assert!(d.summary.ends_with(": my-app"), "{}", d.summary);
        assert_eq!(
            key(&record("UpdateSAMLProvider", Value::Null)),
            "unknown-provider-e-1"
        );
    }

    #[test]
    fn failed_and_deleting_calls_make_no_finding() {
        let p = Policy::default();
        let r = failed(
            record("CreateSAMLProvider", json!({"name": "Okta"})),
            "EntityAlreadyExists",
        );
        assert!(detect(&r, &p).is_none());
        let r = record(
            "DeleteSAMLProvider",
            json!({"sAMLProviderArn": "arn:aws:iam::111122223333:saml-provider/Okta"}),
        );
        assert!(detect(&r, &p).is_none());
    }
}
