//! The whole sweep: the organization's accounts, each swept with bounded concurrency (one
//! account's failure recorded in its accounts row, never stopping the others), the day's tables
//! written (a re-run of the day overwrites them whole), findings filed and archived, then the
//! report ([`publish_report`]) and the summary line.

use crate::account::{self, AccountOptions, Previous, Swept};
use crate::ports::{IamSource, OrgSource, SummaryNotifier, TableStore};
use crate::report::ReportWait;
use crate::store::{accounts_on, days, read_rows};
use futures_util::stream::{self, StreamExt};
use iamwatch_core::enrich::AccountInfo;
use iamwatch_core::finding::Finding;
use iamwatch_core::inventory::table::write_jsonl_gz;
use iamwatch_core::inventory::{AccountRow, AccountStatus, Day, Table, UserRow};
use iamwatch_core::ports::{FindingSink, PortError};
use iamwatch_core::{FindingContext, Policy};
use std::collections::{BTreeMap, BTreeSet};

/// Accounts swept at once unless said otherwise (`IAMWATCH_INVENTORY_CONCURRENCY`).
pub const DEFAULT_CONCURRENCY: usize = 32;

/// How a sweep runs.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// The day of the tables (`dt=`): the UTC day of the sweep.
    pub day: Day,
    /// The sweep's clock (ms since the epoch).
    pub now_ms: i64,
    /// Accounts swept at once.
    pub concurrency: usize,
    /// Only these accounts (`--accounts`); `None`: every active account of the organization.
    pub accounts: Option<BTreeSet<String>>,
    pub report_wait: ReportWait,
    /// See [`AccountOptions::watchdog_grace_ms`].
    pub watchdog_grace_ms: i64,
    /// What the report needs beside the tables (runbook links, guardrail OUs).
    pub runbook_base_url: Option<String>,
    pub guardrail_ous: Vec<String>,
}

impl SweepOptions {
    /// Today (UTC) by the system clock, every account, the default concurrency and waits.
    pub fn now() -> SweepOptions {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        SweepOptions {
            day: Day::from_millis(now_ms),
            now_ms,
            concurrency: DEFAULT_CONCURRENCY,
            accounts: None,
            report_wait: ReportWait::default(),
            watchdog_grace_ms: 15 * 60 * 1000,
            runbook_base_url: None,
            guardrail_ous: Vec::new(),
        }
    }
}

/// What a sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepSummary {
    pub day: Option<Day>,
    /// Accounts swept, and those that failed with why.
    pub accounts_ok: usize,
    pub accounts_failed: Vec<(String, String)>,
    pub users: u64,
    /// The total of the previous day found, and that day.
    pub previous: Option<(Day, u64)>,
    pub risky_users: u64,
    /// Users the live path missed, per account.
    pub coverage_gaps: BTreeMap<String, Vec<String>>,
    pub findings_filed: usize,
    pub findings_archived: usize,
    /// Findings that could not be filed: id and why.
    pub findings_failed: Vec<(String, String)>,
    /// What was not read but did not fail an account.
    pub notes: Vec<String>,
    /// Where the report (or, without one, the day's accounts table) is.
    pub report: String,
    /// Why no report was written, when none was.
    pub report_error: Option<String>,
    /// The summary line (also posted when a notifier is set).
    pub line: String,
}

/// The adapters a sweep drives.
pub struct Sweeper<'a, O, I, S, F, N> {
    pub org: &'a O,
    pub iam: &'a I,
    pub store: &'a S,
    pub sink: &'a F,
    /// Where the summary line goes; `None`: nowhere but the summary.
    pub notifier: Option<&'a N>,
    pub policy: &'a Policy,
    pub ctx: &'a FindingContext,
}

/// One account's outcome.
struct Outcome {
    info: AccountInfo,
    result: Result<Swept, PortError>,
    filed: usize,
    archived: usize,
    failed: Vec<(String, String)>,
    write_error: Option<String>,
}

impl<O, I, S, F, N> Sweeper<'_, O, I, S, F, N>
where
    O: OrgSource,
    I: IamSource,
    S: TableStore,
    F: FindingSink,
    N: SummaryNotifier,
{
    /// Runs the sweep. `Err` only when the organization cannot be read (nothing to sweep) or
    /// the day's tables cannot be listed.
    pub async fn run(&self, options: &SweepOptions) -> Result<SweepSummary, PortError> {
        let org = self.org.organization().await?;
        let day = options.day;
        let mut accounts: Vec<AccountInfo> = org.accounts.clone();
        let mut unknown = Vec::new();
        if let Some(only) = &options.accounts {
            let known: BTreeSet<&str> = accounts.iter().map(|a| a.id.as_str()).collect();
            unknown = only
                .iter()
                .filter(|a| !known.contains(a.as_str()))
                .cloned()
                .collect();
            accounts.retain(|a| only.contains(&a.id));
        }
        let all_days = days(self.store, Table::Accounts).await?;
        let previous_day = all_days.iter().rev().find(|d| **d < day).copied();

        let concurrency = options.concurrency.max(1);
        let mut outcomes: Vec<Outcome> = stream::iter(accounts.iter().cloned())
            .map(|info| self.one(info, previous_day, options))
            .buffer_unordered(concurrency)
            .collect()
            .await;
        for id in unknown {
            let info = AccountInfo {
                id: id.clone(),
                ..AccountInfo::default()
            };
            let err = PortError {
                operation: format!("organizations: account {id}"),
                message: "not an active account of the organization".to_string(),
                retryable: false,
            };
            let write_error = self
                .write(&info, day, &Err(err.clone()))
                .await
                .err()
                .map(|e| e.to_string());
            outcomes.push(Outcome {
                info,
                result: Err(err),
                filed: 0,
                archived: 0,
                failed: Vec::new(),
                write_error,
            });
        }
        outcomes.sort_by(|a, b| a.info.id.cmp(&b.info.id));

        let mut summary = SweepSummary {
            day: Some(day),
            ..SweepSummary::default()
        };
        // A full sweep replaces the whole day: objects of accounts no longer swept go.
        if options.accounts.is_none() {
            let now: BTreeSet<&str> = outcomes.iter().map(|o| o.info.id.as_str()).collect();
            for table in [Table::Users, Table::Accounts] {
                for stale in accounts_on(self.store, table, day).await? {
                    if !now.contains(stale.as_str()) {
                        if let Err(e) = self.store.delete(&table.object_key(day, &stale)).await {
                            summary.notes.push(e.to_string());
                        }
                    }
                }
            }
        }
        for o in &outcomes {
            summary.findings_filed += o.filed;
            summary.findings_archived += o.archived;
            summary.findings_failed.extend(o.failed.iter().cloned());
            if let Some(e) = &o.write_error {
                summary
                    .notes
                    .push(format!("{}: tables not written: {e}", o.info.id));
            }
            match &o.result {
                Ok(s) => {
                    summary.accounts_ok += 1;
                    summary.users += s.users.len() as u64;
                    summary.risky_users +=
                        s.users.iter().filter(|u| !u.rules.is_empty()).count() as u64;
                    summary.notes.extend(s.notes.iter().cloned());
                    if !s.missed.is_empty() {
                        summary.coverage_gaps.insert(
                            o.info.id.clone(),
                            s.missed.iter().map(|(u, _)| u.clone()).collect(),
                        );
                    }
                }
                Err(e) => summary
                    .accounts_failed
                    .push((o.info.id.clone(), e.to_string())),
            }
        }
        if let Some(prev) = previous_day {
            summary.previous = Some((prev, self.total_users(prev).await?));
        }
        match publish_report(self.store, day, &org.ou_ids, &summary, options).await {
            Ok(location) => summary.report = location,
            Err(e) => {
                tracing::error!(error = %e, "no report");
                summary.report = self.store.location(&Table::Accounts.day_prefix(day));
                summary.report_error = Some(e.to_string());
            }
        }
        summary.line = summary_line(&summary);
        if let Some(n) = self.notifier {
            if let Err(e) = n.post(&summary.line).await {
                tracing::error!(error = %e, "the summary line was not posted");
                summary.notes.push(format!("summary not posted: {e}"));
            }
        }
        Ok(summary)
    }

    /// The users of a day's accounts table (swept accounts only).
    async fn total_users(&self, day: Day) -> Result<u64, PortError> {
        let mut total = 0u64;
        for account in accounts_on(self.store, Table::Accounts, day).await? {
            let rows: Option<Vec<AccountRow>> =
                read_rows(self.store, Table::Accounts, day, &account).await?;
            total += rows
                .unwrap_or_default()
                .iter()
                .filter(|r| r.status == AccountStatus::Ok)
                .map(|r| u64::from(r.users))
                .sum::<u64>();
        }
        Ok(total)
    }

    /// The previous sweep of an account: its users and accounts rows of `day`.
    async fn previous(&self, day: Day, account: &str) -> Result<Option<Previous>, PortError> {
        let accounts: Option<Vec<AccountRow>> =
            read_rows(self.store, Table::Accounts, day, account).await?;
        let Some(row) = accounts.and_then(|r| r.into_iter().next()) else {
            return Ok(None);
        };
        if row.status != AccountStatus::Ok {
            return Ok(None);
        }
        let users: Vec<UserRow> = read_rows(self.store, Table::Users, day, account)
            .await?
            .unwrap_or_default();
        Ok(Some(Previous {
            users,
            report_time: row.report_time,
        }))
    }

    async fn one(
        &self,
        info: AccountInfo,
        previous_day: Option<Day>,
        options: &SweepOptions,
    ) -> Outcome {
        let id = info.id.clone();
        let span = tracing::info_span!("account", account = %id);
        let _enter = span.enter();
        drop(_enter);
        let mut notes = Vec::new();
        let previous = match previous_day {
            Some(d) => match self.previous(d, &id).await {
                Ok(p) => p,
                Err(e) => {
                    notes.push(format!("{id}: previous sweep not read: {e}"));
                    None
                }
            },
            None => None,
        };
        let result = async {
            let session = self.iam.session(&id).await?;
            let active = self.sink.active_findings(&id).await;
            let opts = AccountOptions {
                report_wait: options.report_wait,
                now_ms: options.now_ms,
                watchdog_grace_ms: options.watchdog_grace_ms,
            };
            account::sweep(
                &session,
                &info,
                previous.as_ref(),
                active,
                self.policy,
                self.ctx,
                &opts,
            )
            .await
        }
        .await
        .map(|mut s| {
            s.notes.extend(notes);
            s
        });
        match &result {
            Ok(s) => tracing::info!(account = %id, users = s.users.len(), "swept"),
            Err(e) => tracing::warn!(account = %id, error = %e, "account not swept"),
        }
        let write_error = self
            .write(&info, options.day, &result)
            .await
            .err()
            .map(|e| e.to_string());
        let (mut filed, mut archived, mut failed) = (0, 0, Vec::new());
        if let Ok(s) = &result {
            let mut all: Vec<Finding> = s.findings.clone();
            all.extend(s.missed.iter().map(|(_, f)| f.clone()));
            all.extend(s.archived.iter().cloned());
            if !all.is_empty() {
                let report = self.sink.file(&all).await;
                let archived_ids: BTreeSet<&str> =
                    s.archived.iter().map(|f| f.id.as_str()).collect();
                for f in &report.filed {
                    if archived_ids.contains(f.id.as_str()) {
                        archived += 1;
                    } else {
                        filed += 1;
                    }
                }
                for (fid, e) in report.failed {
                    tracing::error!(finding_id = %fid, error = %e, "finding not filed");
                    failed.push((fid, e.to_string()));
                }
            }
        }
        Outcome {
            info,
            result,
            filed,
            archived,
            failed,
            write_error,
        }
    }

    /// Writes an account's objects of the day: its users and its accounts row; an account that
    /// failed has no users object that day.
    async fn write(
        &self,
        info: &AccountInfo,
        day: Day,
        result: &Result<Swept, PortError>,
    ) -> Result<(), PortError> {
        const GZ: &str = "application/gzip";
        let row = match result {
            Ok(s) => AccountRow {
                account_id: info.id.clone(),
                account_name: info.name.clone(),
                ou_path: info.ou_path.clone(),
                users: s.users.len() as u32,
                risky_users: s.users.iter().filter(|u| !u.rules.is_empty()).count() as u32,
                access_keys: s.users.iter().map(|u| u.access_keys.len() as u32).sum(),
                report_time: Some(s.report_time.clone()),
                status: AccountStatus::Ok,
                error: None,
            },
            Err(e) => AccountRow {
                account_id: info.id.clone(),
                account_name: info.name.clone(),
                ou_path: info.ou_path.clone(),
                users: 0,
                risky_users: 0,
                access_keys: 0,
                report_time: None,
                status: AccountStatus::Error,
                error: Some(e.to_string()),
            },
        };
        let users_key = Table::Users.object_key(day, &info.id);
        match result {
            Ok(s) => {
                self.store
                    .put(&users_key, write_jsonl_gz(&s.users), GZ)
                    .await?
            }
            Err(_) => self.store.delete(&users_key).await?,
        }
        self.store
            .put(
                &Table::Accounts.object_key(day, &info.id),
                write_jsonl_gz(&[row]),
                GZ,
            )
            .await
    }
}

/// "IAM users: 312 -> 297 (-15) in 120 accounts; 41 risky; report: URL", with the accounts not
/// swept and the users the live path missed when there are any.
pub fn summary_line(s: &SweepSummary) -> String {
    let count = match s.previous {
        Some((_, before)) => {
            let delta = s.users as i64 - before as i64;
            format!("{before} -> {} ({delta:+})", s.users)
        }
        None => s.users.to_string(),
    };
    let mut line = format!(
        "IAM users: {count} in {} accounts; {} risky",
        s.accounts_ok, s.risky_users
    );
    if !s.accounts_failed.is_empty() {
        line.push_str(&format!("; {} accounts not swept", s.accounts_failed.len()));
    }
    let gaps: usize = s.coverage_gaps.values().map(Vec::len).sum();
    if gaps > 0 {
        line.push_str(&format!("; {gaps} users missed by the real-time path"));
    }
    line.push_str(&format!("; report: {}", s.report));
    line
}

/// The report, made from the tables just written and written beside them
/// (`report/dt=<day>/index.html` and `report/latest.html`); returns where the latest is.
pub async fn publish_report<S: TableStore>(
    store: &S,
    day: Day,
    ou_ids: &BTreeMap<String, Vec<String>>,
    summary: &SweepSummary,
    options: &SweepOptions,
) -> Result<String, String> {
    let report_options = iamwatch_report::Options {
        day: Some(day),
        runbook_base_url: options.runbook_base_url.clone(),
        guardrail_ous: options.guardrail_ous.clone(),
        ou_ids: ou_ids.clone(),
        coverage_gaps: Some(summary.coverage_gaps.clone()),
        max_rows: None,
    };
    let rendered = iamwatch_report::generate(&crate::store::ReportView(store), &report_options)
        .await
        .map_err(|e| e.to_string())?;
    let keys = iamwatch_report::report_keys(day);
    for key in &keys {
        store
            .put(
                key,
                rendered.html.clone().into_bytes(),
                "text/html; charset=utf-8",
            )
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(store.location(&keys[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_line_says_the_trend() {
        let mut s = SweepSummary {
            users: 297,
            previous: Some(("2026-11-30".parse().unwrap(), 312)),
            accounts_ok: 120,
            risky_users: 41,
            report: "https://x/latest.html".into(),
            ..SweepSummary::default()
        };
        assert_eq!(
            summary_line(&s),
            "IAM users: 312 -> 297 (-15) in 120 accounts; 41 risky; report: https://x/latest.html"
        );
        s.previous = None;
        s.accounts_failed = vec![("1".into(), "x".into())];
        s.coverage_gaps
            .insert("1".into(), vec!["a".into(), "b".into()]);
        assert_eq!(
            summary_line(&s),
            "IAM users: 297 in 120 accounts; 41 risky; 1 accounts not swept; 2 users missed by the real-time path; report: https://x/latest.html"
        );
    }
}
