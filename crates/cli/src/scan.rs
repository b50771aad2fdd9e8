//! `iamwatch scan`: the flags in, [`iamwatch_scan`] does the walk, findings out.

use crate::config;
use crate::output::{self, Severity};
use crate::term;
use crate::ScanArgs;
use iamwatch_scan::{Limits, LocalFiles, Options, Reporter};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
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

#[cfg(feature = "aws")]
fn s3_scan(
    args: &ScanArgs,
    options: Options,
    reporter: &dyn Reporter,
) -> anyhow::Result<iamwatch_scan::Outcome> {
    crate::s3::scan(args, options, reporter)
}

#[cfg(not(feature = "aws"))]
fn s3_scan(
    _args: &ScanArgs,
    _options: Options,
    _reporter: &dyn Reporter,
) -> anyhow::Result<iamwatch_scan::Outcome> {
    anyhow::bail!(
        "s3:// sources need iamwatch built with the aws feature (cargo install --features aws)"
    )
}

/// Runs a scan; returns the exit status.
pub fn run(args: &ScanArgs) -> anyhow::Result<u8> {
    let options = Options {
        policy: config::policy(args.policy.as_deref())?,
        org: config::org(args.org.as_deref())?,
        context: config::finding_context(&args.region, args.runbook_base_url.as_deref()),
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
    let remote = args
        .paths
        .iter()
        .filter(|p| p.to_str().is_some_and(|s| s.starts_with("s3://")))
        .count();
    let outcome = if remote == 0 {
        if args.since.is_some()
            || args.until.is_some()
            || args.accounts.is_some()
            || args.regions.is_some()
        {
            anyhow::bail!(
                "--since, --until, --accounts and --regions select folders of CloudTrail's layout in S3: they need s3:// sources"
            );
        }
        iamwatch_scan::scan(&LocalFiles::new(args.paths.clone()), &options, &stderr)?
    } else if remote < args.paths.len() {
        anyhow::bail!(
            "s3:// URLs and local paths cannot be scanned together: run one scan for each"
        );
    } else {
        s3_scan(args, options, &stderr)?
    };
    if let Some(pb) = stderr.progress.get() {
        pb.finish_and_clear();
    }
    let totals = outcome.totals;
    let mut findings = outcome.findings;
    // --fail-on looks at every finding, printed or not, archived or not: it happened.
    let failed = Severity {
        min: args.min_severity,
        fail_on: args.fail_on,
    }
    .apply(&mut findings);
    output::findings(args.format, &mut findings)?;
    if output::summary_wanted(args.format) {
        term::line(&output::summary(&findings, &totals));
    }
    Ok(output::exit_status(totals.errors > 0, failed))
}
