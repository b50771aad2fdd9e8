//! The detect function's configuration, read once from the environment (see
//! `docs/contracts.md`, "Environment of the detect function").

use iamwatch_core::{FindingContext, Policy};
use iamwatch_lambda::env::{load_policy, ConfigError, Env};
use std::path::PathBuf;
use std::time::Duration;

/// Enrichment cache lifetime when `IAMWATCH_CACHE_TTL_SECONDS` is unset.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);

/// The detect function's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `IAMWATCH_EVENT_BUS`: name or ARN of the bus finding events go to.
    pub event_bus: String,
    /// `IAMWATCH_MEMBER_ROLE`: role name assumed in each member account.
    pub member_role: String,
    /// `IAMWATCH_ORG_ROLE_ARN`: role in the management account for Organizations reads; when
    /// unset, Organizations is read with the function's own credentials.
    pub org_role_arn: Option<String>,
    /// `IAMWATCH_POLICY_FILE`: the policy TOML; the default policy when unset.
    pub policy_file: Option<PathBuf>,
    /// `IAMWATCH_RUNBOOK_BASE_URL`: base URL of `runbooks/` as the operator serves them; unset,
    /// findings name the runbook's path in the project instead of a link.
    pub runbook_base_url: Option<String>,
    /// `IAMWATCH_CACHE_TTL_SECONDS`: enrichment cache lifetime.
    pub cache_ttl: Duration,
    /// `AWS_REGION` (set by Lambda): where findings are filed; `us-east-1` when unset.
    pub region: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::read(&Env::process())
    }

    /// Reads the configuration through `lookup` (a variable's value, `None` when unset); an
    /// empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        Config::read(&Env::new(lookup))
    }

    fn read<L: Fn(&str) -> Option<String>>(env: &Env<L>) -> Result<Config, ConfigError> {
        let event_bus = env.required("IAMWATCH_EVENT_BUS")?;
        let member_role = env.member_role()?;
        let org_role_arn = env.org_role_arn()?;
        // No made-up default: without a base URL, findings name the runbook's path.
        let runbook_base_url = env.runbook_base_url()?;
        let cache_ttl = match env.get("IAMWATCH_CACHE_TTL_SECONDS") {
            None => DEFAULT_CACHE_TTL,
            Some(v) => Duration::from_secs(v.parse::<u64>().map_err(|_| ConfigError::Invalid {
                name: "IAMWATCH_CACHE_TTL_SECONDS",
                problem: format!("{v:?} is not a whole number of seconds"),
            })?),
        };
        let region = env.region();
        Ok(Config {
            event_bus,
            member_role,
            org_role_arn,
            policy_file: env.policy_file(),
            runbook_base_url,
            cache_ttl,
            region,
        })
    }

    /// The policy: the file's when `IAMWATCH_POLICY_FILE` is set, else the default.
    pub fn load_policy(&self) -> Result<Policy, ConfigError> {
        load_policy(self.policy_file.as_deref())
    }

    /// Where findings are filed and what they link to.
    pub fn finding_context(&self) -> FindingContext {
        FindingContext::for_region(&self.region, self.runbook_base_url.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamwatch_lambda::testing::vars;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(vars(pairs))
    }

    #[test]
    fn defaults_apply_and_event_bus_is_required() {
        assert_eq!(cfg(&[]), Err(ConfigError::Missing("IAMWATCH_EVENT_BUS")));
        let c = cfg(&[("IAMWATCH_EVENT_BUS", "iamwatch")]).unwrap();
        assert_eq!(c.member_role, "iamwatch-member");
        assert_eq!(c.org_role_arn, None);
        assert_eq!(c.cache_ttl, Duration::from_secs(300));
        assert_eq!(c.region, "us-east-1");
        assert_eq!(
            c.finding_context().runbook_url("x"),
            None,
            "no made-up link"
        );
        assert_eq!(c.load_policy().unwrap(), Policy::default());
    }

    #[test]
    fn errors_name_the_variable() {
        let bus = ("IAMWATCH_EVENT_BUS", "iamwatch");
        for (vars, name) in [
            (
                vec![bus, ("IAMWATCH_CACHE_TTL_SECONDS", "5m")],
                "IAMWATCH_CACHE_TTL_SECONDS",
            ),
            (
                vec![bus, ("IAMWATCH_ORG_ROLE_ARN", "org-reader")],
                "IAMWATCH_ORG_ROLE_ARN",
            ),
            (
                vec![bus, ("IAMWATCH_MEMBER_ROLE", "arn:aws:iam::1:role/x")],
                "IAMWATCH_MEMBER_ROLE",
            ),
            (
                vec![bus, ("IAMWATCH_RUNBOOK_BASE_URL", "runbooks")],
                "IAMWATCH_RUNBOOK_BASE_URL",
            ),
            (
                vec![bus, ("IAMWATCH_POLICY_FILE", "/nonexistent/policy.toml")],
                "IAMWATCH_POLICY_FILE",
            ),
        ] {
            let err = cfg(&vars)
                .and_then(|c| c.load_policy().map(|_| c))
                .unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn set_values_are_taken() {
        let c = cfg(&[
            (
                "IAMWATCH_EVENT_BUS",
                " arn:aws:events:us-east-1:1:event-bus/iamwatch ",
            ),
            ("IAMWATCH_MEMBER_ROLE", "watcher"),
            (
                "IAMWATCH_ORG_ROLE_ARN",
                "arn:aws:iam::123456789012:role/iamwatch-org-reader",
            ),
            ("IAMWATCH_CACHE_TTL_SECONDS", "60"),
            ("IAMWATCH_RUNBOOK_BASE_URL", "https://example.com/rb/"),
            ("AWS_REGION", "us-gov-west-1"),
        ])
        .unwrap();
        assert_eq!(c.event_bus, "arn:aws:events:us-east-1:1:event-bus/iamwatch");
        assert_eq!(c.member_role, "watcher");
        assert_eq!(c.cache_ttl, Duration::from_secs(60));
        assert_eq!(c.finding_context().partition, "aws-us-gov");
        assert_eq!(
            c.finding_context().runbook_url("r").as_deref(),
            Some("https://example.com/rb/r.md")
        );
    }
}
