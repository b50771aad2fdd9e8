//! `iamwatch inventory report`: the inventory's HTML page from a folder root, as the sweep writes
//! it after each run (`inventory/v1/report/dt=YYYY-MM-DD/index.html` and `latest.html`).

use iamwatch_core::inventory::Day;
use iamwatch_report::{generate_folder, parse_list, Options};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The inventory root: the folder that holds inventory/v1/{users,accounts}/dt=YYYY-MM-DD/.
    #[arg(long, value_name = "DIR")]
    pub root: PathBuf,
    /// The report's day (YYYY-MM-DD). Default: the latest day under the root.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::inventory::parse_day)]
    pub day: Option<Day>,
    /// Base URL of the runbooks as you serve them (`<URL>/<rule-id>.md`).
    #[arg(long, value_name = "URL")]
    pub runbook_base_url: Option<String>,
    /// The OUs that carry the guardrail SCP, comma-separated, by path (Workloads/Prod) or name.
    #[arg(long, value_name = "OUS")]
    pub guardrail_ous: Option<String>,
}

/// Writes the report; prints where and its figures. Exit status 2 when a table object or line
/// could not be read (named on stderr and on the page; the rest is in the report).
pub fn run(args: &ReportArgs) -> anyhow::Result<u8> {
    let options = Options {
        day: args.day,
        runbook_base_url: args.runbook_base_url.clone(),
        guardrail_ous: args
            .guardrail_ous
            .as_deref()
            .map(parse_list)
            .unwrap_or_default(),
        ..Options::default()
    };
    let (report, [dated, latest]) = generate_folder(&args.root, &options)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.root.display()))?;
    for problem in &report.problems {
        eprintln!("iamwatch: {problem}");
    }
    let s = &report.summary;
    let change = match &s.previous {
        Some((day, before)) => format!(
            "{before} -> {} ({:+}) since {day}",
            s.users,
            s.users as i64 - *before as i64
        ),
        None => s.users.to_string(),
    };
    println!(
        "IAM users on {}: {change} in {} accounts ({} not swept); {} risky; {} new, {} removed",
        s.day, s.accounts, s.accounts_failed, s.risky_users, s.new_users, s.removed_users
    );
    println!("{}", dated.display());
    println!("{}", latest.display());
    Ok(if report.problems.is_empty() { 0 } else { 2 })
}
