//! `iamwatch inventory sweep` (cargo feature `aws`): the daily sweep of every account's IAM
//! users, run once from the command line with the environment of the `inventory` function
//! (`IAMWATCH_MEMBER_ROLE`, `IAMWATCH_ORG_ROLE_ARN`, `IAMWATCH_SLACK_SECRET_ARN`, ...,
//! `AWS_ENDPOINT_URL`); flags override it.

use anyhow::Context;
use iamwatch_sweep::config::{SweepConfig, MAX_CONCURRENCY};
use iamwatch_sweep::sweep::SweepOptions;
use std::collections::BTreeSet;

#[derive(clap::Args)]
pub struct SweepArgs {
    /// Where the tables and the report go: a folder, or s3://bucket/prefix
    /// (default: IAMWATCH_INVENTORY_OUT).
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    pub out: Option<String>,
    /// Only these accounts (comma-separated 12-digit ids); the other objects of the day stay.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub accounts: Vec<String>,
    /// Accounts swept at once (default: IAMWATCH_INVENTORY_CONCURRENCY, else 32).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=MAX_CONCURRENCY as i64))]
    pub concurrency: Option<u16>,
    /// Policy file (TOML; default: IAMWATCH_POLICY_FILE): the [inventory] thresholds and
    /// owner tags, OUs, suppressions.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<std::path::PathBuf>,
}

/// Runs the sweep; exit status 0 when every account was swept and every finding filed, 2
/// otherwise (the tables of the accounts that were swept are written all the same).
pub fn run(args: SweepArgs) -> anyhow::Result<u8> {
    let mut cfg = SweepConfig::from_lookup(|k| std::env::var(k).ok(), args.out.as_deref())?;
    if let Some(n) = args.concurrency {
        cfg.concurrency = usize::from(n);
    }
    if args.policy.is_some() {
        cfg.policy_file = args.policy.clone();
    }
    let policy = cfg.load_policy()?;
    let mut accounts = BTreeSet::new();
    for a in args
        .accounts
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
    {
        if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
            anyhow::bail!("--accounts: {a:?} is not a 12-digit account id");
        }
        accounts.insert(a.to_string());
    }
    let mut options = SweepOptions::now();
    options.concurrency = cfg.concurrency;
    options.accounts = (!accounts.is_empty()).then_some(accounts);
    options.runbook_base_url = cfg.runbook_base_url.clone();
    options.guardrail_ous = cfg.guardrail_ous.clone();
    let summary = iamwatch_aws::runtime::run(move || async move {
        let sdk = iamwatch_aws::config::load_sdk_config().await;
        iamwatch_aws::inventory::run_sweep(&cfg, &sdk, &policy, &options).await
    })
    .context("starting the async runtime")??;
    for n in &summary.notes {
        eprintln!("iamwatch: note: {n}");
    }
    for (account, e) in &summary.accounts_failed {
        eprintln!("iamwatch: account {account} not swept: {e}");
    }
    for (id, e) in &summary.findings_failed {
        eprintln!("iamwatch: finding {id} not filed: {e}");
    }
    if let Some(e) = &summary.report_error {
        eprintln!("iamwatch: no report: {e}");
    }
    for (account, users) in &summary.coverage_gaps {
        eprintln!(
            "iamwatch: {account}: {} users with no real-time finding (filed as iam-user-created, found by the daily sweep): {}",
            users.len(),
            users.join(", ")
        );
    }
    println!("{}", summary.line);
    println!(
        "findings: {} filed, {} archived, {} failed",
        summary.findings_filed,
        summary.findings_archived,
        summary.findings_failed.len()
    );
    let clean = summary.accounts_failed.is_empty()
        && summary.findings_failed.is_empty()
        && summary.report_error.is_none();
    Ok(if clean { 0 } else { 2 })
}
