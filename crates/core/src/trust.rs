//! Role trust policies, read as IAM reads them: who may assume a role, and whether that reaches
//! outside the organization.
//!
//! A statement opens the role when it is an `Allow` of `sts:AssumeRole`,
//! `sts:AssumeRoleWithSAML` or `sts:AssumeRoleWithWebIdentity` (written as such or matched by a
//! wildcard such as `sts:AssumeRole*`, `sts:*` or `*`, or not excluded by a `NotAction`) to:
//!
//! - anyone: `Principal: "*"`, `{"AWS": "*"}`, or a `NotPrincipal` (which, with `Allow`, lets
//!   in everyone but the listed principals): [`BASE_ANYONE`]. A condition on
//!   `aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`, `aws:PrincipalAccount` or `sts:ExternalId`
//!   in the same statement narrows it but does not make it safe: [`BASE_NARROWED`]. A condition
//!   whose `aws:PrincipalAccount` names (exactly) only accounts of the organization makes any
//!   statement safe, whatever its principal.
//! - an AWS account outside the organization: an account id, an account root ARN, or a role,
//!   user or session ARN (the account is read from the ARN): [`BASE_OUTSIDE`];
//! - a web-identity provider (an OIDC provider ARN such as
//!   `oidc-provider/token.actions.githubusercontent.com`, or a well-known provider such as
//!   `cognito-identity.amazonaws.com`) with no condition on the provider's `:sub` key (for
//!   Cognito, `:aud`, the identity pool, also narrows it): anyone that provider issues a token
//!   to, [`BASE_OUTSIDE`];
//! - a SAML provider of another account outside the organization: [`BASE_OUTSIDE`].
//!
//! A `Service` principal is never an outside account, and a SAML provider of the role's own
//! account is the role's own identity provider: neither opens the role.
//!
//! "Outside the organization" is: not in the organization's accounts when they are known
//! ([`Context::in_org`]), and otherwise not the role's own account. The role's own account is
//! never outside.

use crate::policy_document::{one_or_many, parse_document, statements};
use crate::rules::Context;
use serde_json::Value;

/// Base score of a role anyone may assume.
pub const BASE_ANYONE: u8 = 90;
/// Base score of a role anyone may assume under a narrowing condition (`BASE_ANYONE` - 20).
pub const BASE_NARROWED: u8 = 70;
/// Base score of a role an outside account or a web-identity provider's users may assume.
pub const BASE_OUTSIDE: u8 = 70;

/// The actions that assume a role, lower-cased.
const ASSUME_ACTIONS: [&str; 3] = [
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
];

/// Condition keys that narrow a trust to "*" (lower-cased; IAM condition keys are
/// case-insensitive).
const NARROWING_KEYS: [&str; 4] = [
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "sts:externalid",
];

/// What a trust policy allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Nobody outside the organization may assume the role.
    Closed,
    /// The widest opening of the document.
    Open(Opening),
    /// The document could not be read; the reason says why.
    Unreadable(String),
}

/// Who may assume a role from outside the organization, and the base score it makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    /// In words: `anyone ("*")`, `account 444455556666 (outside the organization)`...
    pub who: String,
    pub base: u8,
}

/// Reads the trust policy `doc` (a JSON string, at times URL-encoded, or a JSON object) of a
/// role of `role_account`. `None` (no document in the record) is unreadable.
pub fn read(doc: Option<&Value>, role_account: &str, cx: &Context) -> Trust {
    let parsed = match doc {
        None | Some(Value::Null) => {
            return Trust::Unreadable("the record carries no trust policy document".into())
        }
        Some(Value::String(s)) => match parse_document(s) {
            Some(v) => v,
            None => return Trust::Unreadable("the trust policy document is not JSON".into()),
        },
        Some(v) => v.clone(),
    };
    if !parsed.is_object() {
        return Trust::Unreadable("the trust policy document is not a JSON object".into());
    }
    if parsed
        .get("Statement")
        .is_some_and(|s| !s.is_array() && !s.is_object())
    {
        return Trust::Unreadable("the trust policy's Statement is not a list or an object".into());
    }
    let scope = Scope { role_account, cx };
    let mut widest: Option<Opening> = None;
    for s in statements(&parsed) {
        if let Some(o) = scope.statement(s) {
            if widest.as_ref().is_none_or(|w| o.base > w.base) {
                widest = Some(o);
            }
        }
    }
    widest.map_or(Trust::Closed, Trust::Open)
}

/// A principal of a trust statement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Principal {
    Anyone,
    Account(String),
    Saml {
        account: String,
    },
    WebIdentity {
        provider: String,
    },
    /// A service, or a principal IAM would not take from a caller (a unique id): no account.
    Other,
}

struct Scope<'a> {
    role_account: &'a str,
    cx: &'a Context<'a>,
}

impl Scope<'_> {
    /// Whether `account` is the role's own account or one of the organization's.
    fn inside(&self, account: &str) -> bool {
        account == self.role_account || self.cx.in_org(account).unwrap_or(false)
    }

    fn outside_words(&self, account: &str) -> String {
        match self.cx.in_org(account) {
            Some(_) => format!("account {account} (outside the organization)"),
            None => format!("account {account} (not the role's own account)"),
        }
    }

    fn statement(&self, s: &Value) -> Option<Opening> {
        if s.get("Effect").and_then(Value::as_str) != Some("Allow") || !allows_assume(s) {
            return None;
        }
        let conditions = conditions(s);
        // `aws:PrincipalAccount` matched exactly against accounts of the organization only:
        // whatever the principal, no caller from outside passes (a key absent from a request,
        // as for web identities, fails a positive match).
        let accounts: Vec<&str> = conditions
            .iter()
            .filter(|c| c.key == "aws:principalaccount" && c.exact())
            .flat_map(|c| c.values.iter().map(String::as_str))
            .collect();
        if !accounts.is_empty() && accounts.iter().all(|a| self.inside(a)) {
            return None;
        }
        let principals = if s.get("NotPrincipal").is_some() {
            vec![Principal::Anyone]
        } else {
            principals(s.get("Principal")?)
        };
        let mut widest: Option<Opening> = None;
        for p in principals {
            if let Some(o) = self.principal(&p, &conditions) {
                if widest.as_ref().is_none_or(|w| o.base > w.base) {
                    widest = Some(o);
                }
            }
        }
        widest
    }

    fn principal(&self, p: &Principal, conditions: &[Condition]) -> Option<Opening> {
        match p {
            Principal::Anyone => match conditions.iter().find(|c| c.narrows()) {
                Some(c) => Some(Opening {
                    who: format!("anyone (\"*\") with a condition on {}", c.key_as_written),
                    base: BASE_NARROWED,
                }),
                None => Some(Opening {
                    who: "anyone (\"*\")".into(),
                    base: BASE_ANYONE,
                }),
            },
            Principal::Account(a) => (!self.inside(a)).then(|| Opening {
                who: self.outside_words(a),
                base: BASE_OUTSIDE,
            }),
            Principal::Saml { account } => (!self.inside(account)).then(|| Opening {
                who: format!("a SAML provider of {}", self.outside_words(account)),
                base: BASE_OUTSIDE,
            }),
            Principal::WebIdentity { provider } => {
                let lower = provider.to_ascii_lowercase();
                let mut keys = vec![format!("{lower}:sub")];
                if lower == "cognito-identity.amazonaws.com" {
                    keys.push(format!("{lower}:aud"));
                }
                let narrowed = conditions.iter().any(|c| keys.contains(&c.key));
                (!narrowed).then(|| Opening {
                    who: format!(
                        "anyone with a token of web-identity provider {provider} \
                         (no condition on {provider}:sub)"
                    ),
                    base: BASE_OUTSIDE,
                })
            }
            Principal::Other => None,
        }
    }
}

/// Whether the statement's `Action` (or the complement of its `NotAction`) takes in an
/// `sts:AssumeRole*` action.
fn allows_assume(s: &Value) -> bool {
    if let Some(action) = s.get("Action") {
        return one_or_many(Some(action)).any(|a| {
            let a = a.to_ascii_lowercase();
            ASSUME_ACTIONS.iter().any(|x| wildcard(&a, x))
        });
    }
    if let Some(not) = s.get("NotAction") {
        let excluded: Vec<String> = one_or_many(Some(not))
            .map(str::to_ascii_lowercase)
            .collect();
        return ASSUME_ACTIONS
            .iter()
            .any(|x| !excluded.iter().any(|e| wildcard(e, x)));
    }
    false
}

/// IAM's action wildcard: `*` any run of characters, `?` any one character.
fn wildcard(pattern: &str, s: &str) -> bool {
    let (p, s) = (pattern.as_bytes(), s.as_bytes());
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

/// The principals of a `Principal` element: `"*"`, or an object of `AWS`, `Federated`,
/// `Service` (and `CanonicalUser`) to a string or a list.
fn principals(v: &Value) -> Vec<Principal> {
    match v {
        Value::String(s) => vec![aws_principal(s)],
        Value::Object(m) => m
            .iter()
            .flat_map(|(kind, values)| {
                let kind = kind.to_ascii_lowercase();
                one_or_many(Some(values))
                    .map(|s| match kind.as_str() {
                        "aws" => aws_principal(s),
                        "federated" => federated_principal(s),
                        _ => Principal::Other,
                    })
                    .collect::<Vec<_>>()
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// An `AWS` principal: `*`, an account id, or an ARN whose account field names the account.
fn aws_principal(s: &str) -> Principal {
    let s = s.trim();
    if s == "*" {
        return Principal::Anyone;
    }
    if is_account_id(s) {
        return Principal::Account(s.to_string());
    }
    match arn_account(s) {
        Some(a) => Principal::Account(a.to_string()),
        None => Principal::Other,
    }
}

/// A `Federated` principal: a SAML or OIDC provider ARN, or a well-known web-identity
/// provider by name (`cognito-identity.amazonaws.com`, `accounts.google.com`...).
fn federated_principal(s: &str) -> Principal {
    let s = s.trim();
    if s == "*" {
        return Principal::Anyone;
    }
    if let Some(account) = arn_account(s) {
        let resource = s.splitn(6, ':').nth(5).unwrap_or("");
        if let Some(provider) = resource.strip_prefix("oidc-provider/") {
            return Principal::WebIdentity {
                provider: provider.to_string(),
            };
        }
        return Principal::Saml {
            account: account.to_string(),
        };
    }
    Principal::WebIdentity {
        provider: s.to_string(),
    }
}

/// The account of an `arn:<partition>:<iam|sts>::<account>:...` ARN.
fn arn_account(s: &str) -> Option<&str> {
    match s.splitn(6, ':').collect::<Vec<&str>>()[..] {
        ["arn", _, _, _, account, _] if is_account_id(account) => Some(account),
        _ => None,
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// One condition of a statement: `{"<operator>": {"<key>": value or values}}`.
#[derive(Debug)]
struct Condition {
    operator: String,
    /// Lower-cased.
    key: String,
    key_as_written: String,
    values: Vec<String>,
}

impl Condition {
    /// A positive string or ARN match (not `...Not...`, not `...IfExists`, not `Null`), which
    /// lets in only principals with a matching value.
    fn positive(&self) -> bool {
        let op = self
            .operator
            .trim_start_matches("ForAnyValue:")
            .trim_start_matches("ForAllValues:");
        matches!(
            op,
            "StringEquals" | "StringEqualsIgnoreCase" | "StringLike" | "ArnEquals" | "ArnLike"
        )
    }

    /// Narrows a trust to "*": a positive match on a narrowing key with a value that is not
    /// only a wildcard.
    fn narrows(&self) -> bool {
        NARROWING_KEYS.contains(&self.key.as_str())
            && self.positive()
            && self.values.iter().any(|v| v.chars().any(|c| c != '*'))
    }

    /// An exact match (no wildcard in the values).
    fn exact(&self) -> bool {
        self.positive() && self.values.iter().all(|v| !v.contains(['*', '?']))
    }
}

fn conditions(s: &Value) -> Vec<Condition> {
    let Some(Value::Object(ops)) = s.get("Condition") else {
        return Vec::new();
    };
    ops.iter()
        .filter_map(|(op, keys)| Some((op, keys.as_object()?)))
        .flat_map(|(op, keys)| {
            keys.iter().map(move |(key, v)| Condition {
                operator: op.clone(),
                key: key.to_ascii_lowercase(),
                key_as_written: key.clone(),
                values: match v {
                    Value::Array(a) => a.iter().map(value_string).collect(),
                    other => vec![value_string(other)],
                },
            })
        })
        .collect()
}

fn value_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;
    use serde_json::json;
    use std::collections::BTreeSet;

    const OWN: &str = "111122223333";

    fn doc(statement: Value) -> Value {
        Value::String(json!({"Version": "2012-10-17", "Statement": [statement]}).to_string())
    }

    fn trust(statement: Value) -> Trust {
        read(
            Some(&doc(statement)),
            OWN,
            &Context::new(&Policy::default()),
        )
    }

    fn base(statement: Value) -> Option<u8> {
        match trust(statement) {
            Trust::Open(o) => Some(o.base),
            Trust::Closed => None,
            Trust::Unreadable(r) => panic!("unreadable: {r}"),
        }
    }

    fn allow(principal: Value) -> Value {
        json!({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})
    }

    #[test]
    fn principal_forms() {
        assert_eq!(base(allow(json!("*"))), Some(90));
        assert_eq!(base(allow(json!({"AWS": "*"}))), Some(90));
        assert_eq!(base(allow(json!({"AWS": "444455556666"}))), Some(70));
        assert_eq!(
            base(allow(json!({"AWS": "arn:aws:iam::444455556666:root"}))),
            Some(70)
        );
        assert_eq!(
            base(allow(json!({"AWS": "arn:aws:iam::444455556666:role/ci"}))),
            Some(70)
        );
        assert_eq!(
            base(allow(json!({"AWS": "arn:aws:iam::444455556666:user/bob"}))),
            Some(70)
        );
        assert_eq!(
            base(allow(
                json!({"AWS": "arn:aws:sts::444455556666:assumed-role/ci/s"})
            )),
            Some(70)
        );
        assert_eq!(
            base(allow(
                json!({"AWS": "arn:aws-us-gov:iam::444455556666:root"})
            )),
            Some(70),
            "other partitions"
        );
        // The role's own account, in every form.
        for own in [
            json!({"AWS": OWN}),
            json!({"AWS": format!("arn:aws:iam::{OWN}:root")}),
            json!({"AWS": format!("arn:aws:iam::{OWN}:role/admin")}),
        ] {
            assert_eq!(base(allow(own.clone())), None, "{own}");
        }
        // A unique id (what IAM shows once a trusted role is deleted) names no account.
        assert_eq!(base(allow(json!({"AWS": "AROAEXAMPLEID"}))), None);
    }

    #[test]
    fn lists_of_principals_take_the_widest() {
        assert_eq!(base(allow(json!({"AWS": [OWN, "444455556666"]}))), Some(70));
        assert_eq!(base(allow(json!({"AWS": ["444455556666", "*"]}))), Some(90));
        assert_eq!(
            base(allow(
                json!({"AWS": [format!("arn:aws:iam::{OWN}:root")], "Service": "ec2.amazonaws.com"})
            )),
            None
        );
        // Several statements: the widest.
        let d = Value::String(
            json!({"Statement": [allow(json!({"Service": "lambda.amazonaws.com"})),
                                 allow(json!({"AWS": "444455556666"}))]})
            .to_string(),
        );
        assert!(matches!(
            read(Some(&d), OWN, &Context::new(&Policy::default())),
            Trust::Open(Opening { base: 70, .. })
        ));
        // A single statement object.
        let d = json!({"Statement": allow(json!("*"))});
        assert!(matches!(
            read(Some(&d), OWN, &Context::new(&Policy::default())),
            Trust::Open(Opening { base: 90, .. })
        ));
    }

    #[test]
    fn service_and_federated_principals() {
        assert_eq!(base(allow(json!({"Service": "ec2.amazonaws.com"}))), None);
        assert_eq!(
            base(allow(
                json!({"Service": ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"]})
            )),
            None
        );
        let saml = json!({"Effect": "Allow", "Action": "sts:AssumeRoleWithSAML",
            "Principal": {"Federated": format!("arn:aws:iam::{OWN}:saml-provider/Okta")},
            "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}});
        assert_eq!(base(saml), None, "own SAML provider");
        assert_eq!(
            base(allow(
                json!({"Federated": "arn:aws:iam::444455556666:saml-provider/Okta"})
            )),
            Some(70),
            "another account's SAML provider"
        );
        let github = |condition: Value| {
            json!({"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                "Principal": {"Federated":
                    format!("arn:aws:iam::{OWN}:oidc-provider/token.actions.githubusercontent.com")},
                "Condition": condition})
        };
        assert_eq!(
            base(github(json!({"StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}))),
            Some(70),
            "audience only: any repository"
        );
        assert_eq!(
            base(github(json!({"StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/app:*"}}))),
            None
        );
        let Trust::Open(o) = trust(github(json!({}))) else {
            panic!("open")
        };
        assert!(
            o.who
                .contains("token.actions.githubusercontent.com (no condition on"),
            "{}",
            o.who
        );
        let cognito = |condition: Value| {
            json!({"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                "Condition": condition})
        };
        assert_eq!(base(cognito(json!({}))), Some(70));
        assert_eq!(
            base(cognito(json!({"StringEquals": {
                "cognito-identity.amazonaws.com:aud": "us-east-1:0000-pool"}}))),
            None,
            "Cognito's identity pool"
        );
        assert_eq!(
            base(cognito(json!({"StringEquals": {
                "Cognito-Identity.amazonaws.com:SUB": "us-east-1:id"}}))),
            None,
            "condition keys are case-insensitive"
        );
    }

    #[test]
    fn not_principal_is_anyone() {
        let s = json!({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::444455556666:root"},
                       "Action": "sts:AssumeRole"});
        assert_eq!(base(s), Some(90));
    }

    #[test]
    fn conditions_narrow_anyone() {
        let with = |op: &str, key: &str, v: Value| {
            json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                   "Condition": {op: {key: v}}})
        };
        assert_eq!(
            base(with(
                "StringEquals",
                "aws:PrincipalOrgID",
                json!("o-abc123")
            )),
            Some(70)
        );
        assert_eq!(
            base(with("StringEquals", "sts:ExternalId", json!("x-1"))),
            Some(70)
        );
        assert_eq!(
            base(with(
                "ForAnyValue:StringLike",
                "aws:PrincipalOrgPaths",
                json!(["o-abc/r-1/ou-1/*"])
            )),
            Some(70)
        );
        assert_eq!(
            base(with(
                "StringEquals",
                "aws:PrincipalAccount",
                json!("444455556666")
            )),
            Some(70),
            "an outside account named in the condition"
        );
        // Safe: only the role's own account (the organization is unknown here).
        assert_eq!(
            base(with("StringEquals", "aws:PrincipalAccount", json!([OWN]))),
            None
        );
        // Not narrowing: a negated operator, IfExists, a bare wildcard, another key.
        assert_eq!(
            base(with(
                "StringNotEquals",
                "aws:PrincipalOrgID",
                json!("o-abc123")
            )),
            Some(90)
        );
        assert_eq!(
            base(with("StringEqualsIfExists", "sts:ExternalId", json!("x"))),
            Some(90)
        );
        assert_eq!(
            base(with("StringLike", "aws:PrincipalOrgID", json!("*"))),
            Some(90)
        );
        assert_eq!(
            base(with(
                "StringEquals",
                "aws:SourceIp",
                json!("203.0.113.0/24")
            )),
            Some(90)
        );
        // Conditions do not lower an outside account...
        let s = json!({"Effect": "Allow", "Principal": {"AWS": "444455556666"},
            "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "x"}}});
        assert_eq!(base(s), Some(70));
        // ... but aws:PrincipalAccount naming only inside accounts shuts out every other one.
        let s = json!({"Effect": "Allow", "Principal": {"AWS": "444455556666"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": OWN}}});
        assert_eq!(base(s), None);
        let s = json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
            "Condition": {"StringLike": {"aws:PrincipalAccount": "1111*"}}});
        assert_eq!(
            base(s),
            Some(70),
            "a wildcard account narrows but is not known inside"
        );
    }

    #[test]
    fn organization_accounts() {
        let policy = Policy::default();
        let org: BTreeSet<String> = [OWN, "222222222222"].map(String::from).into();
        let cx = Context::new(&policy).with_org_accounts(&org);
        let read_in = |s: Value| read(Some(&doc(s)), OWN, &cx);
        assert_eq!(
            read_in(allow(json!({"AWS": "222222222222"}))),
            Trust::Closed
        );
        let Trust::Open(o) = read_in(allow(json!({"AWS": "444455556666"}))) else {
            panic!("outside the organization")
        };
        assert_eq!(o.who, "account 444455556666 (outside the organization)");
        assert_eq!(o.base, 70);
        let s = json!({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": ["222222222222", OWN]}}});
        assert_eq!(read_in(s.clone()), Trust::Closed, "in-org accounts only");
        // Unknown organization: another account is outside.
        let Trust::Open(o) = trust(allow(json!({"AWS": "222222222222"}))) else {
            panic!("not the role's account")
        };
        assert_eq!(o.who, "account 222222222222 (not the role's own account)");
    }

    #[test]
    fn actions() {
        let with_action = |a: Value| json!({"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": a});
        for a in [
            json!("sts:AssumeRole"),
            json!("STS:assumerole"),
            json!(["sts:TagSession", "sts:AssumeRole"]),
            json!("sts:AssumeRole*"),
            json!("sts:Assume?ole"),
            json!("sts:*"),
            json!("*"),
            json!("sts:AssumeRoleWithWebIdentity"),
        ] {
            assert_eq!(base(with_action(a.clone())), Some(70), "{a}");
        }
        for a in [
            json!("sts:TagSession"),
            json!(["sts:SetSourceIdentity"]),
            json!("s3:*"),
        ] {
            assert_eq!(base(with_action(a.clone())), None, "{a}");
        }
        let not_action = |a: Value| json!({"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "NotAction": a});
        assert_eq!(base(not_action(json!("sts:TagSession"))), Some(70));
        assert_eq!(base(not_action(json!("sts:AssumeRole*"))), None);
        // Deny, and a statement with no action, allow nothing.
        assert_eq!(
            base(json!({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"})),
            None
        );
        assert_eq!(base(json!({"Effect": "Allow", "Principal": "*"})), None);
    }

    #[test]
    fn document_forms() {
        let cx_policy = Policy::default();
        let cx = Context::new(&cx_policy);
        let plain = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
        let encoded: String =
            percent_encoding::utf8_percent_encode(plain, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        for d in [plain.to_string(), encoded] {
            assert!(
                matches!(
                    read(Some(&Value::String(d.clone())), OWN, &cx),
                    Trust::Open(Opening { base: 90, .. })
                ),
                "{d}"
            );
        }
        // Form-encoded: `+` for spaces.
        let form = "%7B%22Statement%22%3A+%5B%7B%22Effect%22%3A+%22Allow%22%2C+%22Principal%22%3A+%22*%22%2C+%22Action%22%3A+%22sts%3AAssumeRole%22%7D%5D%7D";
        assert!(matches!(
            read(Some(&Value::String(form.into())), OWN, &cx),
            Trust::Open(Opening { base: 90, .. })
        ));
        // A JSON object as such (some producers log it parsed).
        let obj: Value = serde_json::from_str(plain).unwrap();
        assert!(matches!(read(Some(&obj), OWN, &cx), Trust::Open(_)));
        // No statement allows nothing.
        assert_eq!(read(Some(&json!("{}")), OWN, &cx), Trust::Closed);
    }

    #[test]
    fn unreadable_documents() {
        let p = Policy::default();
        let cx = Context::new(&p);
        let cases = [
            (Some(json!("{\"Statement\": [")), "not JSON"),
            (Some(json!("%7Bnot%20json")), "not JSON"),
            (Some(json!("[1, 2]")), "not a JSON object"),
            (Some(json!({"Statement": "x"})), "Statement is not"),
            (Some(Value::Null), "no trust policy document"),
            (None, "no trust policy document"),
        ];
        for (d, want) in cases {
            match read(d.as_ref(), OWN, &cx) {
                Trust::Unreadable(reason) => assert!(reason.contains(want), "{d:?}: {reason}"),
                other => panic!("{d:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("sts:*", "sts:assumerole"));
        assert!(wildcard("*", ""));
        assert!(wildcard("s*s:a*e", "sts:assumerole"));
        assert!(!wildcard("sts:assumerole", "sts:assumerolewithsaml"));
        assert!(wildcard("sts:assumerole?ithsaml", "sts:assumerolewithsaml"));
        assert!(!wildcard("sts:?", "sts:"));
    }
}
