//! `iamwatch inventory`: the IAM users that already exist.
//!
//! - `inventory check`: the hygiene rules over IAM credential report files, offline (no AWS
//!   access), printed as `scan` prints its findings, with its exit statuses.

use crate::config;
use crate::output::{self, Severity};
use crate::{parse_label, term, Format};
use clap::Subcommand;
use iamwatch_core::enrich::Enrichment;
use iamwatch_core::finding::label_count_phrase;
use iamwatch_core::inventory::{self, report, Day};
use iamwatch_core::{Finding, Label};
use iamwatch_scan::limits::{self, Limit};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// `iamwatch inventory ...`.
#[derive(Subcommand)]
pub enum InventoryCommand {
    /// Apply the hygiene rules to IAM credential reports (CSV files as GetCredentialReport
    /// returns them, decoded) and print scored findings. Offline: no AWS access.
    ///
    /// Reads files and directories (recursively, taking *.csv; a file named on the command
    /// line is always read). The account of each report is the one its ARNs name. A row that
    /// cannot be read is reported with its file and line, and the rest of the report is read.
    Check(CheckArgs),
    /// Write the inventory's HTML report (the user count per day, the day's new and removed
    /// users, risky users, accounts and OUs) from the tables under a folder root.
    Report(crate::inventory_report::ReportArgs),
    /// Sweep every account of the organization (cargo feature `aws`): each account's IAM users
    /// into the dated tables under --out, hygiene findings filed in Security Hub, the report,
    /// and a summary line (to Slack when IAMWATCH_SLACK_SECRET_ARN is set). Uses the
    /// environment of the inventory function (IAMWATCH_MEMBER_ROLE, IAMWATCH_ORG_ROLE_ARN,
    /// AWS_ENDPOINT_URL, ...).
    #[cfg(feature = "aws")]
    Sweep(crate::sweep::SweepArgs),
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Credential report CSV files, or directories of them.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Policy file (TOML): the [inventory] thresholds (unused_days, grace_days,
    /// key_max_age_days), critical and sandbox OUs, suppressions.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Org snapshot (JSON, from `iamwatch org snapshot`): account names and OU paths.
    #[arg(long, value_name = "FILE")]
    pub org: Option<PathBuf>,
    /// The day ages are measured to (YYYY-MM-DD, from its start, 00:00 UTC). Default: now.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    pub as_of: Option<Day>,
    /// Output format, as for `scan`.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Print only findings at or above this severity.
    #[arg(long, value_name = "LEVEL", value_parser = parse_label)]
    pub min_severity: Option<Label>,
    /// Exit with status 1 when a finding is at or above this severity (printed or not).
    #[arg(long, value_name = "LEVEL", value_parser = parse_label)]
    pub fail_on: Option<Label>,
    /// Base URL of the runbooks as you serve them (`<URL>/<rule-id>.md`).
    #[arg(long, value_name = "URL")]
    pub runbook_base_url: Option<String>,
    /// Security Hub region written into finding ARNs.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// The largest report read (AWS's report of 5,000 users, its most, is about 1.5 MiB): a
    /// larger file is an error for that file and the others are read. Bytes, or a number with
    /// KiB, MiB, GiB.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = iamwatch_scan::limits::parse_size)]
    pub max_file_size: u64,
}

pub(crate) fn parse_day(s: &str) -> Result<Day, String> {
    s.parse().map_err(|e: inventory::day::BadDay| e.to_string())
}

/// Runs an inventory command; returns the exit status.
pub fn run(cmd: InventoryCommand) -> anyhow::Result<u8> {
    match cmd {
        InventoryCommand::Check(args) => check(&args),
        InventoryCommand::Report(args) => crate::inventory_report::run(&args),
        #[cfg(feature = "aws")]
        InventoryCommand::Sweep(args) => crate::sweep::run(args),
    }
}

/// The report files under `paths`, in order: named files as given, directories walked in name
/// order taking `*.csv` regular files. What cannot be listed is an error message.
fn report_files(paths: &[PathBuf], errors: &mut Vec<String>) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<String>) {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                errors.push(format!("{}: cannot list the directory: {e}", dir.display()));
                return;
            }
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            // Symbolic links are not followed inside directories: no loops, each file once.
            match std::fs::symlink_metadata(&p) {
                Ok(m) if m.is_dir() => walk(&p, out, errors),
                Ok(m) if m.is_file() => {
                    if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv")) {
                        out.push(p);
                    }
                }
                Ok(_) => {}
                Err(e) => errors.push(format!("{}: {e}", p.display())),
            }
        }
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out, errors);
        } else {
            out.push(p.clone());
        }
    }
    out
}

fn read_report(path: &Path, max: u64) -> anyhow::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        anyhow::bail!("is a directory");
    }
    let size = meta.is_file().then_some(meta.len());
    Ok(limits::read_bounded(&mut file, max, Limit::File, size)?)
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `iamwatch inventory check`.
fn check(args: &CheckArgs) -> anyhow::Result<u8> {
    let policy = config::policy(args.policy.as_deref())?;
    let org = config::org(args.org.as_deref())?;
    let as_of = args.as_of.map_or_else(now_millis, Day::start_millis);
    let ctx = config::finding_context(&args.region, args.runbook_base_url.as_deref());
    let severity = Severity {
        min: args.min_severity,
        fail_on: args.fail_on,
    };

    let mut errors = Vec::new();
    let files = report_files(&args.paths, &mut errors);
    for e in &errors {
        term::line(e);
    }
    let mut error_count = errors.len();
    // JSON Lines and OCSF lines are printed report by report, so memory holds one report's
    // findings, not the organization's; the table, CSV and the ASFF document need them all.
    let streaming = matches!(args.format, Format::Jsonl | Format::Ocsf);
    // A finding that two reports of one account make (two downloads of one report) is listed
    // once, from the first file (the order of the command line, then of names in a directory).
    let mut listed: HashMap<String, usize> = HashMap::new();
    let mut kept: Vec<Finding> = Vec::new();
    let mut printed = [0usize; 5];
    let mut failed = false;
    let (mut users, mut suppressed, mut reports) = (0usize, 0usize, 0usize);
    for (order, path) in files.iter().enumerate() {
        let shown = path.display();
        let bytes = match read_report(path, args.max_file_size) {
            Ok(b) => b,
            Err(e) => {
                term::line(&format!("{shown}: cannot read: {e:#}"));
                error_count += 1;
                continue;
            }
        };
        let report = match report::parse(&bytes) {
            Ok(r) => r,
            Err(e) => {
                term::line(&format!("{shown}: {e}"));
                error_count += 1;
                continue;
            }
        };
        drop(bytes);
        for p in &report.problems {
            term::line(&format!("{shown}:{}: {}", p.line, p.problem));
            error_count += 1;
        }
        reports += 1;
        users += report.users().count();
        let account = match &org {
            Some(o) => o.enrichment(&report.account_id),
            None => Enrichment::default(),
        };
        let ev = inventory::evaluate(&report, &policy, as_of, &account, &BTreeMap::new(), &ctx);
        for s in &ev.suppressed {
            term::line(&format!(
                "{shown}: suppressed {} {} in {}: {}",
                s.detection.rule.id,
                s.detection.subject.key(),
                s.account_id,
                s.reason
            ));
        }
        suppressed += ev.suppressed.len();
        let mut batch = Vec::with_capacity(ev.findings.len());
        for (f, _) in ev.findings {
            if let Some(&first) = listed.get(&f.id) {
                term::line(&format!(
                    "{shown}: finding {} is also made by {}: listed once, from that file",
                    f.id,
                    files[first].display()
                ));
                continue;
            }
            listed.insert(f.id.clone(), order);
            // --fail-on looks at every finding, printed or not.
            failed |= severity.fails(&f);
            if severity.shows(&f) {
                printed[f.severity.label as usize] += 1;
                batch.push(f);
            }
        }
        if streaming {
            output::findings(args.format, &mut batch)?;
        } else {
            kept.append(&mut batch);
        }
    }
    if !streaming {
        output::findings(args.format, &mut kept)?;
    }
    if output::summary_wanted(args.format) {
        term::line(&format!(
            "{} from {users} IAM user{} in {reports} credential report{} as of {}; {suppressed} suppressed; {error_count} error{}",
            label_count_phrase(&printed),
            if users == 1 { "" } else { "s" },
            if reports == 1 { "" } else { "s" },
            iamwatch_core::time::format_millis(as_of),
            if error_count == 1 { "" } else { "s" },
        ));
    }
    Ok(output::exit_status(error_count > 0, failed))
}
