//! What `scan`, `inventory check` and `hunt athena` read the same way: the policy file
//! (`--policy`), the org snapshot (`--org`), and where findings are filed and what they link to
//! (`--region`, `--runbook-base-url`).

use anyhow::Context;
use iamwatch_core::build::FindingContext;
use iamwatch_core::enrich::OrgSnapshot;
use iamwatch_core::Policy;
use iamwatch_scan::limits::{self, Limit, CONFIG_FILE_LIMIT};
use std::path::Path;

/// Reads a configuration file (policy, org snapshot) of at most [`CONFIG_FILE_LIMIT`] bytes.
pub(crate) fn read_config(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let size = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    let bytes = limits::read_bounded(&mut file, CONFIG_FILE_LIMIT, Limit::Config, size)?;
    String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// The policy of `--policy` ([`read_config`]); the default policy without it. Errors name the
/// file (and the key and problem).
pub(crate) fn policy(path: Option<&Path>) -> anyhow::Result<Policy> {
    let Some(p) = path else {
        return Ok(Policy::default());
    };
    let text =
        read_config(p).with_context(|| format!("cannot read policy file {}", p.display()))?;
    Ok(Policy::from_toml(&text, &p.display().to_string())?)
}

/// The org snapshot of `--org` ([`read_config`]); `None` without it.
pub(crate) fn org(path: Option<&Path>) -> anyhow::Result<Option<OrgSnapshot>> {
    let Some(p) = path else {
        return Ok(None);
    };
    let text =
        read_config(p).with_context(|| format!("cannot read org snapshot {}", p.display()))?;
    Ok(Some(OrgSnapshot::from_json(
        &text,
        &p.display().to_string(),
    )?))
}

/// Findings filed in `--region` (and its partition: `aws-us-gov` for `us-gov-*`, `aws-cn` for
/// `cn-*`), linking to runbooks under `--runbook-base-url`.
pub(crate) fn finding_context(region: &str, runbook_base_url: Option<&str>) -> FindingContext {
    FindingContext::for_region(region, runbook_base_url.map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_or_org_file_over_the_limit_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("policy.toml");
        let mut text = String::from("# padding\n");
        while (text.len() as u64) <= CONFIG_FILE_LIMIT {
            text.push_str(&"#".repeat(1023));
            text.push('\n');
        }
        std::fs::write(&big, &text).unwrap();
        let e = format!("{:#}", policy(Some(&big)).unwrap_err());
        assert!(
            e.starts_with(&format!("cannot read policy file {}", big.display())),
            "{e}"
        );
        let e = format!("{:#}", org(Some(&big)).unwrap_err());
        assert!(
            e.starts_with(&format!("cannot read org snapshot {}", big.display())),
            "{e}"
        );
    }

    #[test]
    fn findings_take_the_partition_of_their_region() {
        assert_eq!(finding_context("us-east-1", None).partition, "aws");
        assert_eq!(
            finding_context("us-gov-west-1", None).partition,
            "aws-us-gov"
        );
        assert_eq!(finding_context("cn-north-1", None).partition, "aws-cn");
        assert_eq!(
            finding_context("eu-west-1", Some("https://r/"))
                .runbook_base_url
                .as_deref(),
            Some("https://r/")
        );
    }
}
