//! [`SecurityHubSink`]: the core's [`FindingSink`] over Security Hub.
//!
//! # Filing
//!
//! Security Hub accepts a finding under the default product ARN only from the account named in
//! its `AwsAccountId`, so the findings of one `file` are grouped by account and each group is
//! imported in its own account through the member role (the groups concurrently), in
//! `BatchImportFindings` calls of at most [`MAX_BATCH`] findings and [`MAX_REQUEST_BYTES`]
//! (the API's limits); a finding larger than [`MAX_FINDING_BYTES`] is refused with its size.
//! When that is refused for good (role not assumable, access denied, Security Hub not enabled
//! there), the finding is filed in the security account instead: `AwsAccountId` and
//! `ProductArn` become the security account's, `ProductFields."iamwatch/FiledIn"` names it, and
//! the `Id` keeps the member account so the finding stays the same finding. Throttling and 5xx
//! of a whole call are retried by the SDK with exponential backoff and jitter
//! ([`crate::config::load_sdk_config`]); findings a call reports in `FailedFindings` with a
//! retryable code (throttling, internal errors) are imported again, up to [`MAX_SENDS`] times
//! with [`backoff`]. What still fails is reported per finding id, `retryable` set as for the
//! call. The report's filed findings are the findings as filed (a fallback one with the
//! security account's fields), so the finding events carry them in that form (the ticket
//! function writes back by `Id` and `ProductArn`).
//!
//! # Archiving
//!
//! [`FindingSink::findings_ended_by`] reads the active iamwatch findings of the event's account
//! (`GetFindings` in the member account, and in the security account for fallback findings)
//! and keeps those [`Resolution::ends`]. Filters are sent, but the result is filtered here
//! again, so a backend that ignores filters (moto) gives the same answer. The caller archives
//! with [`Resolution::archive`] and files the result again (`RecordState = ARCHIVED`).

use crate::accounts::AccountClients;
use crate::asff;
use crate::error::{port_error, THROTTLING_CODES};
use crate::eventbridge::chunks_by_size;
use aws_config::SdkConfig;
use aws_sdk_securityhub::types::{AwsSecurityFindingFilters, StringFilter, StringFilterComparison};
use aws_sdk_securityhub::Client;
use iamwatch_core::finding::{fields, Finding, RecordState};
use iamwatch_core::ports::{backoff, FileReport, FindingSink, PortError};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// Findings per `BatchImportFindings` call (the API's limit).
pub const MAX_BATCH: usize = 100;
/// Size of one `BatchImportFindings` request (the API's limit is 6 MB; this keeps room for the
/// request's own JSON around the findings).
pub const MAX_REQUEST_BYTES: usize = 6_000_000 - 64 * 1024;
/// Size of one finding (the API's limit: 240 KB).
pub const MAX_FINDING_BYTES: usize = 240 * 1024;
/// Imports of findings reported in `FailedFindings` with a retryable code, first one included.
pub const MAX_SENDS: u32 = 4;
/// Wait before the second import of failed findings ([`backoff`], doubled for each later one).
pub const RESEND_BASE_DELAY: Duration = Duration::from_millis(200);
/// The longest wait between imports.
pub const RESEND_MAX_DELAY: Duration = Duration::from_millis(3200);

/// The size of a finding's ASFF JSON (what the request carries of it).
pub fn finding_size(f: &Finding) -> usize {
    serde_json::to_vec(f).map(|v| v.len()).unwrap_or(usize::MAX)
}

/// Whether a `FailedFindings` error code may succeed on a later import.
fn retryable_code(code: &str) -> bool {
    THROTTLING_CODES.contains(&code)
        || code.starts_with("Internal")
        || code == "ServiceUnavailable"
        || code == "TooManyRequestsException"
}
/// Pages of `GetFindings` read per account when looking for the findings a resolution ends.
pub const MAX_PAGES: usize = 50;

/// Files findings in Security Hub. Build once per container.
#[derive(Clone)]
pub struct SecurityHubSink {
    accounts: AccountClients,
    region: String,
    partition: String,
}

impl SecurityHubSink {
    /// `region` and `partition` are those of the product ARN of fallback findings (the ones of
    /// [`iamwatch_core::FindingContext`]).
    pub fn new(
        accounts: AccountClients,
        region: impl Into<String>,
        partition: impl Into<String>,
    ) -> SecurityHubSink {
        SecurityHubSink {
            accounts,
            region: region.into(),
            partition: partition.into(),
        }
    }

    /// `f` as filed in the security account `security_account`.
    pub fn fallback(&self, f: &Finding, security_account: &str) -> Finding {
        let mut out = f.clone();
        out.aws_account_id = security_account.to_string();
        out.product_arn = format!(
            "arn:{}:securityhub:{}:{security_account}:product/{security_account}/default",
            self.partition, self.region
        );
        out.product_fields
            .insert(fields::FILED_IN.to_string(), security_account.to_string());
        out
    }

    /// Every iamwatch finding of Security Hub under `sdk` whose id starts with `id_prefix`
    /// (e.g. `iamwatch/111122223333/`), active or not, filtered here as well as on the server.
    pub async fn get_findings(
        &self,
        sdk: &SdkConfig,
        id_prefix: &str,
        only_active: bool,
    ) -> Result<Vec<Finding>, PortError> {
        let client = Client::new(sdk);
        let mut filters = AwsSecurityFindingFilters::builder().id(StringFilter::builder()
            .comparison(StringFilterComparison::Prefix)
            .value(id_prefix)
            .build());
        if only_active {
            filters = filters.record_state(
                StringFilter::builder()
                    .comparison(StringFilterComparison::Equals)
                    .value("ACTIVE")
                    .build(),
            );
        }
        let filters = filters.build();
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = client
                .get_findings()
                .filters(filters.clone())
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| port_error("securityhub:GetFindings", &e))?;
            for f in page.findings() {
                if !f.id().is_some_and(|id| id.starts_with(id_prefix)) {
                    continue;
                }
                match asff::from_sdk(f) {
                    Ok(f) if !only_active || f.record_state == RecordState::Active => out.push(f),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "skipping a finding that does not convert")
                    }
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Imports findings under `sdk`: calls of at most [`MAX_BATCH`] findings and
    /// [`MAX_REQUEST_BYTES`], findings failed with a retryable code imported again. Returns
    /// the findings filed, and the failures: per finding, or for a whole call that failed.
    async fn import(&self, sdk: &SdkConfig, account: &str, findings: &[Finding]) -> FileReport {
        let client = Client::new(sdk);
        let operation = format!("securityhub:BatchImportFindings in {account}");
        let mut report = FileReport::default();
        let mut sized = Vec::with_capacity(findings.len());
        for f in findings {
            let size = finding_size(f);
            if size > MAX_FINDING_BYTES {
                report.failed.push((
                    f.id.clone(),
                    PortError {
                        operation: operation.clone(),
                        message: format!(
                            "the finding is {size} bytes of ASFF; Security Hub takes at most {MAX_FINDING_BYTES}"
                        ),
                        retryable: false,
                    },
                ));
            } else {
                sized.push((f, size));
            }
        }
        for chunk in chunks_by_size(sized, MAX_BATCH, MAX_REQUEST_BYTES, |(_, n)| *n) {
            let mut todo: Vec<&Finding> = chunk.into_iter().map(|(f, _)| f).collect();
            for send in 1..=MAX_SENDS {
                let call = client
                    .batch_import_findings()
                    .set_findings(Some(todo.iter().map(|f| asff::to_sdk(f)).collect()))
                    .send()
                    .await;
                let out = match call {
                    Ok(out) => out,
                    Err(e) => {
                        let err = port_error(operation.clone(), &e);
                        report
                            .failed
                            .extend(todo.iter().map(|f| (f.id.clone(), err.clone())));
                        break;
                    }
                };
                let mut failed: BTreeMap<String, PortError> = BTreeMap::new();
                for e in out.failed_findings() {
                    let code = e.error_code().unwrap_or("UnknownError");
                    failed.insert(
                        e.id().unwrap_or_default().to_string(),
                        PortError {
                            operation: operation.clone(),
                            message: format!("{code}: {}", e.error_message().unwrap_or("")),
                            retryable: retryable_code(code),
                        },
                    );
                }
                let mut again = Vec::new();
                for f in todo {
                    match failed.remove(&f.id) {
                        None => report.filed.push(f.clone()),
                        Some(err) if err.retryable && send < MAX_SENDS => again.push((f, err)),
                        Some(err) => report.failed.push((f.id.clone(), err)),
                    }
                }
                // Failed ids that name no finding of the call: reported as they came.
                report.failed.extend(failed);
                if again.is_empty() {
                    break;
                }
                tracing::warn!(
                    account,
                    failed = again.len(),
                    error = %again[0].1,
                    "importing failed findings again"
                );
                tokio::time::sleep(backoff(send, RESEND_BASE_DELAY, RESEND_MAX_DELAY)).await;
                todo = again.into_iter().map(|(f, _)| f).collect();
            }
        }
        report
    }

    /// Files the findings of one member account, falling back to the security account for
    /// those refused for good.
    async fn file_in_member(&self, account: &str, findings: &[Finding]) -> FileReport {
        let (mut report, refused) = match self.accounts.for_account(account).await {
            Ok(sdk) => {
                let mut r = self.import(&sdk, account, findings).await;
                let refused: Vec<(String, PortError)> = r.failed.drain(..).collect();
                let (refused, retry_later): (Vec<_>, Vec<_>) =
                    refused.into_iter().partition(|(_, e)| !e.retryable);
                r.failed = retry_later;
                (r, refused)
            }
            Err(e) if !e.retryable => (
                FileReport::default(),
                findings.iter().map(|f| (f.id.clone(), e.clone())).collect(),
            ),
            Err(e) => {
                return FileReport {
                    filed: Vec::new(),
                    failed: findings.iter().map(|f| (f.id.clone(), e.clone())).collect(),
                }
            }
        };
        if refused.is_empty() {
            return report;
        }
        let security = match self.accounts.own_account_id().await {
            Ok(a) => a,
            Err(e) => {
                report
                    .failed
                    .extend(refused.into_iter().map(|(id, _)| (id, e.clone())));
                return report;
            }
        };
        let reasons: BTreeMap<&str, &PortError> =
            refused.iter().map(|(id, e)| (id.as_str(), e)).collect();
        let moved: Vec<Finding> = findings
            .iter()
            .filter(|f| reasons.contains_key(f.id.as_str()))
            .map(|f| self.fallback(f, &security))
            .collect();
        if let Some((_, first)) = refused.first() {
            tracing::warn!(
                account,
                security_account = %security,
                count = moved.len(),
                error = %first,
                "filing in the security account instead of the member account"
            );
        }
        let fallback = self.import(self.accounts.base(), &security, &moved).await;
        report.filed.extend(fallback.filed);
        report.failed.extend(fallback.failed);
        report
    }
}

impl FindingSink for SecurityHubSink {
    async fn file(&self, findings: &[Finding]) -> FileReport {
        // Group by the account to file in; fallback findings stay in the security account.
        let mut member: BTreeMap<&str, Vec<Finding>> = BTreeMap::new();
        let mut security: Vec<Finding> = Vec::new();
        for f in findings {
            if f.field(fields::FILED_IN).is_some() {
                security.push(f.clone());
            } else {
                member
                    .entry(f.aws_account_id.as_str())
                    .or_default()
                    .push(f.clone());
            }
        }
        let mut report = FileReport::default();
        // The accounts concurrently: each has its own Security Hub quota.
        let mut set = tokio::task::JoinSet::new();
        for (account, group) in member {
            let this = self.clone();
            let account = account.to_string();
            set.spawn(async move { this.file_in_member(&account, &group).await });
        }
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(r) => {
                    report.filed.extend(r.filed);
                    report.failed.extend(r.failed);
                }
                Err(e) => tracing::error!(error = %e, "a filing task failed"),
            }
        }
        if !security.is_empty() {
            let r = self
                .import(self.accounts.base(), "the security account", &security)
                .await;
            report.filed.extend(r.filed);
            report.failed.extend(r.failed);
        }
        report
    }

    async fn active_findings(&self, account: &str) -> Result<Vec<Finding>, PortError> {
        let prefix = format!("iamwatch/{account}/");
        let mut found: Vec<Finding> = Vec::new();
        match self.accounts.for_account(account).await {
            Ok(sdk) => match self.get_findings(&sdk, &prefix, true).await {
                Ok(fs) => found.extend(fs),
                Err(e) if e.retryable => return Err(e),
                Err(e) => tracing::warn!(error = %e, "cannot read the member account's findings"),
            },
            Err(e) if e.retryable => return Err(e),
            Err(e) => tracing::warn!(error = %e, "cannot read the member account's findings"),
        }
        let own = self.accounts.own_account_id().await?;
        if own != account {
            found.extend(
                self.get_findings(self.accounts.base(), &prefix, true)
                    .await?,
            );
        }
        let mut seen = HashSet::new();
        found.retain(|f| f.record_state == RecordState::Active && seen.insert(f.id.clone()));
        Ok(found)
    }
}
