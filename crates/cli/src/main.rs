//! `iamwatch`: catch new IAM users, access keys and the changes that make them dangerous.
//!
//! - `scan`: read historical CloudTrail logs and print scored findings ([`scan`], [`output`]).
//! - `rules`: list the rules, factors and the CloudTrail event names iamwatch reads.
//! - `inventory check`: the hygiene rules over IAM credential report files ([`inventory`]).
//! - `inventory report`: the inventory's HTML page from a folder root ([`inventory_report`]).
//! - `inventory sweep` (cargo feature `aws`): the daily sweep of every account's IAM users into
//!   the inventory tables, findings and the report ([`sweep`]).
//! - `org snapshot` (cargo feature `aws`): write the organization's accounts, names and OU paths
//!   for `scan --org` ([`org`]).
//! - `hunt athena` (cargo feature `aws`): the rules over the organization's CloudTrail table in
//!   Athena, printed as `scan` prints ([`hunt`]).
//! - `scan s3://BUCKET/PREFIX` (cargo feature `aws`): the scan over CloudTrail's S3 layout, pruned
//!   by key prefix ([`s3`]).
//!
//! Exit status: 0 done; 1 a finding reached `--fail-on`; 2 an input or usage error (an unreadable
//! file, a bad record, a bad policy file): the rest of the scan still ran.

mod config;
#[cfg(feature = "aws")]
mod hunt;
mod inventory;
mod inventory_report;
#[cfg(feature = "aws")]
mod org;
mod output;
mod rules;
#[cfg(feature = "aws")]
mod s3;
mod scan;
#[cfg(feature = "aws")]
mod sweep;
mod term;

use clap::{Parser, Subcommand, ValueEnum};
use iamwatch_core::Label;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "iamwatch",
    version,
    about = "Catch new IAM users, access keys and the changes that make them dangerous",
    long_about = "Catch new IAM users, access keys and the changes that make them dangerous.\n\n\
        Exit status: 0 done, 1 a finding reached --fail-on, 2 an input or usage error \
        (the rest of the scan still runs)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan CloudTrail logs (files and directories) and print scored findings.
    ///
    /// Reads CloudTrail log files as delivered to S3 ({"Records": [...]}), JSON arrays of
    /// records, JSON Lines, EventBridge envelopes and SQS batches of envelopes, plain or
    /// gzip-compressed. Directories are read recursively, taking *.json, *.jsonl, *.ndjson and
    /// their .gz forms, regular files only (a FIFO or device is skipped, and said), each
    /// directory and file once however many links lead to it; a file named on the command line
    /// is always read. Every file is read within --max-file-size, every line within
    /// --max-record-size; past a limit the file (or line) is an error and the scan goes on.
    ///
    /// s3://BUCKET/PREFIX (cargo feature aws) reads the log objects of CloudTrail's layout
    /// ([PREFIX/]AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/) straight from S3,
    /// listing only the folders that --since, --until, --accounts and --regions keep.
    Scan(Box<ScanArgs>),
    /// List the detection rules, the scoring factors and the event names iamwatch reads.
    Rules {
        /// Print only the in-scope CloudTrail event names, as a JSON array.
        #[arg(long)]
        event_names: bool,
        /// Print only the scoring factors.
        #[arg(long)]
        factors: bool,
        /// text for people; json for tools (an array of rules, or of factors with --factors).
        #[arg(long, value_enum, default_value = "text")]
        format: rules::RulesFormat,
    },
    /// The IAM users that already exist: hygiene checks of credential reports.
    #[command(subcommand)]
    Inventory(inventory::InventoryCommand),
    /// The organization (needs AWS credentials of the management account or of a role with
    /// Organizations reads, such as iamwatch-org-reader).
    #[cfg(feature = "aws")]
    #[command(subcommand)]
    Org(org::OrgCommand),
    /// Retro-hunts over the organization's CloudTrail history where it lies (needs AWS
    /// credentials allowed to run Athena queries on the CloudTrail table).
    #[cfg(feature = "aws")]
    #[command(subcommand)]
    Hunt(hunt::HuntCommand),
}

#[derive(clap::Args)]
pub struct ScanArgs {
    /// CloudTrail log files or directories, or s3://BUCKET/PREFIX URLs (cargo feature aws).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// s3:// only: the first day (YYYY-MM-DD) or instant (RFC 3339) to read, included. Day
    /// folders before it are never listed; with an instant, findings of events before it
    /// are left out.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// s3:// only: the last day (YYYY-MM-DD, the whole day) or instant (RFC 3339) to read,
    /// included. Day folders after it are never listed.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// s3:// only: account ids to read (comma-separated), named as key prefixes; all the
    /// accounts found when not given.
    #[arg(long, value_name = "IDS")]
    pub accounts: Option<String>,
    /// s3:// only: regions to read (comma-separated), named as key prefixes; all the regions
    /// found when not given.
    #[arg(long, value_name = "REGIONS")]
    pub regions: Option<String>,
    /// Policy file (TOML): trusted principals, services and CIDRs, critical and sandbox OUs,
    /// admin policies and groups, suppressions. Without it the defaults apply.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Org snapshot (JSON, from `iamwatch org snapshot`): account names and OU paths for the
    /// findings and the critical-account / sandbox-account factors.
    #[arg(long, value_name = "FILE")]
    pub org: Option<PathBuf>,
    /// Output format: a table sorted by severity, one ASFF finding per line, an ASFF
    /// BatchImportFindings document, CSV, or one OCSF Detection Finding per line.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Print only findings at or above this severity.
    #[arg(long, value_name = "LEVEL", value_parser = parse_label)]
    pub min_severity: Option<Label>,
    /// Exit with status 1 when a finding is at or above this severity (whether or not
    /// --min-severity prints it, and archived ones too: they happened).
    #[arg(long, value_name = "LEVEL", value_parser = parse_label)]
    pub fail_on: Option<Label>,
    /// Base URL of the runbooks as you serve them, linked from each finding
    /// (`<URL>/<rule-id>.md`). Without it, findings name the runbook's path in the project.
    #[arg(long, value_name = "URL")]
    pub runbook_base_url: Option<String>,
    /// Security Hub region written into finding ARNs.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Worker threads (default: one per core; for s3:// 16, each streaming one object at a
    /// time: the most objects fetched and held at once, and the most concurrent listings).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Never show the progress bar (it shows only when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,
    /// The largest file read, as stored (compressed or not): a larger one is an error for
    /// that file and the scan goes on. Bytes, or a number with KiB, MiB, GiB.
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = iamwatch_scan::limits::parse_size)]
    pub max_file_size: u64,
    /// The longest record (a line of JSON Lines): a longer one is an error for that record.
    #[arg(long, value_name = "SIZE", default_value = "16MiB", value_parser = iamwatch_scan::limits::parse_size)]
    pub max_record_size: u64,
}

/// Output formats of `scan`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Jsonl,
    Asff,
    Csv,
    Ocsf,
}

fn parse_label(s: &str) -> Result<Label, String> {
    Label::parse(s).ok_or_else(|| {
        format!("{s:?} is not a severity (INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL)")
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan::run(&args),
        Command::Rules {
            event_names,
            factors,
            format,
        } => rules::print(event_names, factors, format).map(|_| 0),
        Command::Inventory(cmd) => inventory::run(cmd),
        #[cfg(feature = "aws")]
        Command::Org(cmd) => org::run(cmd),
        #[cfg(feature = "aws")]
        Command::Hunt(cmd) => hunt::run(cmd),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // One line with the whole chain of causes.
            term::fatal(&format!("iamwatch: {e:#}"));
            ExitCode::from(2)
        }
    }
}
