//! The sweep's configuration, read once from the environment (the `inventory` Lambda, and
//! `iamwatch inventory sweep`, whose flags override it). Every error names the variable.
//!
//! | variable | meaning |
//! |---|---|
//! | `IAMWATCH_INVENTORY_OUT` | the root: a folder or `s3://bucket/prefix` (required) |
//! | `IAMWATCH_MEMBER_ROLE` | role name assumed in each account (default `iamwatch-member`) |
//! | `IAMWATCH_ORG_ROLE_ARN` | the org-reader role; unset: the caller's own credentials |
//! | `IAMWATCH_SLACK_SECRET_ARN` | secret `{"webhook_url": ...}` of the summary line; unset: no line posted |
//! | `IAMWATCH_RUNBOOK_BASE_URL` | base URL of the runbooks, linked from findings and the report |
//! | `IAMWATCH_GUARDRAIL_OUS` | comma-separated OU ids (or paths) that carry the guardrail SCP |
//! | `IAMWATCH_INVENTORY_CONCURRENCY` | accounts swept at once (default 32, at most 64) |
//! | `IAMWATCH_POLICY_FILE` | the policy TOML (its `[inventory]` table too) |
//! | `AWS_REGION` | where findings are filed (default `us-east-1`) |

use iamwatch_core::{FindingContext, Policy};
use iamwatch_lambda::env::{load_policy, ConfigError, Env};
use std::path::PathBuf;

/// The most accounts swept at once.
pub const MAX_CONCURRENCY: usize = 64;

/// Where the tables go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Folder(PathBuf),
    S3 { bucket: String, prefix: String },
}

impl Out {
    /// `s3://bucket[/prefix]` or a folder path.
    pub fn parse(s: &str) -> Result<Out, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("is empty".to_string());
        }
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let ok = (3..=63).contains(&bucket.len())
                && bucket.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'
                });
            if !ok {
                return Err(format!("{s:?}: {bucket:?} is not an S3 bucket name"));
            }
            return Ok(Out::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.trim_matches('/').to_string(),
            });
        }
        if s.contains("://") {
            return Err(format!("{s:?} is neither a folder nor s3://bucket/prefix"));
        }
        Ok(Out::Folder(PathBuf::from(s)))
    }
}

/// The configuration of a sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepConfig {
    pub out: Out,
    pub member_role: String,
    pub org_role_arn: Option<String>,
    pub slack_secret_arn: Option<String>,
    pub runbook_base_url: Option<String>,
    pub guardrail_ous: Vec<String>,
    pub concurrency: usize,
    pub policy_file: Option<PathBuf>,
    pub region: String,
}

impl SweepConfig {
    pub fn from_env() -> Result<SweepConfig, ConfigError> {
        SweepConfig::read(&Env::process(), None)
    }

    /// Through `lookup`; `out` (a flag) replaces `IAMWATCH_INVENTORY_OUT`.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        out: Option<&str>,
    ) -> Result<SweepConfig, ConfigError> {
        SweepConfig::read(&Env::new(lookup), out)
    }

    fn read<L: Fn(&str) -> Option<String>>(
        env: &Env<L>,
        out: Option<&str>,
    ) -> Result<SweepConfig, ConfigError> {
        const OUT: &str = "IAMWATCH_INVENTORY_OUT";
        let out = match out {
            Some(o) => o.to_string(),
            None => env.required(OUT)?,
        };
        let out =
            Out::parse(&out).map_err(|problem| ConfigError::Invalid { name: OUT, problem })?;
        let org_role_arn = env.org_role_arn()?;
        let runbook_base_url = env.runbook_base_url()?;
        const CONC: &str = "IAMWATCH_INVENTORY_CONCURRENCY";
        let concurrency = match env.get(CONC) {
            None => crate::sweep::DEFAULT_CONCURRENCY,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) => n,
                _ => {
                    return Err(ConfigError::Invalid {
                        name: CONC,
                        problem: format!("{v:?} is not a whole number from 1 to {MAX_CONCURRENCY}"),
                    })
                }
            },
        };
        Ok(SweepConfig {
            out,
            member_role: env.member_role()?,
            org_role_arn,
            slack_secret_arn: env.get("IAMWATCH_SLACK_SECRET_ARN"),
            runbook_base_url,
            guardrail_ous: env
                .get("IAMWATCH_GUARDRAIL_OUS")
                .map(|v| iamwatch_report::parse_list(&v))
                .unwrap_or_default(),
            concurrency,
            policy_file: env.policy_file(),
            region: env.region(),
        })
    }

    pub fn load_policy(&self) -> Result<Policy, ConfigError> {
        load_policy(self.policy_file.as_deref())
    }

    pub fn finding_context(&self) -> FindingContext {
        FindingContext::for_region(&self.region, self.runbook_base_url.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamwatch_lambda::testing::vars;

    fn cfg(pairs: &[(&str, &str)]) -> Result<SweepConfig, ConfigError> {
        SweepConfig::from_lookup(vars(pairs), None)
    }

    #[test]
    fn the_environment_is_read_with_defaults() {
        assert_eq!(
            cfg(&[]),
            Err(ConfigError::Missing("IAMWATCH_INVENTORY_OUT"))
        );
        let c = cfg(&[
            ("IAMWATCH_INVENTORY_OUT", "s3://iamwatch-inv/daily/"),
            (
                "IAMWATCH_GUARDRAIL_OUS",
                "ou-ab12-11111111, ,ou-ab12-22222222",
            ),
        ])
        .unwrap();
        assert_eq!(
            c.out,
            Out::S3 {
                bucket: "iamwatch-inv".into(),
                prefix: "daily".into()
            }
        );
        assert_eq!(c.concurrency, 32);
        assert_eq!(c.member_role, "iamwatch-member");
        assert_eq!(c.guardrail_ous, ["ou-ab12-11111111", "ou-ab12-22222222"]);
        assert_eq!(c.finding_context().partition, "aws");
        let c = cfg(&[
            ("IAMWATCH_INVENTORY_OUT", "/tmp/inv"),
            ("AWS_REGION", "us-gov-west-1"),
        ])
        .unwrap();
        assert_eq!(c.out, Out::Folder("/tmp/inv".into()));
        assert_eq!(c.finding_context().partition, "aws-us-gov");
    }

    #[test]
    fn errors_name_the_variable() {
        let out = ("IAMWATCH_INVENTORY_OUT", "/tmp/inv");
        for (vars, name) in [
            (
                vec![("IAMWATCH_INVENTORY_OUT", "s3://Bad_Bucket/x")],
                "IAMWATCH_INVENTORY_OUT",
            ),
            (
                vec![("IAMWATCH_INVENTORY_OUT", "https://x/y")],
                "IAMWATCH_INVENTORY_OUT",
            ),
            (
                vec![out, ("IAMWATCH_INVENTORY_CONCURRENCY", "0")],
                "IAMWATCH_INVENTORY_CONCURRENCY",
            ),
            (
                vec![out, ("IAMWATCH_INVENTORY_CONCURRENCY", "500")],
                "IAMWATCH_INVENTORY_CONCURRENCY",
            ),
            (
                vec![out, ("IAMWATCH_ORG_ROLE_ARN", "reader")],
                "IAMWATCH_ORG_ROLE_ARN",
            ),
            (
                vec![out, ("IAMWATCH_RUNBOOK_BASE_URL", "rb")],
                "IAMWATCH_RUNBOOK_BASE_URL",
            ),
        ] {
            let err = cfg(&vars).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }
}
