//! The environment of a function, read once at start-up through a lookup (the process
//! environment in `main`, a map in tests). Values are trimmed; an empty value counts as unset.
//! Every error names the variable.

use iamwatch_core::Policy;
use std::path::{Path, PathBuf};

/// Role assumed in each member account when `IAMWATCH_MEMBER_ROLE` is unset.
pub const DEFAULT_MEMBER_ROLE: &str = "iamwatch-member";

/// Region findings are filed in when neither `AWS_REGION` nor `AWS_DEFAULT_REGION` is set.
pub const DEFAULT_REGION: &str = "us-east-1";

/// A variable that is missing or invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name}: {problem}")]
    Invalid { name: &'static str, problem: String },
}

/// The environment, through a lookup (a variable's value, `None` when unset).
pub struct Env<L> {
    lookup: L,
}

impl Env<fn(&str) -> Option<String>> {
    /// The process environment.
    pub fn process() -> Self {
        Env {
            lookup: |name| std::env::var(name).ok(),
        }
    }
}

impl<L: Fn(&str) -> Option<String>> Env<L> {
    pub fn new(lookup: L) -> Self {
        Env { lookup }
    }

    /// The trimmed value; `None` when unset or empty.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// The value, or [`ConfigError::Missing`].
    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.get(name).ok_or(ConfigError::Missing(name))
    }

    /// The value or `default`.
    pub fn or(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_string())
    }

    /// An http(s) URL.
    pub fn url(&self, name: &'static str, value: String) -> Result<String, ConfigError> {
        if value.starts_with("https://") || value.starts_with("http://") {
            Ok(value)
        } else {
            Err(ConfigError::Invalid {
                name,
                problem: format!("{value:?} is not an http(s) URL"),
            })
        }
    }

    /// An http(s) URL when set; `None` when unset.
    pub fn optional_url(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        self.get(name).map(|v| self.url(name, v)).transpose()
    }

    /// The name of a role (`default` when unset); an ARN, a path or whitespace is refused.
    pub fn role_name(&self, name: &'static str, default: &str) -> Result<String, ConfigError> {
        let role = self.or(name, default);
        if role.contains([':', '/']) || role.contains(char::is_whitespace) {
            return Err(ConfigError::Invalid {
                name,
                problem: format!("{role:?} is not a role name (give the name, not an ARN or path)"),
            });
        }
        Ok(role)
    }

    /// `IAMWATCH_MEMBER_ROLE`: the name of the role assumed in each member account
    /// ([`DEFAULT_MEMBER_ROLE`] when unset); an ARN, a path or whitespace is refused.
    pub fn member_role(&self) -> Result<String, ConfigError> {
        self.role_name("IAMWATCH_MEMBER_ROLE", DEFAULT_MEMBER_ROLE)
    }

    /// `IAMWATCH_ORG_ROLE_ARN`: the role in the management account for Organizations reads;
    /// `None` when unset (Organizations is read with the caller's own credentials). A value that
    /// is not an IAM role ARN is refused.
    pub fn org_role_arn(&self) -> Result<Option<String>, ConfigError> {
        const NAME: &str = "IAMWATCH_ORG_ROLE_ARN";
        let arn = self.get(NAME);
        if let Some(arn) = &arn {
            if !(arn.starts_with("arn:") && arn.contains(":iam::") && arn.contains(":role/")) {
                return Err(ConfigError::Invalid {
                    name: NAME,
                    problem: format!("{arn:?} is not an IAM role ARN"),
                });
            }
        }
        Ok(arn)
    }

    /// `IAMWATCH_RUNBOOK_BASE_URL`: base URL of the runbooks as the operator serves them; unset,
    /// findings name the runbook's path in the project (no made-up default).
    pub fn runbook_base_url(&self) -> Result<Option<String>, ConfigError> {
        self.optional_url("IAMWATCH_RUNBOOK_BASE_URL")
    }

    /// `AWS_REGION` (set by Lambda), else `AWS_DEFAULT_REGION`, else [`DEFAULT_REGION`]: where
    /// findings are filed.
    pub fn region(&self) -> String {
        self.get("AWS_REGION")
            .or_else(|| self.get("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| DEFAULT_REGION.to_string())
    }

    /// `IAMWATCH_POLICY_FILE`: the policy TOML shared by the functions; read it with
    /// [`load_policy`].
    pub fn policy_file(&self) -> Option<PathBuf> {
        self.get(POLICY_FILE).map(PathBuf::from)
    }
}

const POLICY_FILE: &str = "IAMWATCH_POLICY_FILE";

/// The policy of `IAMWATCH_POLICY_FILE`: the file's when set, else the default. Errors name the
/// variable, the file and the problem.
pub fn load_policy(path: Option<&Path>) -> Result<Policy, ConfigError> {
    let Some(path) = path else {
        return Ok(Policy::default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid {
        name: POLICY_FILE,
        problem: format!("cannot read {}: {e}", path.display()),
    })?;
    Policy::from_toml(&text, &path.display().to_string()).map_err(|e| ConfigError::Invalid {
        name: POLICY_FILE,
        problem: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::vars;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        Env::new(vars(pairs))
    }

    #[test]
    fn values_are_trimmed_and_empty_is_unset() {
        let e = env(&[("A", " x "), ("B", "  ")]);
        assert_eq!(e.get("A").as_deref(), Some("x"));
        assert_eq!(e.get("B"), None);
        assert_eq!(e.required("B"), Err(ConfigError::Missing("B")));
        assert_eq!(e.or("C", "d"), "d");
        let err = e.url("A", "x".into()).unwrap_err();
        assert!(err.to_string().contains("environment variable A"), "{err}");
    }

    #[test]
    fn the_member_role_is_a_name() {
        assert_eq!(env(&[]).member_role().unwrap(), DEFAULT_MEMBER_ROLE);
        assert_eq!(
            env(&[("IAMWATCH_MEMBER_ROLE", "watcher")])
                .member_role()
                .unwrap(),
            "watcher"
        );
        for bad in ["arn:aws:iam::1:role/x", "path/role", "two words"] {
            let err = env(&[("IAMWATCH_MEMBER_ROLE", bad)])
                .member_role()
                .unwrap_err();
            assert!(err.to_string().contains("IAMWATCH_MEMBER_ROLE"), "{err}");
        }
    }

    #[test]
    fn the_policy_file_is_read_or_named_in_the_error() {
        assert_eq!(load_policy(None).unwrap(), Policy::default());
        let dir = std::env::temp_dir().join(format!("iamwatch-lambda-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("policy.toml");
        std::fs::write(&file, "ticket_min_severity = \"MEDIUM\"\n").unwrap();
        let e = env(&[("IAMWATCH_POLICY_FILE", file.to_str().unwrap())]);
        let p = load_policy(e.policy_file().as_deref()).unwrap();
        assert_eq!(p.ticket_min_severity.min_score(), 40);
        std::fs::write(&file, "ticket_min_severity = \"SEVERE\"\n").unwrap();
        let err = load_policy(e.policy_file().as_deref()).unwrap_err();
        assert!(err.to_string().contains("IAMWATCH_POLICY_FILE"), "{err}");
        let err = load_policy(Some(Path::new("/nonexistent/policy.toml"))).unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
