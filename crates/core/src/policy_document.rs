//! IAM policy documents and grants: what a grant is and whether it gives admin access. Shared
//! by every rule about users, groups, roles and managed policies.

use crate::policy::Policy;
use crate::record::CloudTrailRecord;
use crate::subject::Grant;
use serde_json::Value;

/// A grant to an IAM user, read from a successful AttachUserPolicy, PutUserPolicy or
/// AddUserToGroup, and whether it gives admin access under the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGrant {
    pub user: String,
    pub grant: Grant,
    pub admin: bool,
}

/// The calls that grant a user permissions.
pub const USER_GRANT_CALLS: &[&str] = &["AttachUserPolicy", "PutUserPolicy", "AddUserToGroup"];

/// The grant a successful user-grant call makes. A part the record does not name (a
/// malformed record, `requestParameters: null`) gets a stand-in unique to the event
/// ([`crate::rules::stand_in`]), so the grant is still a finding; it is never admin then.
pub fn user_grant(r: &CloudTrailRecord, policy: &Policy) -> Option<UserGrant> {
    if !r.succeeded() || !USER_GRANT_CALLS.contains(&r.event_name.as_str()) {
        return None;
    }
    let named = |key: &str, what: &str| match r.param(key) {
        Some(v) => Some(v.to_string()),
        None => crate::rules::stand_in(r, what),
    };
    let user = named("userName", "user")?;
    match r.event_name.as_str() {
        "AttachUserPolicy" => {
            let arn = named("policyArn", "policy")?;
            Some(UserGrant {
                user,
                admin: policy.admin_policies.contains(&arn),
                grant: Grant::ManagedPolicy(arn),
            })
        }
        "PutUserPolicy" => {
            let name = named("policyName", "policy")?;
            let admin = r.param("policyDocument").is_some_and(document_allows_admin);
            Some(UserGrant {
                user,
                grant: Grant::InlinePolicy(name),
                admin,
            })
        }
        "AddUserToGroup" => {
            let group = named("groupName", "group")?;
            Some(UserGrant {
                user,
                admin: policy.admin_groups.contains(&group),
                grant: Grant::Group(group),
            })
        }
        _ => None,
    }
}

/// Whether an IAM policy document (a JSON string, at times URL-encoded) has an Allow
/// statement with Action `*` or `iam:*` and Resource `*`. Action and Resource may be a string
/// or a list.
pub fn document_allows_admin(doc: &str) -> bool {
    let parsed: Option<Value> = serde_json::from_str(doc).ok().or_else(|| {
        let decoded = percent_encoding::percent_decode_str(doc)
            .decode_utf8()
            .ok()?;
        serde_json::from_str(&decoded.replace('+', " ")).ok()
    });
    let Some(doc) = parsed else { return false };
    let statements = match doc.get("Statement") {
        Some(Value::Array(v)) => v.iter().collect::<Vec<_>>(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => return false,
    };
    statements.iter().any(|s| {
        let allow = s.get("Effect").and_then(Value::as_str) == Some("Allow");
        let action =
            one_or_many(s.get("Action")).any(|a| a == "*" || a.eq_ignore_ascii_case("iam:*"));
        let resource = one_or_many(s.get("Resource")).any(|r| r == "*");
        allow && action && resource
    })
}

fn one_or_many(v: Option<&Value>) -> impl Iterator<Item = &str> {
    let items: Vec<&str> = match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    items.into_iter()
}

#[cfg(test)]
mod tests {
    use super::{document_allows_admin, user_grant};
    use crate::rules::testing::record;
    use crate::Policy;
    use serde_json::json;

    /// `requestParameters: null` on a successful grant is still a grant, named by stand-ins
    /// unique to the event.
    #[test]
    fn null_parameters_give_a_grant_per_event() {
        let r = record("AttachUserPolicy", json!(null));
        let g = user_grant(&r, &Policy::default()).unwrap();
        assert_eq!(
            (g.user.as_str(), g.grant.to_string().as_str(), g.admin),
            ("unknown-user-e-1", "policy:unknown-policy-e-1", false)
        );
        let mut other = r.clone();
        other.event_id = Some("e-2".into());
        assert_ne!(user_grant(&other, &Policy::default()).unwrap().user, g.user);
        let r = record("AddUserToGroup", json!({"userName": "bob"}));
        let g = user_grant(&r, &Policy::default()).unwrap();
        assert_eq!(g.grant.to_string(), "group:unknown-group-e-1");
        other.event_id = None;
        assert_eq!(user_grant(&other, &Policy::default()), None);
    }

    #[test]
    fn inline_documents() {
        assert!(document_allows_admin(
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#
        ));
        assert!(document_allows_admin(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","IAM:*"],"Resource":["*"]}]}"#
        ));
        // URL-encoded, as some CloudTrail producers log it.
        assert!(document_allows_admin(
            "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D"
        ));
        assert!(!document_allows_admin(
            r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#
        ));
        assert!(!document_allows_admin(
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b"}]}"#
        ));
        assert!(!document_allows_admin(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
        ));
        assert!(!document_allows_admin("not json"));
    }
}
