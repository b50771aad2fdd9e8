//! `admin-access-granted-to-user`: a user was given admin access: an admin managed policy
//! attached, an inline policy allowing `*` or `iam:*` on `*`, or membership of an admin group.

use super::{succeeded, Detection, RuleMeta};
use crate::policy::Policy;
use crate::record::CloudTrailRecord;
use serde_json::Value;

pub static META: RuleMeta = RuleMeta {
    id: "admin-access-granted-to-user",
    title: "Admin access granted to IAM user",
    base: 80,
    event_names: &["AttachUserPolicy", "PutUserPolicy", "AddUserToGroup"],
    types: &[
        "TTPs/Privilege Escalation/Account Manipulation",
        "TTPs/Persistence/Account Manipulation",
    ],
    recommendation: "Admin rights on a long-lived IAM user are rarely justified; unless a \
        change request covers it, detach the policy (or remove the group) and deactivate the \
        user's keys while you investigate.",
    attack: &["T1098.003"],
};

/// A permission change on a user: who, and what was granted.
pub(crate) struct Grant {
    pub user: String,
    /// `policy:<arn>`, `inline:<name>` or `group:<name>`.
    pub grant: String,
    /// Human words for the grant.
    pub what: String,
    pub admin: bool,
}

/// Reads the grant of a successful AttachUserPolicy, PutUserPolicy or AddUserToGroup.
pub(crate) fn grant(r: &CloudTrailRecord, policy: &Policy) -> Option<Grant> {
    if !succeeded(r, META.event_names) {
        return None;
    }
    let user = r.param("userName")?.to_string();
    match r.event_name.as_str() {
        "AttachUserPolicy" => {
            let arn = r.param("policyArn")?;
            Some(Grant {
                user,
                grant: format!("policy:{arn}"),
                what: format!("managed policy {arn}"),
                admin: policy.admin_policies.iter().any(|p| p == arn),
            })
        }
        "PutUserPolicy" => {
            let name = r.param("policyName")?;
            let admin = r.param("policyDocument").is_some_and(document_allows_admin);
            Some(Grant {
                user,
                grant: format!("inline:{name}"),
                what: format!("inline policy {name}"),
                admin,
            })
        }
        "AddUserToGroup" => {
            let group = r.param("groupName")?;
            Some(Grant {
                user,
                grant: format!("group:{group}"),
                what: format!("group {group}"),
                admin: policy.admin_groups.iter().any(|g| g == group),
            })
        }
        _ => None,
    }
}

/// Whether a policy document (JSON text, possibly URL-encoded) has an Allow statement with
/// Action `*` or `iam:*` on Resource `*`.
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

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn detect(&self, r: &CloudTrailRecord, policy: &Policy) -> Option<Detection> {
        let g = grant(r, policy).filter(|g| g.admin)?;
        Some(Detection {
            rule: &META,
            subject: format!("{}/{}", g.user, g.grant),
            summary: format!(
                "granted admin access to IAM user {} with {}",
                g.user, g.what
            ),
            user: Some(g.user),
            access_key_id: None,
            grant: Some(g.grant),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::document_allows_admin;
    use crate::rules::{detect, testing::*};
    use crate::Policy;
    use serde_json::json;

    #[test]
    fn admin_managed_policy() {
        let r = record(
            "AttachUserPolicy",
            json!({"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        );
        let d = detect(&r, &Policy::default()).unwrap();
        assert_eq!(d.rule.id, "admin-access-granted-to-user");
        assert_eq!(
            d.subject,
            "bob/policy:arn:aws:iam::aws:policy/AdministratorAccess"
        );
        assert_eq!(
            d.grant.as_deref(),
            Some("policy:arn:aws:iam::aws:policy/AdministratorAccess")
        );
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

    #[test]
    fn inline_admin_and_group() {
        let doc = r#"{"Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#;
        let r = record(
            "PutUserPolicy",
            json!({"userName": "bob", "policyName": "p", "policyDocument": doc}),
        );
        assert_eq!(
            detect(&r, &Policy::default()).unwrap().subject,
            "bob/inline:p"
        );
        let policy = Policy::from_toml("admin_groups = [\"Admins\"]", "p.toml").unwrap();
        let r = record(
            "AddUserToGroup",
            json!({"userName": "bob", "groupName": "Admins"}),
        );
        assert_eq!(
            detect(&r, &policy).unwrap().rule.id,
            "admin-access-granted-to-user"
        );
        assert_eq!(
            detect(&r, &Policy::default()).unwrap().rule.id,
            "user-permissions-changed"
        );
    }
}
