//! IAM policy documents and grants: what a grant is and whether it gives admin access. Shared
//! by every rule about users, groups, roles and managed policies.

use crate::policy::Policy;
use crate::record::CloudTrailRecord;
use crate::subject::Grant;
use serde_json::Value;

/// The kind of principal a grant goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    User,
    Group,
    Role,
}

impl PrincipalKind {
    /// "IAM user", "IAM group", "IAM role": words for a summary.
    pub fn describe(self) -> &'static str {
        match self {
            PrincipalKind::User => "IAM user",
            PrincipalKind::Group => "IAM group",
            PrincipalKind::Role => "IAM role",
        }
    }

    /// The request parameter naming the principal.
    fn name_param(self) -> &'static str {
        match self {
            PrincipalKind::User => "userName",
            PrincipalKind::Group => "groupName",
            PrincipalKind::Role => "roleName",
        }
    }
}

/// A grant to an IAM user, group or role, read from a successful grant call, and whether it
/// gives admin access under the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalGrant {
    pub kind: PrincipalKind,
    /// The user, group or role name.
    pub name: String,
    pub grant: Grant,
    pub admin: bool,
    /// Why an inline policy's document could not be read, when it could not: such a grant is
    /// scored as admin (the admin rule's base), and the finding says why.
    pub unreadable: Option<String>,
}

/// A grant to an IAM user, read from a successful AttachUserPolicy, PutUserPolicy or
/// AddUserToGroup, and whether it gives admin access under the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGrant {
    pub user: String,
    pub grant: Grant,
    pub admin: bool,
    /// See [`PrincipalGrant::unreadable`].
    pub unreadable: Option<String>,
}

/// The calls that grant a user permissions.
pub const USER_GRANT_CALLS: &[&str] = &["AttachUserPolicy", "PutUserPolicy", "AddUserToGroup"];
/// The calls that grant a group permissions.
pub const GROUP_GRANT_CALLS: &[&str] = &["AttachGroupPolicy", "PutGroupPolicy"];
/// The calls that grant a role permissions.
pub const ROLE_GRANT_CALLS: &[&str] = &["AttachRolePolicy", "PutRolePolicy"];

/// The grant a successful user-grant call makes. A part the record does not name (a
/// malformed record, `requestParameters: null`) gets a stand-in unique to the event
/// ([`crate::rules::stand_in`]), so the grant is still a finding; it is never admin then.
pub fn user_grant(r: &CloudTrailRecord, policy: &Policy) -> Option<UserGrant> {
    let g = principal_grant(r, policy).filter(|g| g.kind == PrincipalKind::User)?;
    Some(UserGrant {
        user: g.name,
        grant: g.grant,
        admin: g.admin,
        unreadable: g.unreadable,
    })
}

/// The grant a successful grant call to a user, group or role makes: an attached managed
/// policy (admin when it is in `admin_policies`), an inline policy (admin when its document
/// passes [`document_allows_admin`]), or for users a group membership (admin when the group is
/// in `admin_groups`, which names groups users join, so it has no say over a group's or role's
/// own policies).
pub fn principal_grant(r: &CloudTrailRecord, policy: &Policy) -> Option<PrincipalGrant> {
    if !r.succeeded() {
        return None;
    }
    let call = r.event_name.as_str();
    let kind = if USER_GRANT_CALLS.contains(&call) {
        PrincipalKind::User
    } else if GROUP_GRANT_CALLS.contains(&call) {
        PrincipalKind::Group
    } else if ROLE_GRANT_CALLS.contains(&call) {
        PrincipalKind::Role
    } else {
        return None;
    };
    // A successful call that does not name what it granted (a malformed record) still is a
    // grant: stand-ins unique to the event name the parts it lacks.
    let named = |key: &str, what: &str| match r.param(key) {
        Some(v) => Some(v.to_string()),
        None => crate::rules::stand_in(r, what),
    };
    let what = match kind {
        PrincipalKind::User => "user",
        PrincipalKind::Group => "group",
        PrincipalKind::Role => "role",
    };
    let name = named(kind.name_param(), what)?;
    let mut unreadable = None;
    let (grant, admin) = match call {
        "AttachUserPolicy" | "AttachGroupPolicy" | "AttachRolePolicy" => {
            let arn = named("policyArn", "policy")?;
            let admin = policy.admin_policies.contains(&arn);
            (Grant::ManagedPolicy(arn), admin)
        }
        "PutUserPolicy" | "PutGroupPolicy" | "PutRolePolicy" => {
            let name = named("policyName", "policy")?;
            // A document that cannot be read is never taken for a harmless one.
            match r.param("policyDocument").map(read_document) {
                Some(Ok(doc)) => (Grant::InlinePolicy(name), allows_admin(&doc)),
                Some(Err(why)) => {
                    unreadable = Some(why);
                    (Grant::InlinePolicy(name), true)
                }
                None => (Grant::InlinePolicy(name), false),
            }
        }
        "AddUserToGroup" => {
            let group = named("groupName", "group")?;
            let admin = policy.admin_groups.contains(&group);
            (Grant::Group(group), admin)
        }
        _ => return None,
    };
    Some(PrincipalGrant {
        kind,
        name,
        grant,
        admin,
        unreadable,
    })
}

/// A policy document as CloudTrail logs it: a JSON string, at times URL-encoded (`+` for a
/// space). `None` when neither form is JSON.
pub fn parse_document(doc: &str) -> Option<Value> {
    serde_json::from_str(doc).ok().or_else(|| {
        let decoded = percent_encoding::percent_decode_str(doc)
            .decode_utf8()
            .ok()?;
        serde_json::from_str(&decoded.replace('+', " ")).ok()
    })
}

/// A grant's summary, saying why it counts as admin when its document could not be read.
pub fn with_note(summary: String, unreadable: &Option<String>) -> String {
    match unreadable {
        Some(why) => {
            format!("{summary} (its document could not be read, so it counts as admin: {why})")
        }
        None => summary,
    }
}

/// A policy document as IAM takes it (JSON text, at times URL-encoded), or why it cannot be
/// read: the reason names the JSON error of the decoded text.
pub fn read_document(doc: &str) -> Result<Value, String> {
    if let Ok(v) = serde_json::from_str::<Value>(doc) {
        return Ok(v);
    }
    let decoded = percent_encoding::percent_decode_str(doc)
        .decode_utf8()
        .map_err(|e| {
            format!("the policy document is not JSON and its URL-decoding is not UTF-8: {e}")
        })?
        .replace('+', " ");
    serde_json::from_str(&decoded).map_err(|e| format!("the policy document is not JSON: {e}"))
}

/// The statements of a parsed policy document: `Statement` as a list or a single object.
pub fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(v)) => v.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => Vec::new(),
    }
}

/// Whether an IAM policy document (a JSON string, at times URL-encoded) has an Allow
/// statement with Action `*` or `iam:*` and Resource `*`. Action and Resource may be a string
/// or a list.
pub fn document_allows_admin(doc: &str) -> bool {
    parse_document(doc).is_some_and(|doc| allows_admin(&doc))
}

/// Whether a parsed policy document has an Allow statement with Action `*` or `iam:*` and
/// Resource `*`.
pub fn allows_admin(doc: &Value) -> bool {
    statements(doc).iter().any(|s| {
        let allow = s.get("Effect").and_then(Value::as_str) == Some("Allow");
        let action =
            one_or_many(s.get("Action")).any(|a| a == "*" || a.eq_ignore_ascii_case("iam:*"));
        let resource = one_or_many(s.get("Resource")).any(|r| r == "*");
        allow && action && resource
    })
}

/// A policy element that may be a string or a list of strings.
pub fn one_or_many(v: Option<&Value>) -> impl Iterator<Item = &str> {
    let items: Vec<&str> = match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    items.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::record;
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

    #[test]
    fn grants_to_users_groups_and_roles() {
        let p = Policy::default();
        let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
        let doc = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let cases = [
            ("AttachUserPolicy", "userName", PrincipalKind::User),
            ("AttachGroupPolicy", "groupName", PrincipalKind::Group),
            ("AttachRolePolicy", "roleName", PrincipalKind::Role),
        ];
        for (call, param, kind) in cases {
            let g = principal_grant(&record(call, json!({param: "x", "policyArn": admin})), &p)
                .unwrap();
            assert_eq!(
                (g.kind, g.name.as_str(), g.admin),
                (kind, "x", true),
                "{call}"
            );
            assert_eq!(g.grant, Grant::ManagedPolicy(admin.into()));
        }
        for (call, param) in [
            ("PutUserPolicy", "userName"),
            ("PutGroupPolicy", "groupName"),
            ("PutRolePolicy", "roleName"),
        ] {
            let g = principal_grant(
                &record(
                    call,
                    json!({param: "x", "policyName": "p", "policyDocument": doc}),
                ),
                &p,
            )
            .unwrap();
            assert!(g.admin, "{call}");
            assert_eq!(g.grant, Grant::InlinePolicy("p".into()));
        }
        // A group's or role's grant is not a user's, and a user's target is the user.
        let role = record(
            "AttachRolePolicy",
            json!({"roleName": "x", "policyArn": admin}),
        );
        assert_eq!(user_grant(&role, &p), None);
        let user = record(
            "AttachUserPolicy",
            json!({"userName": "bob", "policyArn": admin}),
        );
        assert_eq!(
            user_grant(&user, &p),
            Some(UserGrant {
                user: "bob".into(),
                grant: Grant::ManagedPolicy(admin.into()),
                admin: true,
                unreadable: None,
            })
        );
        // A group grant that names no group (a malformed record) still is a grant, to a
        // stand-in unique to the event: never dropped, never shared with another event.
        assert_eq!(
            principal_grant(
                &record(
                    "AttachGroupPolicy",
                    json!({"userName": "x", "policyArn": admin})
                ),
                &p
            )
            .map(|g| g.name),
            Some("unknown-group-e-1".to_string())
        );
    }

    /// A URL-encoded document that decodes to invalid JSON is not a harmless grant: it is
    /// scored as admin, and the grant says why.
    #[test]
    fn an_unreadable_document_is_scored_as_admin_and_says_why() {
        let r = record(
            "PutUserPolicy",
            json!({"userName": "bob", "policyName": "p",
                   "policyDocument": "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A"}),
        );
        let g = user_grant(&r, &Policy::default()).unwrap();
        assert!(g.admin);
        assert!(
            g.unreadable.as_deref().unwrap().contains("not JSON"),
            "{:?}",
            g.unreadable
        );
        let d = crate::rules::detect(&r, &Policy::default()).unwrap();
        assert_eq!(d.rule.id, "admin-access-granted-to-user");
        assert!(d.summary.contains("could not be read"), "{}", d.summary);
    }
}
