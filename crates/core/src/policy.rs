//! The policy file (TOML): what is trusted, which OUs matter, what counts as admin, when to
//! ticket, and what to suppress. Every key is optional; a key that is set replaces its default.
//! Problems are reported with the file, the key and what is wrong.

use crate::glob::Glob;
use crate::net::Cidr;
use crate::Label;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// AWS managed policies that grant admin access, the default of `admin_policies`.
pub const DEFAULT_ADMIN_POLICIES: [&str; 2] = [
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:iam::aws:policy/IAMFullAccess",
];
/// The default of `trusted_services`.
pub const DEFAULT_TRUSTED_SERVICES: [&str; 1] = ["cloudformation.amazonaws.com"];

/// A validated policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub trusted_principals: Vec<Glob>,
    pub trusted_services: Vec<String>,
    pub trusted_cidrs: Vec<Cidr>,
    pub critical_ous: Vec<String>,
    pub sandbox_ous: Vec<String>,
    pub admin_policies: Vec<String>,
    pub admin_groups: Vec<String>,
    pub ticket_min_severity: Label,
    pub suppress: Vec<Suppression>,
    /// The `[inventory]` table: thresholds of the hygiene rules and where owners are found.
    pub inventory: InventoryPolicy,
}

/// The `[inventory]` table of the policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryPolicy {
    /// A credential not used for more than this many days is unused (default 90).
    pub unused_days: u32,
    /// A credential never used is unused once it is older than this many days (default 7).
    pub grace_days: u32,
    /// An active access key older than this many days is due for rotation (default 90).
    pub key_max_age_days: u32,
    /// The tags naming a user's owner, first match wins (default `owner`, `Owner`).
    pub owner_tags: Vec<String>,
}

/// The defaults of the `[inventory]` keys.
pub const DEFAULT_UNUSED_DAYS: u32 = 90;
pub const DEFAULT_GRACE_DAYS: u32 = 7;
pub const DEFAULT_KEY_MAX_AGE_DAYS: u32 = 90;
pub const DEFAULT_OWNER_TAGS: [&str; 2] = ["owner", "Owner"];

impl Default for InventoryPolicy {
    fn default() -> Self {
        InventoryPolicy {
            unused_days: DEFAULT_UNUSED_DAYS,
            grace_days: DEFAULT_GRACE_DAYS,
            key_max_age_days: DEFAULT_KEY_MAX_AGE_DAYS,
            owner_tags: DEFAULT_OWNER_TAGS.map(String::from).to_vec(),
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            trusted_principals: Vec::new(),
            trusted_services: DEFAULT_TRUSTED_SERVICES.map(String::from).to_vec(),
            trusted_cidrs: Vec::new(),
            critical_ous: Vec::new(),
            sandbox_ous: Vec::new(),
            admin_policies: DEFAULT_ADMIN_POLICIES.map(String::from).to_vec(),
            admin_groups: Vec::new(),
            ticket_min_severity: Label::High,
            suppress: Vec::new(),
            inventory: InventoryPolicy::default(),
        }
    }
}

/// A `[[suppress]]` entry: every key that is set must match; `reason` is required.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    pub account: Option<String>,
    pub rule: Option<String>,
    pub actor: Option<Glob>,
    pub user: Option<Glob>,
    pub reason: String,
}

/// A problem in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub file: String,
    pub key: String,
    pub problem: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "policy file {}: {}", self.file, self.problem)
        } else {
            write!(
                f,
                "policy file {}: key `{}`: {}",
                self.file, self.key, self.problem
            )
        }
    }
}

impl std::error::Error for PolicyError {}

/// The file as written: every key optional, no other key allowed. Values are checked here for
/// their TOML type, and in [`Policy::from_toml_with_rules`] for their meaning.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    trusted_principals: Option<Strings>,
    trusted_services: Option<Strings>,
    trusted_cidrs: Option<Strings>,
    critical_ous: Option<Strings>,
    sandbox_ous: Option<Strings>,
    admin_policies: Option<Strings>,
    admin_groups: Option<Strings>,
    ticket_min_severity: Option<Str>,
    #[serde(default)]
    suppress: Suppressions,
    inventory: Option<RawInventory>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an [inventory] table")]
struct RawInventory {
    unused_days: Option<Days>,
    grace_days: Option<Days>,
    key_max_age_days: Option<Days>,
    owner_tags: Option<Strings>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuppression {
    account: Option<Str>,
    rule: Option<Str>,
    actor: Option<Str>,
    user: Option<Str>,
    reason: Option<Str>,
}

/// What a TOML value is, with its article, for messages: "a string", "an integer".
struct Found(&'static str);

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let article = if self.0.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        write!(f, "{article} {}", self.0)
    }
}

/// A visitor that takes one TOML shape and names any other as `expected X, found Y`.
macro_rules! wrong_types {
    ($expected:literal) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(E::custom(format!(
                "expected {}, found {}",
                $expected,
                Found("boolean")
            )))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(E::custom(format!(
                "expected {}, found {}",
                $expected,
                Found("integer")
            )))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(E::custom(format!(
                "expected {}, found {}",
                $expected,
                Found("integer")
            )))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(E::custom(format!(
                "expected {}, found {}",
                $expected,
                Found("float")
            )))
        }
        fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(de::Error::custom(format!(
                "expected {}, found {}",
                $expected,
                Found("table")
            )))
        }
    };
}

/// A string.
#[derive(Default)]
struct Str(String);

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str, E> {
                Ok(Str(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Str, E> {
                Ok(Str(v))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Str, A::Error> {
                Err(de::Error::custom(format!(
                    "expected a string, found {}",
                    Found("array")
                )))
            }
            wrong_types!("a string");
        }
        d.deserialize_any(V)
    }
}

/// A list of strings.
#[derive(Default)]
struct Strings(Vec<String>);

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Strings;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of strings")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Strings, E> {
                Err(E::custom(format!(
                    "expected a list of strings, found {}",
                    Found("string")
                )))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Strings, A::Error> {
                let mut out = Vec::new();
                while let Some(Str(s)) = seq.next_element()? {
                    out.push(s);
                }
                Ok(Strings(out))
            }
            wrong_types!("a list of strings");
        }
        d.deserialize_any(V)
    }
}

/// A whole number of days, 0 to 36500.
struct Days(u32);

impl<'de> Deserialize<'de> for Days {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const EXPECTED: &str = "expected a number of days (an integer from 0 to 36500)";
        impl<'de> Visitor<'de> for V {
            type Value = Days;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of days")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Days, E> {
                match u32::try_from(v) {
                    Ok(n) if n <= 36_500 => Ok(Days(n)),
                    _ => Err(E::custom(format!("{EXPECTED}, found {v}"))),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Days, E> {
                match u32::try_from(v) {
                    Ok(n) if n <= 36_500 => Ok(Days(n)),
                    _ => Err(E::custom(format!("{EXPECTED}, found {v}"))),
                }
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Days, E> {
                Err(E::custom(format!("{EXPECTED}, found {}", Found("boolean"))))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Days, E> {
                Err(E::custom(format!("{EXPECTED}, found {}", Found("float"))))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Days, E> {
                Err(E::custom(format!("{EXPECTED}, found {}", Found("string"))))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Days, A::Error> {
                Err(de::Error::custom(format!(
                    "{EXPECTED}, found {}",
                    Found("array")
                )))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<Days, A::Error> {
                Err(de::Error::custom(format!(
                    "{EXPECTED}, found {}",
                    Found("table")
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// The `[[suppress]]` tables.
#[derive(Default)]
struct Suppressions(Vec<RawSuppression>);

impl<'de> Deserialize<'de> for Suppressions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Suppressions;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("[[suppress]] tables")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element()? {
                    out.push(s);
                }
                Ok(Suppressions(out))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Err(E::custom("expected [[suppress]] tables"))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Err(E::custom("expected [[suppress]] tables"))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Err(E::custom("expected [[suppress]] tables"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Err(E::custom("expected [[suppress]] tables"))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
                Err(de::Error::custom("expected [[suppress]] tables"))
            }
        }
        d.deserialize_any(V)
    }
}

/// The key and problem of a deserialization error: serde's path in our notation
/// (`suppress[0].reason`), and the message, with serde's unknown-field wording made ours.
fn key_and_problem(e: serde_path_to_error::Error<toml::de::Error>) -> (String, String) {
    let mut key = String::new();
    for seg in e.path().iter() {
        match seg {
            serde_path_to_error::Segment::Seq { index } => key.push_str(&format!("[{index}]")),
            serde_path_to_error::Segment::Map { key: k } => {
                if !key.is_empty() {
                    key.push('.');
                }
                key.push_str(k);
            }
            serde_path_to_error::Segment::Enum { variant } => key.push_str(variant),
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    let message = e.inner().message().to_string();
    if message.starts_with("unknown field `") {
        // The path ends with the unknown key; serde lists the struct's fields:
        // "expected one of `a`, `b`".
        let expected = message
            .split_once("expected one of ")
            .map(|(_, list)| list.replace('`', ""))
            .unwrap_or_default();
        return (key, format!("unknown key; expected one of {expected}"));
    }
    (key, message)
}

impl Policy {
    /// Parses and validates policy TOML; `file` names the source in errors; a `[[suppress]]`
    /// entry's `rule` must be one of `rule_ids` (the rule catalog, passed in by
    /// [`Policy::from_toml`], so that the policy does not depend on the rules).
    pub fn from_toml_with_rules(
        text: &str,
        file: &str,
        rule_ids: &[&str],
    ) -> Result<Policy, PolicyError> {
        let err = |key: &str, problem: String| PolicyError {
            file: file.to_string(),
            key: key.to_string(),
            problem,
        };
        // Syntax first, so that a syntax error says so and where.
        toml::from_str::<toml::Table>(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            err("", format!("not valid TOML: {}{at}", e.message()))
        })?;
        let raw: RawPolicy = serde_path_to_error::deserialize(toml::Deserializer::new(text))
            .map_err(|e| {
                let (key, problem) = key_and_problem(e);
                err(&key, problem)
            })?;

        let mut p = Policy::default();
        if let Some(Strings(v)) = raw.trusted_principals {
            p.trusted_principals = globs(&v, "trusted_principals", &err)?;
        }
        if let Some(Strings(v)) = raw.trusted_services {
            p.trusted_services = non_empty(v, "trusted_services", &err)?;
        }
        if let Some(Strings(v)) = raw.trusted_cidrs {
            p.trusted_cidrs = v
                .iter()
                .enumerate()
                .map(|(i, c)| Cidr::parse(c).map_err(|e| err(&format!("trusted_cidrs[{i}]"), e)))
                .collect::<Result<_, _>>()?;
        }
        if let Some(Strings(v)) = raw.critical_ous {
            p.critical_ous = non_empty(v, "critical_ous", &err)?;
        }
        if let Some(Strings(v)) = raw.sandbox_ous {
            p.sandbox_ous = non_empty(v, "sandbox_ous", &err)?;
        }
        if let Some(Strings(v)) = raw.admin_policies {
            for (i, arn) in v.iter().enumerate() {
                if !arn.starts_with("arn:") || arn.split(':').count() < 6 {
                    return Err(err(
                        &format!("admin_policies[{i}]"),
                        format!("{arn:?} is not a policy ARN (arn:aws:iam::ACCOUNT:policy/NAME)"),
                    ));
                }
            }
            p.admin_policies = v;
        }
        if let Some(Strings(v)) = raw.admin_groups {
            p.admin_groups = non_empty(v, "admin_groups", &err)?;
        }
        if let Some(Str(s)) = raw.ticket_min_severity {
            p.ticket_min_severity = Label::parse(&s).ok_or_else(|| {
                err(
                    "ticket_min_severity",
                    format!("{s:?} is not a severity (INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL)"),
                )
            })?;
        }
        if let Some(inv) = raw.inventory {
            let at_least_one = |v: Option<Days>, key: &str| match v {
                Some(Days(0)) => Err(err(
                    &format!("inventory.{key}"),
                    "must be at least 1 day, found 0".to_string(),
                )),
                Some(Days(n)) => Ok(Some(n)),
                None => Ok(None),
            };
            if let Some(n) = at_least_one(inv.unused_days, "unused_days")? {
                p.inventory.unused_days = n;
            }
            if let Some(Days(n)) = inv.grace_days {
                p.inventory.grace_days = n;
            }
            if let Some(n) = at_least_one(inv.key_max_age_days, "key_max_age_days")? {
                p.inventory.key_max_age_days = n;
            }
            if let Some(Strings(v)) = inv.owner_tags {
                p.inventory.owner_tags = non_empty(v, "inventory.owner_tags", &err)?;
            }
        }
        for (i, s) in raw.suppress.0.into_iter().enumerate() {
            let unwrap = |v: Option<Str>| v.map(|Str(s)| s);
            let (account, rule, actor, user, reason) = (
                unwrap(s.account),
                unwrap(s.rule),
                unwrap(s.actor),
                unwrap(s.user),
                unwrap(s.reason),
            );
            let key = |k: &str| format!("suppress[{i}].{k}");
            let reason = match reason {
                Some(r) if !r.trim().is_empty() => r,
                _ => {
                    return Err(err(
                        &key("reason"),
                        "every suppression needs a reason".to_string(),
                    ))
                }
            };
            if let Some(a) = &account {
                if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err(
                        &key("account"),
                        format!("{a:?} is not a 12-digit account id"),
                    ));
                }
            }
            if let Some(r) = &rule {
                if !rule_ids.contains(&r.as_str()) {
                    return Err(err(
                        &key("rule"),
                        format!(
                            "unknown rule id {r:?}; rule ids are: {}",
                            rule_ids.join(", ")
                        ),
                    ));
                }
            }
            let glob = |v: Option<String>, k: &str| {
                v.map(|g| Glob::new(&g).map_err(|e| err(&key(k), e)))
                    .transpose()
            };
            let actor = glob(actor, "actor")?;
            let user = glob(user, "user")?;
            if account.is_none() && rule.is_none() && actor.is_none() && user.is_none() {
                return Err(err(
                    &format!("suppress[{i}]"),
                    "a suppression must name at least one of account, rule, actor, user"
                        .to_string(),
                ));
            }
            p.suppress.push(Suppression {
                account,
                rule,
                actor,
                user,
                reason,
            });
        }
        Ok(p)
    }

    /// Whether `arn` matches a trusted principal glob.
    pub fn trusted_principal(&self, arn: &str) -> Option<&Glob> {
        self.trusted_principals.iter().find(|g| g.matches(arn))
    }
}

fn globs(
    v: &[String],
    key: &str,
    err: &dyn Fn(&str, String) -> PolicyError,
) -> Result<Vec<Glob>, PolicyError> {
    v.iter()
        .enumerate()
        .map(|(i, g)| Glob::new(g).map_err(|e| err(&format!("{key}[{i}]"), e)))
        .collect()
}

fn non_empty(
    v: Vec<String>,
    key: &str,
    err: &dyn Fn(&str, String) -> PolicyError,
) -> Result<Vec<String>, PolicyError> {
    if let Some(i) = v.iter().position(|s| s.trim().is_empty()) {
        return Err(err(&format!("{key}[{i}]"), "empty string".to_string()));
    }
    Ok(v)
}

impl Suppression {
    /// Whether this entry matches an event of `account` by `actor_arns` (the caller ARN and, for
    /// an assumed role, the issuing role's ARN) that `rule` detected about `user`.
    pub fn matches(
        &self,
        account: &str,
        rule: &str,
        actor_arns: &[&str],
        user: Option<&str>,
    ) -> bool {
        self.account.as_deref().is_none_or(|a| a == account)
            && self.rule.as_deref().is_none_or(|r| r == rule)
            && self
                .actor
                .as_ref()
                .is_none_or(|g| actor_arns.iter().any(|a| g.matches(a)))
            && self
                .user
                .as_ref()
                .is_none_or(|g| user.is_some_and(|u| g.matches(u)))
    }
}

#[cfg(test)]
mod tests {
    use super::Policy;

    fn problem(text: &str) -> String {
        Policy::from_toml(text, "p.toml").unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_key() {
        assert_eq!(
            problem("trusted_cidrs = \"10.0.0.0/8\""),
            "policy file p.toml: key `trusted_cidrs`: expected a list of strings, found a string"
        );
        assert_eq!(
            problem("critical_ous = [\"Prod\", 5]"),
            "policy file p.toml: key `critical_ous[1]`: expected a string, found an integer"
        );
        assert!(problem("[[suppress]]\nreasn = \"x\"")
            .starts_with("policy file p.toml: key `suppress[0].reasn`: unknown key"));
        assert!(problem("trusted_principal = []")
            .starts_with("policy file p.toml: key `trusted_principal`: unknown key"));
        assert!(problem("admin_groups = [").contains("not valid TOML"));
        assert!(problem("admin_policies = [\"AdministratorAccess\"]")
            .contains("key `admin_policies[0]`"));
        assert!(problem("[[suppress]]\nreason = \"x\"")
            .contains("at least one of account, rule, actor, user"));
        assert!(problem("[[suppress]]\naccount = \"12\"\nreason = \"x\"").contains("12-digit"));
    }

    #[test]
    fn inventory_keys_default_and_are_checked() {
        let d = Policy::from_toml("", "p.toml").unwrap().inventory;
        assert_eq!(
            (d.unused_days, d.grace_days, d.key_max_age_days),
            (90, 7, 90)
        );
        assert_eq!(d.owner_tags, ["owner", "Owner"]);
        let p = Policy::from_toml(
            "[inventory]\nunused_days = 30\ngrace_days = 0\nkey_max_age_days = 365\n\
             owner_tags = [\"team\"]\n",
            "p.toml",
        )
        .unwrap()
        .inventory;
        assert_eq!(
            (p.unused_days, p.grace_days, p.key_max_age_days),
            (30, 0, 365)
        );
        assert_eq!(p.owner_tags, ["team"]);
        // Only the keys set replace their defaults.
        let p = Policy::from_toml("[inventory]\ngrace_days = 14\n", "p.toml")
            .unwrap()
            .inventory;
        assert_eq!((p.unused_days, p.grace_days), (90, 14));

        assert_eq!(
            problem("[inventory]\nunused_days = \"90\""),
            "policy file p.toml: key `inventory.unused_days`: expected a number of days \
             (an integer from 0 to 36500), found a string"
        );
        assert_eq!(
            problem("[inventory]\ngrace_days = -1"),
            "policy file p.toml: key `inventory.grace_days`: expected a number of days \
             (an integer from 0 to 36500), found -1"
        );
        assert_eq!(
            problem("[inventory]\nunused_days = 0"),
            "policy file p.toml: key `inventory.unused_days`: must be at least 1 day, found 0"
        );
        assert_eq!(
            problem("[inventory]\nkey_max_age_days = 0"),
            "policy file p.toml: key `inventory.key_max_age_days`: must be at least 1 day, found 0"
        );
        assert_eq!(
            problem("[inventory]\nowner_tags = [\"\"]"),
            "policy file p.toml: key `inventory.owner_tags[0]`: empty string"
        );
        assert!(problem("[inventory]\nunused = 3")
            .starts_with("policy file p.toml: key `inventory.unused`: unknown key"));
        assert_eq!(
            problem("inventory = 3"),
            "policy file p.toml: key `inventory`: invalid type: integer `3`, expected an [inventory] table"
        );
    }
}
