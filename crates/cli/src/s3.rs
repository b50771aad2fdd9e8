//! `iamwatch scan s3://BUCKET/PREFIX`: the same scan as for local files over the objects of
//! CloudTrail's S3 layout that the flags keep (see the `iamwatch-s3` crate). Credentials,
//! region and endpoint come from the standard AWS environment (profile, `AWS_REGION`,
//! `AWS_ENDPOINT_URL`, `AWS_MAX_ATTEMPTS`).

use crate::ScanArgs;
use anyhow::Context;
use iamwatch_core::time::parse_millis;
use iamwatch_s3::layout::{parse_accounts, parse_regions};
use iamwatch_s3::{Bound, Filters, S3Source, S3Url, Window};
use iamwatch_scan::{Options, Outcome, Reporter};

/// Objects fetched (and listings made) at once unless `--threads` says otherwise.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// The flags of the S3 layout.
fn filters(args: &ScanArgs) -> anyhow::Result<Filters> {
    let bound = |flag: &str, v: &Option<String>| -> anyhow::Result<Option<Bound>> {
        v.as_deref()
            .map(Bound::parse)
            .transpose()
            .with_context(|| format!("--{flag}"))
    };
    Ok(Filters {
        window: Window {
            since: bound("since", &args.since)?,
            until: bound("until", &args.until)?,
        },
        accounts: parse_accounts(args.accounts.as_deref().unwrap_or("")).context("--accounts")?,
        regions: parse_regions(args.regions.as_deref().unwrap_or("")).context("--regions")?,
    })
}

/// Scans the objects under the `s3://` URLs of `args`. With an instant for `--since` or
/// `--until`, findings of events outside it are left out (the day folders of the boundary
/// days hold the rest of those days).
pub fn scan(
    args: &ScanArgs,
    mut options: Options,
    reporter: &dyn Reporter,
) -> anyhow::Result<Outcome> {
    let urls = args
        .paths
        .iter()
        .map(|p| S3Url::parse(&p.to_string_lossy()))
        .collect::<Result<Vec<_>, _>>()?;
    let filters = filters(args)?;
    let window = filters.window;
    let concurrency = args.threads.unwrap_or(DEFAULT_CONCURRENCY);
    options.threads = Some(concurrency);
    let runtime = iamwatch_aws::runtime::builder()
        .worker_threads(2)
        .build()
        .context("cannot start the async runtime")?;
    let sdk = runtime.block_on(iamwatch_aws::config::load_sdk_config());
    let source = S3Source::new(
        iamwatch_s3::client(&sdk),
        runtime.handle().clone(),
        urls,
        filters,
        concurrency,
    )?;
    let mut outcome = iamwatch_scan::scan(&source, &options, reporter)?;
    if window.has_times() {
        outcome
            .findings
            .retain(|f| parse_millis(&f.first_observed_at).is_none_or(|ms| window.admits(ms)));
    }
    Ok(outcome)
}
