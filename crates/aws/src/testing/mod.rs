//! Test support (feature `test-support`): `Memory*` doubles of the core's ports, for handler
//! tests (they keep what they are given in memory and fail on request, so tests can drive every
//! branch of a handler without AWS), and [`records`], the one builder of sample CloudTrail
//! records and EventBridge envelopes.

pub mod records;

pub use records::{create_user_record, sample_finding};

use iamwatch_core::enrich::{AccountInfo, Enrichment, UserDetails};
use iamwatch_core::finding::{Finding, RecordState};
use iamwatch_core::finding_event::FindingEvent;
use iamwatch_core::ports::{
    Enricher, FileReport, FindingPublisher, FindingSink, PortError, PublishReport,
};
use iamwatch_core::CloudTrailRecord;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A retryable or permanent error for doubles to return.
pub fn port_error(operation: &str, retryable: bool) -> PortError {
    PortError {
        operation: operation.to_string(),
        message: if retryable {
            "ThrottlingException (HTTP 400): Rate exceeded"
        } else {
            "AccessDenied (HTTP 403): denied"
        }
        .to_string(),
        retryable,
    }
}

/// Enrichment from maps: accounts by id, users by (account, name). An account or user not in
/// the maps becomes a gap, as a lookup failure would.
#[derive(Default)]
pub struct MemoryEnricher {
    pub accounts: Mutex<HashMap<String, AccountInfo>>,
    pub users: Mutex<HashMap<(String, String), UserDetails>>,
    /// Every call: (account, target user).
    pub calls: Mutex<Vec<(String, Option<String>)>>,
}

impl MemoryEnricher {
    pub fn with_account(self, id: &str, name: &str, ou_path: &[&str]) -> Self {
        lock(&self.accounts).insert(
            id.to_string(),
            AccountInfo {
                id: id.to_string(),
                name: Some(name.to_string()),
                ou_path: ou_path.iter().map(|s| s.to_string()).collect(),
                tags: BTreeMap::new(),
            },
        );
        self
    }

    pub fn with_user(self, account: &str, user: UserDetails) -> Self {
        lock(&self.users).insert((account.to_string(), user.user_name.clone()), user);
        self
    }
}

impl Enricher for MemoryEnricher {
    /// The accounts it knows are the organization's (`None` when it knows none).
    async fn org_accounts(&self) -> Option<std::collections::BTreeSet<String>> {
        let accounts = lock(&self.accounts);
        (!accounts.is_empty()).then(|| accounts.keys().cloned().collect())
    }

    async fn enrich(&self, record: &CloudTrailRecord, target_user: Option<&str>) -> Enrichment {
        let account = record.account_id().to_string();
        lock(&self.calls).push((account.clone(), target_user.map(str::to_string)));
        let mut e = Enrichment::default();
        match lock(&self.accounts).get(&account) {
            Some(a) => e.account = Some(a.clone()),
            None => e
                .gaps
                .push(format!("organizations: account {account} unknown")),
        }
        if let Some(u) = target_user {
            match lock(&self.users).get(&(account.clone(), u.to_string())) {
                Some(d) => e.target_user = Some(d.clone()),
                None => e.gaps.push(format!("iam: user {u} unknown in {account}")),
            }
        }
        e
    }
}

/// Findings by id, as Security Hub keeps them. `fail` makes filing of an id fail.
#[derive(Default)]
pub struct MemoryFindingSink {
    pub findings: Mutex<BTreeMap<String, Finding>>,
    /// Ids whose filing fails, with the error (kept until removed).
    pub fail: Mutex<HashMap<String, PortError>>,
    /// When set, `findings_ended_by` fails with it.
    pub fail_lookup: Mutex<Option<PortError>>,
    /// Number of `file` calls.
    pub file_calls: Mutex<usize>,
    /// Findings per `file` call, in order.
    pub batches: Mutex<Vec<usize>>,
    /// How long each `file` call takes (none by default).
    pub delay: Mutex<std::time::Duration>,
}

impl MemoryFindingSink {
    pub fn get(&self, id: &str) -> Option<Finding> {
        lock(&self.findings).get(id).cloned()
    }

    pub fn all(&self) -> Vec<Finding> {
        lock(&self.findings).values().cloned().collect()
    }
}

impl FindingSink for MemoryFindingSink {
    async fn file(&self, findings: &[Finding]) -> FileReport {
        *lock(&self.file_calls) += 1;
        lock(&self.batches).push(findings.len());
        let delay = *lock(&self.delay);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let fail = lock(&self.fail).clone();
        let mut report = FileReport::default();
        let mut store = lock(&self.findings);
        for f in findings {
            match fail.get(&f.id) {
                Some(e) => report.failed.push((f.id.clone(), e.clone())),
                None => {
                    store.insert(f.id.clone(), f.clone());
                    report.filed.push(f.clone());
                }
            }
        }
        report
    }

    async fn active_findings(&self, account: &str) -> Result<Vec<Finding>, PortError> {
        if let Some(e) = lock(&self.fail_lookup).clone() {
            return Err(e);
        }
        let prefix = format!("iamwatch/{account}/");
        Ok(lock(&self.findings)
            .values()
            .filter(|f| f.record_state == RecordState::Active && f.id.starts_with(&prefix))
            .cloned()
            .collect())
    }
}

/// Finding events, in the order published. `fail` makes every publish fail, `fail_ids` the
/// events of those finding ids.
#[derive(Default)]
pub struct MemoryPublisher {
    pub events: Mutex<Vec<FindingEvent>>,
    pub fail: Mutex<Option<PortError>>,
    /// Finding ids whose event fails, with the error (kept until removed).
    pub fail_ids: Mutex<HashMap<String, PortError>>,
    /// Events per `publish` call, in order.
    pub batches: Mutex<Vec<usize>>,
}

impl MemoryPublisher {
    pub fn published(&self) -> Vec<FindingEvent> {
        lock(&self.events).clone()
    }
}

impl FindingPublisher for MemoryPublisher {
    async fn publish(&self, events: &[FindingEvent]) -> PublishReport {
        lock(&self.batches).push(events.len());
        let mut report = PublishReport::default();
        if let Some(e) = lock(&self.fail).clone() {
            report.failed = events
                .iter()
                .map(|ev| (ev.finding_id.clone(), e.clone()))
                .collect();
            return report;
        }
        let fail = lock(&self.fail_ids).clone();
        for ev in events {
            match fail.get(&ev.finding_id) {
                Some(e) => report.failed.push((ev.finding_id.clone(), e.clone())),
                None => lock(&self.events).push(ev.clone()),
            }
        }
        report
    }
}
