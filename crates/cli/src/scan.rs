//! `iamwatch scan`: the flags in, [`iamwatch_scan`] does the walk, findings out.

use crate::{output, term};
use crate::{Format, ScanArgs};
use anyhow::Context;
use iamwatch_core::build::FindingContext;
use iamwatch_core::enrich::OrgSnapshot;
use iamwatch_core::Policy;
use iamwatch_scan::limits::{self, Limit, CONFIG_FILE_LIMIT};
use iamwatch_scan::{Limits, LocalFiles, Options, Reporter};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::OnceLock;

/// Messages on stderr (escaped, a closed stderr ignored), above the progress bar when there
/// is one.
struct Stderr {
    show_progress: bool,
    progress: OnceLock<ProgressBar>,
}

impl Stderr {
    fn print(&self, msg: &str) {
        match self.progress.get() {
            Some(pb) => pb.suspend(|| term::line(msg)),
            None => term::line(msg),
        }
    }
}

impl Reporter for Stderr {
    fn error(&self, message: &str) {
        self.print(message);
    }

    fn note(&self, message: &str) {
        self.print(message);
    }

    fn listed(&self, count: u64) {
        if self.show_progress {
            let pb = ProgressBar::new(count);
            pb.set_style(
                ProgressStyle::with_template(
                    "{spinner} {pos}/{len} files {bar:30} {elapsed} eta {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let _ = self.progress.set(pb);
        }
    }

    fn object_done(&self) {
        if let Some(pb) = self.progress.get() {
            pb.inc(1);
        }
    }
}

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

/// Runs a scan; returns the exit status.
pub fn run(args: &ScanArgs) -> anyhow::Result<u8> {
    let policy = match &args.policy {
        Some(p) => {
            let text = read_config(p)
                .with_context(|| format!("cannot read policy file {}", p.display()))?;
            Policy::from_toml(&text, &p.display().to_string())?
        }
        None => Policy::default(),
    };
    let org = match &args.org {
        Some(p) => {
            let text = read_config(p)
                .with_context(|| format!("cannot read org snapshot {}", p.display()))?;
            Some(OrgSnapshot::from_json(&text, &p.display().to_string())?)
        }
        None => None,
    };
    let options = Options {
        policy,
        org,
        context: FindingContext {
            region: args.region.clone(),
            partition: "aws".to_string(),
            runbook_base_url: args.runbook_base_url.clone(),
        },
        threads: args.threads,
        limits: Limits {
            max_file_size: args.max_file_size,
            max_record_size: args.max_record_size,
        },
    };
    let stderr = Stderr {
        show_progress: !args.no_progress && std::io::stderr().is_terminal(),
        progress: OnceLock::new(),
    };
    let outcome = iamwatch_scan::scan(&LocalFiles::new(args.paths.clone()), &options, &stderr)?;
    if let Some(pb) = stderr.progress.get() {
        pb.finish_and_clear();
    }
    let totals = outcome.totals;
    let mut findings = outcome.findings;
    // --fail-on looks at every finding, printed or not, archived or not: it happened.
    let failed = args
        .fail_on
        .is_some_and(|level| findings.iter().any(|f| f.severity.label >= level));
    if let Some(min) = args.min_severity {
        findings.retain(|f| f.severity.label >= min);
    }
    output::findings(args.format, &mut findings)?;
    if args.format == Format::Table || std::io::stderr().is_terminal() {
        term::line(&output::summary(&findings, &totals));
    }
    Ok(if totals.errors > 0 {
        2
    } else if failed {
        1
    } else {
        0
    })
}
