//! The AWS side of the inventory sweep: the ports of `iamwatch-sweep` over Organizations, IAM
//! and S3.
//!
//! - [`AwsOrgSource`]: the organization's active accounts with their OU paths, walked from the
//!   roots through the org-reader role (`IAMWATCH_ORG_ROLE_ARN`) or the caller's credentials.
//! - [`AwsIamSource`]: a session per account through the member role; in it, the credential
//!   report (`GenerateCredentialReport`, `GetCredentialReport`, their error codes told apart
//!   so that the sweep can wait), `GetAccountAuthorizationDetails` (users with their groups,
//!   tags, attached and inline policies; groups; the account's own managed policies), and per
//!   user `ListAccessKeys` + `GetAccessKeyLastUsed` and `ListMFADevices`.
//! - [`S3Store`]: the table store over one bucket and prefix (`s3://bucket/prefix`).
//!
//! Throttling and 5xx are retried by the SDK ([`crate::config::load_sdk_config`]); what still
//! fails is a [`PortError`] that the sweep records against the account.

use crate::accounts::AccountClients;
use crate::error::{code, port_error};
use aws_config::SdkConfig;
use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
use aws_sdk_iam::operation::list_access_keys::ListAccessKeysOutput;
use aws_sdk_iam::operation::list_mfa_devices::ListMfaDevicesOutput;
use aws_sdk_iam::types::EntityType;
use aws_sdk_iam::Client as IamClient;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::DateTime;
use iamwatch_core::ports::PortError;
use iamwatch_sweep::ports::{
    AccountIam, Authorization, CredentialReport, GroupAuth, IamSource, LiveKey, Org, OrgSource,
    PolicyText, ReportError, ReportState, TableStore, UserAuth,
};
use std::future::Future;

fn iso(t: &DateTime) -> Option<String> {
    t.fmt(Format::DateTime).ok()
}

/// The organization's accounts from Organizations.
#[derive(Clone)]
pub struct AwsOrgSource {
    accounts: AccountClients,
    org_role_arn: Option<String>,
}

impl AwsOrgSource {
    /// `org_role_arn`: the org-reader role (`IAMWATCH_ORG_ROLE_ARN`); `None` reads with the
    /// caller's own credentials (the management account or a delegated administrator).
    pub fn new(accounts: AccountClients, org_role_arn: Option<String>) -> AwsOrgSource {
        AwsOrgSource {
            accounts,
            org_role_arn,
        }
    }
}

impl OrgSource for AwsOrgSource {
    async fn organization(&self) -> Result<Org, PortError> {
        let sdk = match &self.org_role_arn {
            Some(arn) => self.accounts.for_role(arn).await?,
            None => self.accounts.base().clone(),
        };
        let client = aws_sdk_organizations::Client::new(&sdk);
        let (accounts, ou_ids) = crate::org::tree(&client, true).await?;
        Ok(Org { accounts, ou_ids })
    }
}

/// IAM of the member accounts, through the member role.
#[derive(Clone)]
pub struct AwsIamSource {
    accounts: AccountClients,
}

impl AwsIamSource {
    pub fn new(accounts: AccountClients) -> AwsIamSource {
        AwsIamSource { accounts }
    }
}

/// IAM in one account.
#[derive(Clone)]
pub struct AwsAccountIam {
    iam: IamClient,
    account: String,
}

impl AwsAccountIam {
    /// Over an SDK configuration already in the account.
    pub fn new(sdk: &SdkConfig, account: impl Into<String>) -> AwsAccountIam {
        AwsAccountIam {
            iam: IamClient::new(sdk),
            account: account.into(),
        }
    }

    fn op(&self, name: &str) -> String {
        format!("iam:{name} in {}", self.account)
    }
}

impl IamSource for AwsIamSource {
    type Session = AwsAccountIam;

    async fn session(&self, account_id: &str) -> Result<AwsAccountIam, PortError> {
        let sdk = self.accounts.for_account(account_id).await?;
        Ok(AwsAccountIam::new(&sdk, account_id))
    }
}

fn policies(list: &[aws_sdk_iam::types::PolicyDetail]) -> Vec<PolicyText> {
    list.iter()
        .map(|p| PolicyText {
            name: p.policy_name().unwrap_or_default().to_string(),
            document: p.policy_document().unwrap_or_default().to_string(),
        })
        .collect()
}

fn attached(list: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<String> {
    list.iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect()
}

/// A page of an IAM list call that pages with `Marker` and `IsTruncated`.
trait IamPage {
    /// The marker of the next page; `None` after the last.
    fn next_marker(&self) -> Option<String>;
}

macro_rules! iam_page {
    ($($output:ty),* $(,)?) => {$(
        impl IamPage for $output {
            fn next_marker(&self) -> Option<String> {
                match self.marker() {
                    Some(m) if self.is_truncated() && !m.is_empty() => Some(m.to_string()),
                    _ => None,
                }
            }
        }
    )*};
}

iam_page!(
    GetAccountAuthorizationDetailsOutput,
    ListAccessKeysOutput,
    ListMfaDevicesOutput,
);

/// Every page of an IAM list call, in order: `send` sends the call from a marker (`None`: the
/// first page), `each` takes each page. An error is a [`PortError`] naming `operation`.
async fn iam_pages<P, E, Fut>(
    operation: impl Fn() -> String,
    mut send: impl FnMut(Option<String>) -> Fut,
    mut each: impl FnMut(&P),
) -> Result<(), PortError>
where
    P: IamPage,
    E: ProvideErrorMetadata + std::error::Error + 'static,
    Fut: Future<Output = Result<P, SdkError<E, Response>>>,
{
    let mut marker: Option<String> = None;
    loop {
        let page = send(marker.take())
            .await
            .map_err(|e| port_error(operation(), &e))?;
        each(&page);
        match page.next_marker() {
            Some(m) => marker = Some(m),
            None => return Ok(()),
        }
    }
}

impl AccountIam for AwsAccountIam {
    async fn generate_report(&self) -> Result<ReportState, ReportError> {
        match self.iam.generate_credential_report().send().await {
            Ok(out) => Ok(match out.state().map(|s| s.as_str()) {
                Some("COMPLETE") => ReportState::Complete,
                Some("INPROGRESS") => ReportState::InProgress,
                _ => ReportState::Started,
            }),
            Err(e) if code(&e) == Some("LimitExceeded") => Err(ReportError::LimitExceeded),
            Err(e) => Err(ReportError::Failed(port_error(
                self.op("GenerateCredentialReport"),
                &e,
            ))),
        }
    }

    async fn get_report(&self) -> Result<CredentialReport, ReportError> {
        match self.iam.get_credential_report().send().await {
            Ok(out) => Ok(CredentialReport {
                content: out
                    .content()
                    .map(|b| b.as_ref().to_vec())
                    .unwrap_or_default(),
                generated: out.generated_time().and_then(iso).unwrap_or_default(),
            }),
            Err(e) => match code(&e) {
                Some("ReportInProgress") => Err(ReportError::InProgress),
                Some("ReportNotPresent") | Some("ReportExpired") => Err(ReportError::NotPresent),
                _ => Err(ReportError::Failed(port_error(
                    self.op("GetCredentialReport"),
                    &e,
                ))),
            },
        }
    }

    async fn authorization(&self) -> Result<Authorization, PortError> {
        let mut out = Authorization::default();
        let send = |marker| {
            self.iam
                .get_account_authorization_details()
                .filter(EntityType::User)
                .filter(EntityType::Group)
                .filter(EntityType::LocalManagedPolicy)
                .set_marker(marker)
                .send()
        };
        let each = |page: &GetAccountAuthorizationDetailsOutput| {
            for u in page.user_detail_list() {
                out.users.push(UserAuth {
                    name: u.user_name().unwrap_or_default().to_string(),
                    arn: u.arn().unwrap_or_default().to_string(),
                    created: u.create_date().and_then(iso),
                    groups: u.group_list().to_vec(),
                    attached: attached(u.attached_managed_policies()),
                    inline: policies(u.user_policy_list()),
                    tags: u
                        .tags()
                        .iter()
                        .map(|t| (t.key().to_string(), t.value().to_string()))
                        .collect(),
                });
            }
            for g in page.group_detail_list() {
                out.groups.push(GroupAuth {
                    name: g.group_name().unwrap_or_default().to_string(),
                    attached: attached(g.attached_managed_policies()),
                    inline: policies(g.group_policy_list()),
                });
            }
            for p in page.policies() {
                let (Some(arn), Some(default)) = (p.arn(), p.default_version_id()) else {
                    continue;
                };
                if let Some(doc) = p
                    .policy_version_list()
                    .iter()
                    .find(|v| v.version_id() == Some(default))
                    .and_then(|v| v.document())
                {
                    out.managed.insert(arn.to_string(), doc.to_string());
                }
            }
        };
        iam_pages(|| self.op("GetAccountAuthorizationDetails"), send, each).await?;
        Ok(out)
    }

    async fn access_keys(&self, user: &str) -> Result<Vec<LiveKey>, PortError> {
        let mut keys = Vec::new();
        let send = |marker| {
            self.iam
                .list_access_keys()
                .user_name(user)
                .set_marker(marker)
                .send()
        };
        let each = |page: &ListAccessKeysOutput| {
            for k in page.access_key_metadata() {
                let Some(id) = k.access_key_id() else {
                    continue;
                };
                keys.push(LiveKey {
                    id: id.to_string(),
                    active: k.status().is_some_and(|s| s.as_str() == "Active"),
                    created: k.create_date().and_then(iso),
                    last_used: None,
                    last_used_service: None,
                });
            }
        };
        iam_pages(|| self.op(&format!("ListAccessKeys {user}")), send, each).await?;
        for k in &mut keys {
            let out = self
                .iam
                .get_access_key_last_used()
                .access_key_id(&k.id)
                .send()
                .await
                .map_err(|e| port_error(self.op(&format!("GetAccessKeyLastUsed {}", k.id)), &e))?;
            if let Some(used) = out.access_key_last_used() {
                k.last_used = used.last_used_date().and_then(iso);
                k.last_used_service =
                    Some(used.service_name().to_string()).filter(|s| !s.is_empty() && s != "N/A");
            }
        }
        Ok(keys)
    }

    async fn mfa_devices(&self, user: &str) -> Result<Vec<String>, PortError> {
        let mut out = Vec::new();
        let send = |marker| {
            self.iam
                .list_mfa_devices()
                .user_name(user)
                .set_marker(marker)
                .send()
        };
        let each = |page: &ListMfaDevicesOutput| {
            out.extend(
                page.mfa_devices()
                    .iter()
                    .map(|d| d.serial_number().to_string()),
            );
        };
        iam_pages(|| self.op(&format!("ListMFADevices {user}")), send, each).await?;
        Ok(out)
    }
}

/// The tables in S3 under `s3://bucket/prefix`.
#[derive(Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    /// Empty, or ends with `/`.
    prefix: String,
    region: String,
}

impl S3Store {
    /// `prefix` may be empty; a trailing `/` is added when missing.
    pub fn new(sdk: &SdkConfig, bucket: impl Into<String>, prefix: &str) -> S3Store {
        let prefix = prefix.trim_matches('/');
        // moto and other S3 endpoints set by AWS_ENDPOINT_URL answer path-style requests.
        let config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        S3Store {
            client: aws_sdk_s3::Client::from_conf(config),
            bucket: bucket.into(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            region: sdk
                .region()
                .map(|r| r.to_string())
                .unwrap_or_else(|| "us-east-1".to_string()),
        }
    }

    fn full(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn op(&self, name: &str, key: &str) -> String {
        format!("s3:{name} s3://{}/{}", self.bucket, self.full(key))
    }
}

impl TableStore for S3Store {
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), PortError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| port_error(self.op("PutObject", key), &e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if matches!(code(&e), Some("NoSuchKey") | Some("NotFound")) => return Ok(None),
            Err(e) => return Err(port_error(self.op("GetObject", key), &e)),
        };
        let bytes = out.body.collect().await.map_err(|e| PortError {
            operation: self.op("GetObject", key),
            message: e.to_string(),
            retryable: true,
        })?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, PortError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let full = self.full(prefix);
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(&full)
                .delimiter("/")
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| port_error(self.op("ListObjectsV2", prefix), &e))?;
            let strip = |k: &str| k.strip_prefix(&self.prefix).map(str::to_string);
            out.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key())
                    .filter_map(strip),
            );
            out.extend(
                page.common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix())
                    .filter_map(strip),
            );
            match page.next_continuation_token() {
                Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => break,
            }
        }
        out.sort();
        Ok(out)
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .send()
            .await
            .map_err(|e| port_error(self.op("DeleteObject", key), &e))?;
        Ok(())
    }

    fn location(&self, key: &str) -> String {
        format!(
            "https://console.aws.amazon.com/s3/object/{}?region={}&prefix={}",
            self.bucket,
            self.region,
            self.full(key)
        )
    }
}

/// Runs a sweep on AWS as `cfg` says: Organizations through the org-reader role, IAM and
/// Security Hub through the member role, the tables in a folder or S3, the summary line to
/// Slack when a secret is set (a secret that cannot be read is said in the summary's notes and
/// the sweep goes on). The CLI and the `inventory` Lambda both call this.
pub async fn run_sweep(
    cfg: &iamwatch_sweep::config::SweepConfig,
    sdk: &SdkConfig,
    policy: &iamwatch_core::Policy,
    options: &iamwatch_sweep::sweep::SweepOptions,
) -> Result<iamwatch_sweep::sweep::SweepSummary, PortError> {
    use iamwatch_core::ports::SecretStore;
    use iamwatch_sweep::config::Out;
    let accounts = AccountClients::new(sdk.clone(), cfg.member_role.clone());
    let org = AwsOrgSource::new(accounts.clone(), cfg.org_role_arn.clone());
    let iam = AwsIamSource::new(accounts.clone());
    let ctx = cfg.finding_context();
    let sink = crate::SecurityHubSink::new(accounts, ctx.region.clone(), ctx.partition.clone());
    let mut notes = Vec::new();
    let notifier = match &cfg.slack_secret_arn {
        None => None,
        Some(arn) => {
            let secret = crate::SecretsManager::new(sdk)
                .json::<iamwatch_notify::SlackWebhook>(arn, r#"{"webhook_url": ...}"#)
                .await;
            match secret.map(|w| {
                iamwatch_notify::SlackNotifier::new(w, iamwatch_notify::RetryPolicy::default())
            }) {
                Ok(Ok(n)) => Some(n),
                Ok(Err(e)) => {
                    notes.push(format!("Slack not configured: {e}"));
                    None
                }
                Err(e) => {
                    notes.push(format!("Slack not configured: {e}"));
                    None
                }
            }
        }
    };
    for n in &notes {
        tracing::error!(error = %n, "summary line");
    }
    let mut summary = match &cfg.out {
        Out::Folder(path) => {
            let store = iamwatch_sweep::store::FolderStore::new(path);
            sweeper_run(
                &org,
                &iam,
                &store,
                &sink,
                notifier.as_ref(),
                policy,
                &ctx,
                options,
            )
            .await
        }
        Out::S3 { bucket, prefix } => {
            let store = S3Store::new(sdk, bucket, prefix);
            sweeper_run(
                &org,
                &iam,
                &store,
                &sink,
                notifier.as_ref(),
                policy,
                &ctx,
                options,
            )
            .await
        }
    }?;
    summary.notes.extend(notes);
    Ok(summary)
}

#[allow(clippy::too_many_arguments)]
async fn sweeper_run<S: TableStore>(
    org: &AwsOrgSource,
    iam: &AwsIamSource,
    store: &S,
    sink: &crate::SecurityHubSink,
    notifier: Option<&iamwatch_notify::SlackNotifier>,
    policy: &iamwatch_core::Policy,
    ctx: &iamwatch_core::FindingContext,
    options: &iamwatch_sweep::sweep::SweepOptions,
) -> Result<iamwatch_sweep::sweep::SweepSummary, PortError> {
    iamwatch_sweep::sweep::Sweeper {
        org,
        iam,
        store,
        sink,
        notifier,
        policy,
        ctx,
    }
    .run(options)
    .await
}
