//! The narrow capabilities the sweep needs from the outside world: the organization's accounts,
//! IAM in one account, a place for the tables, and a channel for the summary line. `iamwatch-aws`
//! implements the first three over Organizations, IAM and S3 ([`crate::store::FolderStore`] is
//! the folder form of the third); [`iamwatch_notify::SlackNotifier`] is the fourth. Findings go
//! through the core's [`iamwatch_core::ports::FindingSink`], as in the detect function.
//!
//! # Contract
//!
//! - Every method may be called concurrently from several tasks.
//! - Errors are the core's [`PortError`]: `retryable` says whether a later try may succeed;
//!   adapters have already retried throttling and 5xx with backoff when they return one.
//! - Calls read; only [`TableStore::put`] / [`TableStore::delete`], the sink and the notifier
//!   change anything.

use iamwatch_core::enrich::AccountInfo;
use iamwatch_core::ports::PortError;
use std::collections::BTreeMap;
use std::future::Future;

/// The organization as the sweep needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Org {
    /// Every active account with its name and OU path (root down, root not listed), sorted by
    /// id. Tags are not needed.
    pub accounts: Vec<AccountInfo>,
    /// Every OU's id and its path from the root (`ou-abcd-12345678` -> `["Workloads", "Prod"]`).
    pub ou_ids: BTreeMap<String, Vec<String>>,
}

/// The organization's accounts.
pub trait OrgSource: Send + Sync {
    fn organization(&self) -> impl Future<Output = Result<Org, PortError>> + Send;
}

/// IAM in the accounts of the organization.
pub trait IamSource: Send + Sync {
    type Session: AccountIam;
    /// A session in `account_id` (the member role assumed there). An error here is the
    /// account's error: role missing, access denied, throttled past retries.
    fn session(
        &self,
        account_id: &str,
    ) -> impl Future<Output = Result<Self::Session, PortError>> + Send;
}

/// What `GenerateCredentialReport` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportState {
    Started,
    InProgress,
    Complete,
}

/// A credential report as `GetCredentialReport` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialReport {
    /// The CSV, decoded from base64 (the SDK does that).
    pub content: Vec<u8>,
    /// `GeneratedTime`, RFC 3339.
    pub generated: String,
}

/// Why a credential report call did not give a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportError {
    /// `ReportInProgress` (GetCredentialReport): wait and ask again.
    InProgress,
    /// `ReportNotPresent` / `ReportExpired` (GetCredentialReport): generate again.
    NotPresent,
    /// `LimitExceeded` (GenerateCredentialReport): too many generations at once; wait.
    LimitExceeded,
    /// Anything else.
    Failed(PortError),
}

/// A policy as IAM shows it with its document (an inline policy, or a managed policy's
/// default version). The document is the text IAM returns (at times URL-encoded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyText {
    pub name: String,
    pub document: String,
}

/// A user as `GetAccountAuthorizationDetails` describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserAuth {
    pub name: String,
    pub arn: String,
    pub created: Option<String>,
    pub groups: Vec<String>,
    /// ARNs of the managed policies attached to the user.
    pub attached: Vec<String>,
    pub inline: Vec<PolicyText>,
    pub tags: BTreeMap<String, String>,
}

/// A group as `GetAccountAuthorizationDetails` describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupAuth {
    pub name: String,
    pub attached: Vec<String>,
    pub inline: Vec<PolicyText>,
}

/// Users, groups and the account's own managed policies (default version documents, by ARN).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authorization {
    pub users: Vec<UserAuth>,
    pub groups: Vec<GroupAuth>,
    pub managed: BTreeMap<String, String>,
}

/// An access key as `ListAccessKeys` and `GetAccessKeyLastUsed` show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveKey {
    pub id: String,
    pub active: bool,
    pub created: Option<String>,
    pub last_used: Option<String>,
    pub last_used_service: Option<String>,
}

/// IAM in one account, through its member role.
pub trait AccountIam: Send + Sync {
    /// `GenerateCredentialReport`.
    fn generate_report(&self) -> impl Future<Output = Result<ReportState, ReportError>> + Send;
    /// `GetCredentialReport`.
    fn get_report(&self) -> impl Future<Output = Result<CredentialReport, ReportError>> + Send;
    /// `GetAccountAuthorizationDetails` (users, groups, local managed policies), every page.
    fn authorization(&self) -> impl Future<Output = Result<Authorization, PortError>> + Send;
    /// `ListAccessKeys` and `GetAccessKeyLastUsed` of each key of `user`.
    fn access_keys(
        &self,
        user: &str,
    ) -> impl Future<Output = Result<Vec<LiveKey>, PortError>> + Send;
    /// `ListMFADevices` of `user`: the serial numbers.
    fn mfa_devices(
        &self,
        user: &str,
    ) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
}

/// Where the tables and the report go: keys are relative to the root (`inventory/v1/...`).
pub trait TableStore: Send + Sync {
    /// Writes `body` at `key`, replacing what is there.
    fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// The object at `key`; `None` when there is none.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, PortError>> + Send;
    /// The keys directly under `prefix` (which ends with `/`): objects, and "folders" with
    /// their trailing `/`, sorted.
    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
    /// Removes `key`; no error when it is not there.
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Where a reader finds `key` (a file path, or the S3 console's page of the object).
    fn location(&self, key: &str) -> String;
}

/// Where the summary line of a sweep goes (Slack).
pub trait SummaryNotifier: Send + Sync {
    fn post(&self, text: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

impl SummaryNotifier for iamwatch_notify::SlackNotifier {
    async fn post(&self, text: &str) -> Result<(), PortError> {
        self.post_text(text).await
    }
}
