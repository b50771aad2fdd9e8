//! The policy file (TOML): what is trusted, which OUs matter, what counts as admin, when to
//! ticket, and what to suppress. Every key is optional; a key that is set replaces its default.
//! Problems are reported with the file, the key and what is wrong.

use crate::glob::Glob;
use crate::net::Cidr;
use crate::Label;
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

#[derive(Default)]
struct RawPolicy {
    trusted_principals: Option<Vec<String>>,
    trusted_services: Option<Vec<String>>,
    trusted_cidrs: Option<Vec<String>>,
    critical_ous: Option<Vec<String>>,
    sandbox_ous: Option<Vec<String>>,
    admin_policies: Option<Vec<String>>,
    admin_groups: Option<Vec<String>>,
    ticket_min_severity: Option<String>,
    suppress: Vec<RawSuppression>,
}

#[derive(Default)]
struct RawSuppression {
    account: Option<String>,
    rule: Option<String>,
    actor: Option<String>,
    user: Option<String>,
    reason: Option<String>,
}

const POLICY_KEYS: [&str; 9] = [
    "trusted_principals",
    "trusted_services",
    "trusted_cidrs",
    "critical_ous",
    "sandbox_ous",
    "admin_policies",
    "admin_groups",
    "ticket_min_severity",
    "suppress",
];
const SUPPRESS_KEYS: [&str; 5] = ["account", "rule", "actor", "user", "reason"];

/// A TOML value's type with its article, for messages: "a string", "an integer".
fn kind(v: &toml::Value) -> String {
    let t = v.type_str();
    let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {t}")
}

fn list_of_strings(key: &str, v: toml::Value) -> Result<Vec<String>, (String, String)> {
    let toml::Value::Array(items) = v else {
        return Err((
            key.to_string(),
            format!("expected a list of strings, found {}", kind(&v)),
        ));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            toml::Value::String(s) => Ok(s),
            other => Err((
                format!("{key}[{i}]"),
                format!("expected a string, found {}", kind(&other)),
            )),
        })
        .collect()
}

fn string(key: &str, v: toml::Value) -> Result<String, (String, String)> {
    match v {
        toml::Value::String(s) => Ok(s),
        other => Err((
            key.to_string(),
            format!("expected a string, found {}", kind(&other)),
        )),
    }
}

/// Reads the file's keys, naming the key of every problem.
fn raw_policy(table: toml::Table) -> Result<RawPolicy, (String, String)> {
    let mut raw = RawPolicy::default();
    for (key, value) in table {
        match key.as_str() {
            "trusted_principals" => raw.trusted_principals = Some(list_of_strings(&key, value)?),
            "trusted_services" => raw.trusted_services = Some(list_of_strings(&key, value)?),
            "trusted_cidrs" => raw.trusted_cidrs = Some(list_of_strings(&key, value)?),
            "critical_ous" => raw.critical_ous = Some(list_of_strings(&key, value)?),
            "sandbox_ous" => raw.sandbox_ous = Some(list_of_strings(&key, value)?),
            "admin_policies" => raw.admin_policies = Some(list_of_strings(&key, value)?),
            "admin_groups" => raw.admin_groups = Some(list_of_strings(&key, value)?),
            "ticket_min_severity" => raw.ticket_min_severity = Some(string(&key, value)?),
            "suppress" => {
                let toml::Value::Array(entries) = value else {
                    return Err((key, "expected [[suppress]] tables".to_string()));
                };
                for (i, entry) in entries.into_iter().enumerate() {
                    let toml::Value::Table(t) = entry else {
                        return Err((format!("suppress[{i}]"), "expected a table".to_string()));
                    };
                    let mut s = RawSuppression::default();
                    for (k, v) in t {
                        let name = format!("suppress[{i}].{k}");
                        let slot = match k.as_str() {
                            "account" => &mut s.account,
                            "rule" => &mut s.rule,
                            "actor" => &mut s.actor,
                            "user" => &mut s.user,
                            "reason" => &mut s.reason,
                            _ => {
                                return Err((
                                    name,
                                    format!(
                                        "unknown key; expected one of {}",
                                        SUPPRESS_KEYS.join(", ")
                                    ),
                                ))
                            }
                        };
                        *slot = Some(string(&name, v)?);
                    }
                    raw.suppress.push(s);
                }
            }
            _ => {
                return Err((
                    key,
                    format!("unknown key; expected one of {}", POLICY_KEYS.join(", ")),
                ))
            }
        }
    }
    Ok(raw)
}

impl Policy {
    /// Parses and validates policy TOML; `file` names the source in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Policy, PolicyError> {
        let err = |key: &str, problem: String| PolicyError {
            file: file.to_string(),
            key: key.to_string(),
            problem,
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            err("", format!("not valid TOML: {}{at}", e.message()))
        })?;
        let raw = raw_policy(table).map_err(|(key, problem)| err(&key, problem))?;

        let mut p = Policy::default();
        if let Some(v) = raw.trusted_principals {
            p.trusted_principals = globs(&v, "trusted_principals", &err)?;
        }
        if let Some(v) = raw.trusted_services {
            p.trusted_services = non_empty(v, "trusted_services", &err)?;
        }
        if let Some(v) = raw.trusted_cidrs {
            p.trusted_cidrs = v
                .iter()
                .enumerate()
                .map(|(i, c)| Cidr::parse(c).map_err(|e| err(&format!("trusted_cidrs[{i}]"), e)))
                .collect::<Result<_, _>>()?;
        }
        if let Some(v) = raw.critical_ous {
            p.critical_ous = non_empty(v, "critical_ous", &err)?;
        }
        if let Some(v) = raw.sandbox_ous {
            p.sandbox_ous = non_empty(v, "sandbox_ous", &err)?;
        }
        if let Some(v) = raw.admin_policies {
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
        if let Some(v) = raw.admin_groups {
            p.admin_groups = non_empty(v, "admin_groups", &err)?;
        }
        if let Some(s) = raw.ticket_min_severity {
            p.ticket_min_severity = Label::parse(&s).ok_or_else(|| {
                err(
                    "ticket_min_severity",
                    format!("{s:?} is not a severity (INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL)"),
                )
            })?;
        }
        for (i, s) in raw.suppress.into_iter().enumerate() {
            let key = |k: &str| format!("suppress[{i}].{k}");
            let reason = match s.reason {
                Some(r) if !r.trim().is_empty() => r,
                _ => {
                    return Err(err(
                        &key("reason"),
                        "every suppression needs a reason".to_string(),
                    ))
                }
            };
            if let Some(a) = &s.account {
                if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err(
                        &key("account"),
                        format!("{a:?} is not a 12-digit account id"),
                    ));
                }
            }
            if let Some(r) = &s.rule {
                if crate::rules::by_id(r).is_none() {
                    return Err(err(
                        &key("rule"),
                        format!(
                            "unknown rule id {r:?}; rule ids are: {}",
                            crate::rules::RULE_IDS.join(", ")
                        ),
                    ));
                }
            }
            let glob = |v: Option<String>, k: &str| {
                v.map(|g| Glob::new(&g).map_err(|e| err(&key(k), e)))
                    .transpose()
            };
            let actor = glob(s.actor, "actor")?;
            let user = glob(s.user, "user")?;
            if s.account.is_none() && s.rule.is_none() && actor.is_none() && user.is_none() {
                return Err(err(
                    &format!("suppress[{i}]"),
                    "a suppression must name at least one of account, rule, actor, user"
                        .to_string(),
                ));
            }
            p.suppress.push(Suppression {
                account: s.account,
                rule: s.rule,
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
}
