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
    /// `IAMWATCH_JIRA_CLOSE_TRANSITION`: the transition (or target status) that closes the
    /// issue of an archived finding; unset: the issue is commented on only.
    pub close_transition: Option<String>,
    /// `IAMWATCH_JIRA_REOPEN_TRANSITION`: the transition that reopens a done issue when its
    /// finding recurs; unset: a new issue is opened for the recurrence.
    pub reopen_transition: Option<String>,
}

/// The role the write-back assumes in a finding's account when `IAMWATCH_WRITEBACK_ROLE` is
/// unset.
pub const DEFAULT_WRITEBACK_ROLE: &str = "iamwatch-writeback";

/// The ticket function's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketConfig {
    /// Jira, when `IAMWATCH_JIRA_BASE_URL` is set.
    pub jira: Option<JiraSettings>,
    /// `IAMWATCH_SLACK_SECRET_ARN`: secret `{"webhook_url": ...}`; no Slack when unset.
    pub slack_secret_arn: Option<String>,
    /// `IAMWATCH_WRITEBACK_ROLE`: role name assumed in the finding's account for the write-back
    /// (`BatchUpdateFindings` only); [`DEFAULT_WRITEBACK_ROLE`] when unset.
    pub writeback_role: String,
    /// `IAMWATCH_LEDGER_TABLE`: the DynamoDB table of the ticket ledger (required).
    pub ledger_table: String,
    /// `IAMWATCH_TICKETS_DLQ_URL`: the tickets queue's dead-letter queue, where a message that
    /// can never succeed goes at once; unset: such messages fail until their retries run out.
    pub dead_letter_queue_url: Option<String>,
    /// `IAMWATCH_SECURITY_ACCOUNT`: the account whose findings bus carries the finding events;
    /// unset: the function's own account (STS `GetCallerIdentity` at start-up).
    pub security_account: Option<String>,
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
                close_transition: env.get("IAMWATCH_JIRA_CLOSE_TRANSITION"),
                reopen_transition: env.get("IAMWATCH_JIRA_REOPEN_TRANSITION"),
            }),
            None => {
                for name in [
                    "IAMWATCH_JIRA_PROJECT",
                    "IAMWATCH_JIRA_SECRET_ARN",
                    "IAMWATCH_JIRA_CLOSE_TRANSITION",
                    "IAMWATCH_JIRA_REOPEN_TRANSITION",
                ] {
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
        let writeback_role = env.role_name("IAMWATCH_WRITEBACK_ROLE", DEFAULT_WRITEBACK_ROLE)?;
        let security_account = env.get("IAMWATCH_SECURITY_ACCOUNT");
        if let Some(a) = &security_account {
            if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ConfigError::Invalid {
                    name: "IAMWATCH_SECURITY_ACCOUNT",
                    problem: format!("{a:?} is not a 12-digit account id"),
                });
            }
        }
        let dead_letter_queue_url = env.optional_url("IAMWATCH_TICKETS_DLQ_URL")?;
        Ok(TicketConfig {
            jira,
            slack_secret_arn: env.get("IAMWATCH_SLACK_SECRET_ARN"),
            writeback_role,
            ledger_table: env.required("IAMWATCH_LEDGER_TABLE")?,
            dead_letter_queue_url,
            security_account,
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
    use iamwatch_lambda::testing::vars;

    /// These variables, and the ledger table unless they name one.
    fn cfg(pairs: &[(&str, &str)]) -> Result<TicketConfig, ConfigError> {
        let mut all = vec![("IAMWATCH_LEDGER_TABLE", "iamwatch-ticket-ledger")];
        all.extend_from_slice(pairs);
        TicketConfig::from_lookup(vars(&all))
    }

    #[test]
    fn nothing_set_means_no_jira_no_slack_and_defaults() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.jira, None);
        assert_eq!(c.slack_secret_arn, None);
        assert_eq!(c.writeback_role, "iamwatch-writeback");
        assert_eq!(c.ledger_table, "iamwatch-ticket-ledger");
        assert_eq!(c.dead_letter_queue_url, None);
        assert_eq!(c.security_account, None);
        assert_eq!(c.min_score().unwrap(), 70);
    }

    #[test]
    fn the_write_back_role_ledger_dlq_and_account_are_read_and_checked() {
        let c = cfg(&[
            ("IAMWATCH_WRITEBACK_ROLE", "custom-writeback"),
            ("IAMWATCH_MEMBER_ROLE", "iamwatch-member"),
            ("IAMWATCH_LEDGER_TABLE", "ledger"),
            (
                "IAMWATCH_TICKETS_DLQ_URL",
                "https://sqs.us-east-1.amazonaws.com/1/iamwatch-tickets-dlq",
            ),
            ("IAMWATCH_SECURITY_ACCOUNT", "222233334444"),
        ])
        .unwrap();
        assert_eq!(c.writeback_role, "custom-writeback");
        assert_eq!(c.ledger_table, "ledger");
        assert!(c.dead_letter_queue_url.unwrap().ends_with("-dlq"));
        assert_eq!(c.security_account.as_deref(), Some("222233334444"));
        let err = cfg(&[("IAMWATCH_WRITEBACK_ROLE", "arn:aws:iam::1:role/x")]).unwrap_err();
        assert!(err.to_string().contains("IAMWATCH_WRITEBACK_ROLE"), "{err}");
        let err = cfg(&[("IAMWATCH_SECURITY_ACCOUNT", "../../etc")]).unwrap_err();
        assert!(
            err.to_string().contains("IAMWATCH_SECURITY_ACCOUNT"),
            "{err}"
        );
        let err = cfg(&[("IAMWATCH_TICKETS_DLQ_URL", "iamwatch-tickets-dlq")]).unwrap_err();
        assert!(
            err.to_string().contains("IAMWATCH_TICKETS_DLQ_URL"),
            "{err}"
        );
        let err = TicketConfig::from_lookup(|_| None).unwrap_err();
        assert_eq!(err, ConfigError::Missing("IAMWATCH_LEDGER_TABLE"));
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
        let err = cfg(&[("IAMWATCH_JIRA_CLOSE_TRANSITION", "Done")]).unwrap_err();
        assert!(
            err.to_string().contains("IAMWATCH_JIRA_CLOSE_TRANSITION"),
            "{err}"
        );
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
