//! The ticket function's configuration, read once from the environment (`docs/ticketing.md`).

use iamwatch_lambda::env::{load_policy, ConfigError, Env};
use iamwatch_notify::JiraConfig;
use std::path::PathBuf;

/// Where Jira is and where its credentials are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JiraSettings {
    /// `IAMWATCH_JIRA_BASE_URL`, e.g. `https://example.atlassian.net`.
    pub base_url: String,
    /// `IAMWATCH_JIRA_PROJECT`: project key.
    pub project: String,
    /// `IAMWATCH_JIRA_SECRET_ARN`: secret `{"email": ..., "api_token": ...}`.
    pub secret_arn: String,
    /// `IAMWATCH_JIRA_ISSUE_TYPE`: issue type name (default `Task`).
    pub issue_type: String,
}

/// The ticket function's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketConfig {
    /// Jira, when `IAMWATCH_JIRA_BASE_URL` is set.
    pub jira: Option<JiraSettings>,
    /// `IAMWATCH_SLACK_SECRET_ARN`: secret `{"webhook_url": ...}`; no Slack when unset.
    pub slack_secret_arn: Option<String>,
    /// `IAMWATCH_MEMBER_ROLE`: role name assumed in the finding's account for the write-back.
    pub member_role: String,
    /// `IAMWATCH_POLICY_FILE`: the policy whose `ticket_min_severity` is the threshold (the
    /// same file as the detect function's); the default policy (HIGH) when unset.
    pub policy_file: Option<PathBuf>,
}

impl TicketConfig {
    pub fn from_env() -> Result<TicketConfig, ConfigError> {
        TicketConfig::read(&Env::process())
    }

    /// Reads the configuration through `lookup`; an empty value counts as unset.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<TicketConfig, ConfigError> {
        TicketConfig::read(&Env::new(lookup))
    }

    fn read<L: Fn(&str) -> Option<String>>(env: &Env<L>) -> Result<TicketConfig, ConfigError> {
        let jira = match env.get("IAMWATCH_JIRA_BASE_URL") {
            Some(base_url) => Some(JiraSettings {
                base_url: env.url("IAMWATCH_JIRA_BASE_URL", base_url)?,
                project: env.required("IAMWATCH_JIRA_PROJECT")?,
                secret_arn: env.required("IAMWATCH_JIRA_SECRET_ARN")?,
                issue_type: env.or("IAMWATCH_JIRA_ISSUE_TYPE", JiraConfig::DEFAULT_ISSUE_TYPE),
            }),
            None => {
                for name in ["IAMWATCH_JIRA_PROJECT", "IAMWATCH_JIRA_SECRET_ARN"] {
                    if env.get(name).is_some() {
                        return Err(ConfigError::Invalid {
                            name,
                            problem: "is set but IAMWATCH_JIRA_BASE_URL is not".to_string(),
                        });
                    }
                }
                None
            }
        };
        Ok(TicketConfig {
            jira,
            slack_secret_arn: env.get("IAMWATCH_SLACK_SECRET_ARN"),
            member_role: env.member_role()?,
            policy_file: env.policy_file(),
        })
    }

    /// The lowest score that gets a ticket: that of the policy's `ticket_min_severity`.
    pub fn min_score(&self) -> Result<u8, ConfigError> {
        Ok(load_policy(self.policy_file.as_deref())?
            .ticket_min_severity
            .min_score())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)]) -> Result<TicketConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        TicketConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn nothing_set_means_no_jira_no_slack_and_defaults() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.jira, None);
        assert_eq!(c.slack_secret_arn, None);
        assert_eq!(c.member_role, "iamwatch-member");
        assert_eq!(c.min_score().unwrap(), 70);
    }

    #[test]
    fn jira_needs_project_and_secret() {
        let base = ("IAMWATCH_JIRA_BASE_URL", "https://example.atlassian.net");
        assert_eq!(
            cfg(&[base]),
            Err(ConfigError::Missing("IAMWATCH_JIRA_PROJECT"))
        );
        assert_eq!(
            cfg(&[base, ("IAMWATCH_JIRA_PROJECT", "SEC")]),
            Err(ConfigError::Missing("IAMWATCH_JIRA_SECRET_ARN"))
        );
        let c = cfg(&[
            base,
            ("IAMWATCH_JIRA_PROJECT", "SEC"),
            (
                "IAMWATCH_JIRA_SECRET_ARN",
                "arn:aws:secretsmanager:us-east-1:1:secret:jira",
            ),
            (
                "IAMWATCH_SLACK_SECRET_ARN",
                "arn:aws:secretsmanager:us-east-1:1:secret:slack",
            ),
        ])
        .unwrap();
        let jira = c.jira.unwrap();
        assert_eq!(jira.issue_type, "Task");
        assert_eq!(jira.project, "SEC");
        assert!(c.slack_secret_arn.is_some());
    }

    #[test]
    fn half_configured_jira_is_an_error_naming_the_variable() {
        let err = cfg(&[("IAMWATCH_JIRA_PROJECT", "SEC")]).unwrap_err();
        assert!(err.to_string().contains("IAMWATCH_JIRA_PROJECT"), "{err}");
        let err = cfg(&[("IAMWATCH_JIRA_BASE_URL", "example.atlassian.net")]).unwrap_err();
        assert!(err.to_string().contains("IAMWATCH_JIRA_BASE_URL"), "{err}");
        let err = cfg(&[("IAMWATCH_MEMBER_ROLE", "arn:aws:iam::1:role/x")]).unwrap_err();
        assert!(err.to_string().contains("IAMWATCH_MEMBER_ROLE"), "{err}");
    }

    #[test]
    fn the_threshold_comes_from_the_policy_file() {
        let dir = std::env::temp_dir().join(format!("iamwatch-ticket-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("policy.toml");
        std::fs::write(&file, "ticket_min_severity = \"MEDIUM\"\n").unwrap();
        let c = cfg(&[("IAMWATCH_POLICY_FILE", file.to_str().unwrap())]).unwrap();
        assert_eq!(c.min_score().unwrap(), 40);
        std::fs::write(&file, "ticket_min_severity = \"SEVERE\"\n").unwrap();
        let err = c.min_score().unwrap_err();
        assert!(err.to_string().contains("IAMWATCH_POLICY_FILE"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
