//! [`SecurityHubSink`]: the core's [`FindingSink`] over Security Hub.
//!
//! # Filing
//!
//! Security Hub accepts a finding under the default product ARN only from the account named in
//! its `AwsAccountId`, so each finding is imported in its own account through the member role
//! (`BatchImportFindings`, at most [`MAX_BATCH`] findings a call). When that is refused for
//! good (role not assumable, access denied, Security Hub not enabled there), the finding is
//! filed in the security account instead: `AwsAccountId` and `ProductArn` become the security
//! account's, `ProductFields."iamwatch/FiledIn"` names it, and the `Id` keeps the member
//! account so the finding stays the same finding. Throttling and 5xx are retried by the SDK with
//! exponential backoff and jitter ([`crate::config::load_sdk_config`]); what still fails is
//! reported per finding id, `retryable` set as for the call. The report's filed findings are
//! the findings as filed (a fallback one with the security account's fields), so the finding
//! events carry them in that form (the ticket function writes back by `Id` and `ProductArn`).
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
use aws_config::SdkConfig;
use aws_sdk_securityhub::types::{AwsSecurityFindingFilters, StringFilter, StringFilterComparison};
use aws_sdk_securityhub::Client;
use iamwatch_core::finding::{fields, Finding, RecordState};
use iamwatch_core::ports::{FileReport, FindingSink, PortError};
use std::collections::{BTreeMap, HashSet};

/// Findings per `BatchImportFindings` call (the API's limit).
pub const MAX_BATCH: usize = 100;
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

    /// Imports findings under `sdk`, [`MAX_BATCH`] a call. Returns the findings filed, and the
    /// failures: per finding, or for a whole call that failed.
    async fn import(&self, sdk: &SdkConfig, account: &str, findings: &[Finding]) -> FileReport {
        let client = Client::new(sdk);
        let mut report = FileReport::default();
        for chunk in findings.chunks(MAX_BATCH) {
            let operation = format!("securityhub:BatchImportFindings in {account}");
            let call = client
                .batch_import_findings()
                .set_findings(Some(chunk.iter().map(asff::to_sdk).collect()))
                .send()
                .await;
            match call {
                Ok(out) => {
                    let mut failed = HashSet::new();
                    for e in out.failed_findings() {
                        let id = e.id().unwrap_or_default().to_string();
                        let code = e.error_code().unwrap_or("UnknownError");
                        let retryable = THROTTLING_CODES.contains(&code)
                            || code.starts_with("Internal")
                            || code == "ServiceUnavailable";
                        failed.insert(id.clone());
                        report.failed.push((
                            id,
                            PortError {
                                operation: operation.clone(),
                                message: format!("{code}: {}", e.error_message().unwrap_or("")),
                                retryable,
                            },
                        ));
                    }
                    report
                        .filed
                        .extend(chunk.iter().filter(|f| !failed.contains(&f.id)).cloned());
                }
                Err(e) => {
                    let err = port_error(operation, &e);
                    report
                        .failed
                        .extend(chunk.iter().map(|f| (f.id.clone(), err.clone())));
                }
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
        for (account, group) in member {
            let r = self.file_in_member(account, &group).await;
            report.filed.extend(r.filed);
            report.failed.extend(r.failed);
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
