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

/// The policy of `--policy`, read with `read`; the default policy without it. Errors name the
/// file (and the key and problem).
pub(crate) fn policy(
    path: Option<&Path>,
    read: impl Fn(&Path) -> std::io::Result<String>,
) -> anyhow::Result<Policy> {
    let Some(p) = path else {
        return Ok(Policy::default());
    };
    let text = read(p).with_context(|| format!("cannot read policy file {}", p.display()))?;
    Ok(Policy::from_toml(&text, &p.display().to_string())?)
}

/// The org snapshot of `--org`, read with `read`; `None` without it.
pub(crate) fn org(
    path: Option<&Path>,
    read: impl Fn(&Path) -> std::io::Result<String>,
) -> anyhow::Result<Option<OrgSnapshot>> {
    let Some(p) = path else {
        return Ok(None);
    };
    let text = read(p).with_context(|| format!("cannot read org snapshot {}", p.display()))?;
    Ok(Some(OrgSnapshot::from_json(
        &text,
        &p.display().to_string(),
    )?))
}

/// Findings filed in `--region` of the `aws` partition, linking to runbooks under
/// `--runbook-base-url`.
pub(crate) fn finding_context(region: &str, runbook_base_url: Option<&str>) -> FindingContext {
    FindingContext {
        region: region.to_string(),
        partition: "aws".to_string(),
        runbook_base_url: runbook_base_url.map(str::to_string),
    }
}
