//! `iamwatch hunt athena`: the IAM filter pushed down to Athena over the organization's
//! CloudTrail table (see the `iamwatch-hunt` crate), the rows judged by the same core as a scan
//! and printed in the same formats. Credentials, region and endpoint come from the standard AWS
//! environment (profile, `AWS_ENDPOINT_URL`, ...).

use crate::output::{self, Severity};
use crate::{config, parse_label, Format};
use anyhow::Context;
use clap::{Args, Subcommand};
use iamwatch_core::{Finding, Label};
use iamwatch_hunt::finding_counts;
use iamwatch_hunt::sql::{parse_accounts, parse_regions};
use iamwatch_hunt::{Bound, Collector, DateFormat, Layout, Query, Run, Table};
use std::io::Write;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum HuntCommand {
    /// Run the rules over the CloudTrail table in Athena: only the in-scope IAM calls of the
    /// requested days, accounts and regions are read, by Athena; findings print as `scan`
    /// prints them. The table is the one of the Athena documentation (partition projection),
    /// with account and region partitions for an organization trail.
    Athena(Box<AthenaArgs>),
}

#[derive(Args)]
pub struct AthenaArgs {
    /// The CloudTrail table, as DATABASE.TABLE.
    #[arg(long, value_name = "DB.TABLE")]
    pub table: String,
    /// The Athena workgroup the query runs in.
    #[arg(long, value_name = "NAME")]
    pub workgroup: String,
    /// First day (YYYY-MM-DD) or instant (RFC 3339) to read, included.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Last day (YYYY-MM-DD, the whole day) or instant (RFC 3339) to read, included.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Account ids to read (comma-separated); all when not given.
    #[arg(long, value_name = "IDS")]
    pub accounts: Option<String>,
    /// Regions to read (comma-separated); all when not given.
    #[arg(long, value_name = "REGIONS")]
    pub regions: Option<String>,
    /// Where Athena writes the results (s3://...), when the workgroup sets no location.
    #[arg(long, value_name = "S3_URL")]
    pub output_location: Option<String>,
    /// Print the query and exit, without calling AWS.
    #[arg(long)]
    pub print_sql: bool,
    /// The table's account partition column.
    #[arg(long, value_name = "COLUMN", default_value = "account")]
    pub account_partition: String,
    /// The table's region partition column.
    #[arg(long, value_name = "COLUMN", default_value = "region")]
    pub region_partition: String,
    /// The table's date partition column.
    #[arg(long, value_name = "COLUMN", default_value = "timestamp")]
    pub date_partition: String,
    /// How the date partition is written (its projection.*.format): yyyy/MM/dd or yyyy-MM-dd.
    #[arg(long, value_name = "FORMAT", default_value = "yyyy/MM/dd")]
    pub date_format: String,
    /// Output format, as for `scan`.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Policy file (TOML), as for `scan`.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Org snapshot (JSON, from `iamwatch org snapshot`), as for `scan`.
    #[arg(long, value_name = "FILE")]
    pub org: Option<PathBuf>,
    /// Print only findings at or above this severity.
    #[arg(long, value_name = "LEVEL", value_parser = parse_label)]
    pub min_severity: Option<Label>,
    /// Exit with status 1 when a finding is at or above this severity (printed or not,
    /// archived or not).
    #[arg(long, value_name = "LEVEL", value_parser = parse_label)]
    pub fail_on: Option<Label>,
    /// Base URL of the runbooks as you serve them, linked from each finding
    /// (`<URL>/<rule-id>.md`). Without it, findings name the runbook's path in the project.
    #[arg(long, value_name = "URL")]
    pub runbook_base_url: Option<String>,
    /// Security Hub region written into finding ARNs.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
}

pub fn run(cmd: HuntCommand) -> anyhow::Result<u8> {
    match cmd {
        HuntCommand::Athena(args) => athena(&args),
    }
}

/// The query of the arguments.
fn query(args: &AthenaArgs) -> anyhow::Result<Query> {
    let bound = |flag: &str, v: &Option<String>| -> anyhow::Result<Option<Bound>> {
        v.as_deref()
            .map(Bound::parse)
            .transpose()
            .with_context(|| format!("--{flag}"))
    };
    Ok(Query {
        table: Table::parse(&args.table).context("--table")?,
        layout: Layout {
            account: args.account_partition.clone(),
            region: args.region_partition.clone(),
            date: args.date_partition.clone(),
            date_format: DateFormat::parse(&args.date_format).context("--date-format")?,
        },
        since: bound("since", &args.since)?,
        until: bound("until", &args.until)?,
        accounts: parse_accounts(args.accounts.as_deref().unwrap_or("")).context("--accounts")?,
        regions: parse_regions(args.regions.as_deref().unwrap_or("")).context("--regions")?,
    })
}

fn athena(args: &AthenaArgs) -> anyhow::Result<u8> {
    let query = query(args)?;
    let sql = query.sql()?;
    if args.print_sql {
        println!("{sql}");
        return Ok(0);
    }
    if let Some(o) = &args.output_location {
        if !o.starts_with("s3://") {
            anyhow::bail!("--output-location {o:?}: an s3:// URL is expected");
        }
    }
    let mut collector = Collector::new(
        config::policy(args.policy.as_deref())?,
        config::org(args.org.as_deref())?,
        config::finding_context(&args.region, args.runbook_base_url.as_deref()),
    );
    let run = Run::new(
        &query.table.database,
        &args.workgroup,
        args.output_location.clone(),
    );
    let (executed, collector) = iamwatch_aws::runtime::run(move || async move {
        let sdk = iamwatch_aws::config::load_sdk_config().await;
        let client = aws_sdk_athena::Client::new(&sdk);
        let executed = iamwatch_hunt::hunt(&client, &query, &run, &mut collector, &mut |msg| {
            eprintln!("{msg}")
        })
        .await;
        (executed, collector)
    })
    .context("cannot start the async runtime")?;
    let executed = executed?;
    let (mut findings, counts) = collector.finish();
    let failed = Severity {
        min: args.min_severity,
        fail_on: args.fail_on,
    }
    .apply(&mut findings);
    output::findings(args.format, &mut findings)?;
    if output::summary_wanted(args.format) {
        let _ = writeln!(
            std::io::stderr(),
            "{}",
            summary(&findings, &counts, &executed)
        );
    }
    Ok(output::exit_status(counts.errors > 0, failed))
}

/// One line of totals for stderr.
fn summary(
    findings: &[Finding],
    counts: &iamwatch_hunt::Counts,
    executed: &iamwatch_hunt::Executed,
) -> String {
    format!(
        "{} from {} rows of Athena query {} ({} MB scanned); {} suppressed; {} error{}",
        finding_counts(findings),
        counts.rows,
        executed.id,
        executed.scanned_bytes / 1_000_000,
        counts.suppressed,
        counts.errors,
        if counts.errors == 1 { "" } else { "s" },
    )
}
