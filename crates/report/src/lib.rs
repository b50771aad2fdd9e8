//! The inventory report: the daily IAM user tables under an inventory root as one static HTML page
//! (inline CSS and SVG, no script, no external asset), written as
//! `inventory/v1/report/dt=YYYY-MM-DD/index.html` and `inventory/v1/report/latest.html`.
//!
//! The page shows the IAM user count of every day found (a chart and its table), the day's new and
//! removed users, the risky users by score with their rules and runbook links, a table per account
//! (users, risky users, keys, the sweep's status and error, live-path coverage gaps) and per OU
//! (the same rolled up the tree, which OUs are at zero, which carry the guardrail SCP).
//!
//! No AWS SDK: the sweep hands its days over through [`InventoryStore`] and writes the page where
//! [`report_keys`] says; the command line reads a folder ([`FolderStore`], [`generate_folder`]).
//!
//! # Layout
//!
//! - [`store`]: [`InventoryStore`], the read-only view of a root, [`FolderStore`] and
//!   [`MemoryStore`].
//! - `read`: gzip JSON Lines objects to rows, bad objects and lines named and skipped.
//! - [`model`]: the figures (trend, change, risky users, OU roll-up), pure and unit-tested.
//! - `chart`: the trend as inline SVG (plotters, SVG backend).
//! - `page`: the figures as the askama template `templates/report.html`.

mod chart;
pub mod model;
mod page;
mod read;
pub mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use iamwatch_core::inventory::{AccountRow, AccountStatus, Day, Table, UserRow};
pub use model::Inventory;
pub use store::{FolderStore, InventoryStore, MemoryStore, StoreError, TableObject};

/// How the report is made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The report's day; default the latest day found under the root.
    pub day: Option<Day>,
    /// Base URL of the runbooks (`<base>/<rule-id>.md`); without it links name
    /// `runbooks/<rule-id>.md` (see `iamwatch_core::links`).
    pub runbook_base_url: Option<String>,
    /// The OUs that carry the guardrail SCP, by id (`ou-abcd-12345678`, looked up in
    /// [`ou_ids`](Options::ou_ids)), path (`Workloads/Prod`) or unique name; an OU below one of
    /// them inherits it. Entries that match no OU of the day's accounts are listed on the page.
    /// (`IAMWATCH_GUARDRAIL_OUS`, comma-separated: see [`parse_list`].)
    pub guardrail_ous: Vec<String>,
    /// OU ids and their paths from the root (`ou-abcd-12345678` -> `["Workloads", "Prod"]`), as
    /// the sweep reads them from Organizations: the tables name OUs by path only.
    pub ou_ids: BTreeMap<String, Vec<String>>,
    /// Per account, the users the sweep found that the live path missed (created since the
    /// previous sweep with no real-time finding). `None`: not measured (said so on the page).
    pub coverage_gaps: Option<BTreeMap<String, Vec<String>>>,
    /// At most this many rows in each user list of the page (risky, new, removed; default
    /// [`DEFAULT_MAX_ROWS`]); the page says how many more the users table holds.
    pub max_rows: Option<usize>,
}

/// The default of [`Options::max_rows`]: a page that stays quick to open.
pub const DEFAULT_MAX_ROWS: usize = 500;

/// The figures of the report, for a notification line
/// ("IAM users: 312 -> 297 (-15) in 120 accounts; 41 risky; report: URL").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The report's day.
    pub day: Day,
    /// IAM users on the day.
    pub users: u64,
    /// The previous day found and its count, if any.
    pub previous: Option<(Day, u64)>,
    /// Accounts in the day's table.
    pub accounts: usize,
    /// Of them, accounts whose sweep failed.
    pub accounts_failed: usize,
    /// Users with at least one hygiene rule firing.
    pub risky_users: usize,
    /// Users new since the previous day found.
    pub new_users: usize,
    /// Users gone since the previous day found.
    pub removed_users: usize,
    /// Users the live path missed.
    pub coverage_gaps: usize,
}

/// A rendered report.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The report's day.
    pub day: Day,
    /// The page.
    pub html: String,
    /// Its figures.
    pub summary: Summary,
    /// What was skipped while reading (also listed on the page).
    pub problems: Vec<String>,
}

/// Why no report could be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The store could not be read.
    #[error("reading the inventory: {0}")]
    Store(#[from] StoreError),
    /// No `dt=YYYY-MM-DD` partition of the users or accounts table was found.
    #[error("no day of the users or accounts table under the inventory root (looked for inventory/v1/{{users,accounts}}/dt=YYYY-MM-DD/)")]
    NoDays,
    /// The day asked for has no table.
    #[error("no users or accounts table for {0} under the inventory root")]
    DayNotFound(Day),
    /// The chart could not be drawn.
    #[error("drawing the {0}")]
    Chart(String),
    /// The template could not be rendered.
    #[error("rendering the page: {0}")]
    Template(String),
    /// A store that is not ready at once was given to [`generate_now`].
    #[error("the inventory store did not answer at once")]
    Pending,
}

impl ReportError {
    /// Whether trying again may succeed.
    pub fn retryable(&self) -> bool {
        matches!(self, ReportError::Store(e) if e.retryable)
    }
}

/// The keys of the report under the inventory root (a folder or an S3 prefix):
/// `inventory/v1/report/dt=YYYY-MM-DD/index.html` and `inventory/v1/report/latest.html`.
pub fn report_keys(day: Day) -> [String; 2] {
    [
        iamwatch_core::inventory::table::report_key(day),
        iamwatch_core::inventory::table::LATEST_REPORT_KEY.to_string(),
    ]
}

/// Splits a comma-separated list (`IAMWATCH_GUARDRAIL_OUS`), trimming and dropping empty items.
pub fn parse_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Reads what the report needs from `store`: the accounts table of every day up to the report's
/// day, and the users tables of that day and of the day before it that has one.
pub async fn load<S: InventoryStore>(
    store: &S,
    day: Option<Day>,
) -> Result<Inventory, ReportError> {
    let mut inv = Inventory::default();
    fn days_of(names: Vec<String>, table: Table, problems: &mut Vec<String>) -> BTreeSet<Day> {
        let mut days = BTreeSet::new();
        for name in names {
            match name.strip_prefix("dt=").unwrap_or(&name).parse::<Day>() {
                Ok(d) => {
                    days.insert(d);
                }
                Err(_) => problems.push(format!(
                    "{}/{name}: not a dt=YYYY-MM-DD partition; skipped",
                    table.name()
                )),
            }
        }
        days
    }
    let account_days = days_of(
        store.days(Table::Accounts).await?,
        Table::Accounts,
        &mut inv.problems,
    );
    let user_days = days_of(
        store.days(Table::Users).await?,
        Table::Users,
        &mut inv.problems,
    );
    let today = match day {
        Some(d) if account_days.contains(&d) || user_days.contains(&d) => d,
        Some(d) => return Err(ReportError::DayNotFound(d)),
        None => account_days
            .iter()
            .chain(&user_days)
            .max()
            .cloned()
            .ok_or(ReportError::NoDays)?,
    };
    let previous_users_day = user_days.range(..today).next_back().copied();
    for &d in account_days.range(..=today) {
        let objects = store.objects(Table::Accounts, d).await?;
        let rows: Vec<AccountRow> = read::rows(objects, &mut inv.problems);
        inv.accounts.insert(d, rows);
    }
    for d in [Some(today), previous_users_day].into_iter().flatten() {
        if user_days.contains(&d) {
            let objects = store.objects(Table::Users, d).await?;
            let rows: Vec<UserRow> = read::rows(objects, &mut inv.problems);
            inv.users.insert(d, rows);
        }
    }
    if !account_days.contains(&today) {
        inv.problems.push(format!(
            "accounts/dt={today}: no accounts table; the day's accounts are unknown"
        ));
    }
    inv.today = Some(today);
    Ok(inv)
}

/// Renders the report of an [`Inventory`] already read.
pub fn render(inventory: &Inventory, options: &Options) -> Result<Rendered, ReportError> {
    let (html, summary) = page::render(inventory, options)?;
    Ok(Rendered {
        day: summary.day,
        html,
        summary,
        problems: inventory.problems.clone(),
    })
}

/// Reads `store` and renders the report: what the sweep calls, then it writes
/// [`Rendered::html`] under [`report_keys`].
pub async fn generate<S: InventoryStore>(
    store: &S,
    options: &Options,
) -> Result<Rendered, ReportError> {
    let inventory = load(store, options.day).await?;
    render(&inventory, options)
}

/// [`generate`] without an async runtime, for a store whose reads are ready at once
/// ([`FolderStore`]'s file reads, [`MemoryStore`]); [`ReportError::Pending`] for any other.
pub fn generate_now<S: InventoryStore>(
    store: &S,
    options: &Options,
) -> Result<Rendered, ReportError> {
    let mut future = std::pin::pin!(generate(store, options));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => Err(ReportError::Pending),
    }
}

/// Renders the report of the inventory in the folder `root` and writes it there; returns the
/// report and the paths of `index.html` and `latest.html`.
pub fn generate_folder(
    root: &Path,
    options: &Options,
) -> Result<(Rendered, [PathBuf; 2]), ReportError> {
    let store = FolderStore::new(root);
    let rendered = generate_now(&store, options)?;
    let paths = store.write_report(&rendered)?;
    Ok((rendered, paths))
}

use std::future::Future as _;

#[cfg(test)]
mod tests {
    use super::*;
    use iamwatch_core::inventory::table::write_jsonl_gz;

    /// The sweep runs the report on a multi-threaded runtime: its future must be `Send`.
    #[test]
    fn generate_is_send() {
        fn send<T: Send>(_: &T) {}
        let (store, options) = (MemoryStore::new(), Options::default());
        send(&generate(&store, &options));
    }

    /// A store read in bulk (an S3 prefix listed and fetched) gives the same report as a folder.
    #[test]
    fn memory_store_reads_keys_under_a_prefix() {
        let day: Day = "2026-12-01".parse().unwrap();
        let account = model::tests::account("111111111111", &["Prod"], 1, true);
        let user = model::tests::user("111111111111", "alice", 40, &["console-password-unused"]);
        let mut store = MemoryStore::new();
        store.put(
            format!(
                "iamwatch/{}",
                Table::Accounts.object_key(day, "111111111111")
            ),
            write_jsonl_gz(&[account]),
        );
        store.put(
            format!("iamwatch/{}", Table::Users.object_key(day, "111111111111")),
            write_jsonl_gz(&[user]),
        );
        store.put("iamwatch/inventory/v1/report/latest.html", b"old".to_vec());
        let report = generate_now(&store, &Options::default()).unwrap();
        assert_eq!(report.day, day);
        assert_eq!(report.summary.users, 1);
        assert_eq!(report.summary.risky_users, 1);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(
            report_keys(day),
            [
                "inventory/v1/report/dt=2026-12-01/index.html".to_string(),
                "inventory/v1/report/latest.html".to_string()
            ]
        );
    }
}
