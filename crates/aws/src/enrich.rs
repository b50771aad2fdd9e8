//! [`AwsEnricher`]: the core's [`Enricher`] over Organizations and IAM.
//!
//! - The account (name, OU path, tags) comes from Organizations, through
//!   `IAMWATCH_ORG_ROLE_ARN` when set, and is cached for the configured TTL
//!   (`IAMWATCH_CACHE_TTL_SECONDS`, default 300 s) across warm invocations.
//! - The target user (groups, attached and inline policies, the groups' attached policies, MFA
//!   devices, access keys, login profile) comes from IAM in the event's account through the
//!   member role; the reads run concurrently. User state changes with the very events iamwatch
//!   watches, so it is cached only briefly ([`USER_CACHE_TTL`], bounded by the TTL): enough
//!   for a burst of events about one user, not enough to go stale.
//! - Nothing fails: what could not be read is left out and named in [`Enrichment::gaps`].

use crate::accounts::AccountClients;
use crate::cache::TtlCache;
use crate::error::{code, port_error};
use aws_sdk_iam::Client as IamClient;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use iamwatch_core::enrich::{AccessKeyInfo, AccountInfo, Enrichment, UserDetails};
use iamwatch_core::ports::{Enricher, PortError};
use iamwatch_core::CloudTrailRecord;
use std::collections::BTreeSet;
use std::time::Duration;

/// Longest time a user's IAM state is reused.
pub const USER_CACHE_TTL: Duration = Duration::from_secs(10);

/// Enrichment from Organizations and IAM. Build once per container.
pub struct AwsEnricher {
    accounts: AccountClients,
    org_role_arn: Option<String>,
    account_cache: TtlCache<String, AccountInfo>,
    user_cache: TtlCache<(String, String), UserDetails>,
    org_cache: TtlCache<(), BTreeSet<String>>,
}

impl AwsEnricher {
    /// `org_role_arn`: the Organizations reader role (`IAMWATCH_ORG_ROLE_ARN`); `None` reads
    /// Organizations with the function's own credentials. `ttl`: account cache lifetime.
    pub fn new(accounts: AccountClients, org_role_arn: Option<String>, ttl: Duration) -> Self {
        AwsEnricher {
            accounts,
            org_role_arn,
            account_cache: TtlCache::new(ttl),
            user_cache: TtlCache::new(ttl.min(USER_CACHE_TTL)),
            org_cache: TtlCache::new(ttl),
        }
    }

    /// The account's name, OU path and tags.
    pub async fn account(&self, account_id: &str) -> Result<AccountInfo, PortError> {
        if let Some(a) = self.account_cache.get(&account_id.to_string()) {
            return Ok(a);
        }
        let sdk = match &self.org_role_arn {
            Some(arn) => self.accounts.for_role(arn).await?,
            None => self.accounts.base().clone(),
        };
        let client = aws_sdk_organizations::Client::new(&sdk);
        let info = crate::org::account_info(&client, account_id).await?;
        self.account_cache.put(account_id.to_string(), info.clone());
        Ok(info)
    }

    /// The user's state in IAM, and what could not be read of it. `Err` when the user itself
    /// could not be read (role not assumable, access denied, no such user).
    pub async fn user(
        &self,
        account_id: &str,
        user_name: &str,
    ) -> Result<(UserDetails, Vec<String>), PortError> {
        let key = (account_id.to_string(), user_name.to_string());
        if let Some(u) = self.user_cache.get(&key) {
            return Ok((u, Vec::new()));
        }
        let sdk = self.accounts.for_account(account_id).await?;
        let (details, gaps) = user_details(&IamClient::new(&sdk), user_name).await?;
        if gaps.is_empty() {
            self.user_cache.put(key, details.clone());
        }
        Ok((details, gaps))
    }
}

impl AwsEnricher {
    /// The organization's account ids (`ListAccounts`, every page), through the org-reader
    /// role when one is set.
    async fn list_org_accounts(&self) -> Result<BTreeSet<String>, PortError> {
        let sdk = match &self.org_role_arn {
            Some(arn) => self.accounts.for_role(arn).await?,
            None => self.accounts.base().clone(),
        };
        let client = aws_sdk_organizations::Client::new(&sdk);
        let mut ids = BTreeSet::new();
        let mut token: Option<String> = None;
        loop {
            let page = client
                .list_accounts()
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| port_error("organizations:ListAccounts", &e))?;
            ids.extend(
                page.accounts()
                    .iter()
                    .filter_map(|a| a.id())
                    .map(str::to_string),
            );
            match page.next_token() {
                Some(t) => token = Some(t.to_string()),
                None => return Ok(ids),
            }
        }
    }
}

impl Enricher for AwsEnricher {
    async fn org_accounts(&self) -> Option<BTreeSet<String>> {
        if let Some(ids) = self.org_cache.get(&()) {
            return Some(ids);
        }
        match self.list_org_accounts().await {
            Ok(ids) => {
                self.org_cache.put((), ids.clone());
                Some(ids)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the organization's accounts");
                None
            }
        }
    }

    async fn enrich(&self, record: &CloudTrailRecord, target_user: Option<&str>) -> Enrichment {
        let account_id = record.account_id();
        // The root user is no IAM user: there is nothing to read about it in IAM.
        let root = record.user_identity.kind.as_deref() == Some("Root");
        let target = target_user.filter(|u| !(root && *u == "root"));
        let (account, user) = tokio::join!(self.account(account_id), async {
            match target {
                Some(u) => Some(self.user(account_id, u).await),
                None => None,
            }
        });
        let mut e = Enrichment::default();
        match account {
            Ok(a) => e.account = Some(a),
            Err(err) => e.gaps.push(format!("organizations: {err}")),
        }
        match user {
            Some(Ok((u, gaps))) => {
                e.target_user = Some(u);
                e.gaps.extend(gaps.into_iter().map(|g| format!("iam: {g}")));
            }
            Some(Err(err)) => e.gaps.push(format!("iam: {err}")),
            None => {}
        }
        e
    }
}

fn iso(t: &DateTime) -> Option<String> {
    t.fmt(Format::DateTime).ok()
}

/// Reads a user: `GetUser` must succeed; the lists that fail become gaps.
pub async fn user_details(
    iam: &IamClient,
    user: &str,
) -> Result<(UserDetails, Vec<String>), PortError> {
    let (got, groups, attached, inline, mfa, keys, login) = tokio::join!(
        iam.get_user().user_name(user).send(),
        iam.list_groups_for_user().user_name(user).send(),
        iam.list_attached_user_policies().user_name(user).send(),
        iam.list_user_policies().user_name(user).send(),
        iam.list_mfa_devices().user_name(user).send(),
        iam.list_access_keys().user_name(user).send(),
        iam.get_login_profile().user_name(user).send(),
    );
    let got = got.map_err(|e| port_error(format!("iam:GetUser {user}"), &e))?;
    let mut d = UserDetails {
        user_name: user.to_string(),
        ..UserDetails::default()
    };
    if let Some(u) = got.user() {
        d.arn = Some(u.arn().to_string());
        d.user_id = Some(u.user_id().to_string());
        d.created = iso(u.create_date());
    }
    let mut gaps = Vec::new();
    match groups {
        Ok(out) => {
            d.groups = out
                .groups()
                .iter()
                .map(|g| g.group_name().to_string())
                .collect()
        }
        Err(e) => gaps.push(port_error(format!("iam:ListGroupsForUser {user}"), &e).to_string()),
    }
    match attached {
        Ok(out) => {
            d.attached_policies = out
                .attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_string))
                .collect()
        }
        Err(e) => {
            gaps.push(port_error(format!("iam:ListAttachedUserPolicies {user}"), &e).to_string())
        }
    }
    match inline {
        Ok(out) => d.inline_policies = out.policy_names().to_vec(),
        Err(e) => gaps.push(port_error(format!("iam:ListUserPolicies {user}"), &e).to_string()),
    }
    match mfa {
        Ok(out) => {
            d.mfa_devices = out
                .mfa_devices()
                .iter()
                .map(|m| m.serial_number().to_string())
                .collect()
        }
        Err(e) => gaps.push(port_error(format!("iam:ListMFADevices {user}"), &e).to_string()),
    }
    match keys {
        Ok(out) => {
            d.access_keys = out
                .access_key_metadata()
                .iter()
                .filter_map(|k| {
                    Some(AccessKeyInfo {
                        id: k.access_key_id()?.to_string(),
                        status: k
                            .status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                        created: k.create_date().and_then(iso),
                    })
                })
                .collect()
        }
        Err(e) => gaps.push(port_error(format!("iam:ListAccessKeys {user}"), &e).to_string()),
    }
    match login {
        Ok(_) => d.has_login_profile = true,
        Err(e) if code(&e) == Some("NoSuchEntity") => d.has_login_profile = false,
        Err(e) => gaps.push(port_error(format!("iam:GetLoginProfile {user}"), &e).to_string()),
    }
    // The policies attached to the user's groups, one call per group, concurrently.
    let mut set = tokio::task::JoinSet::new();
    for g in d.groups.clone() {
        let iam = iam.clone();
        set.spawn(async move {
            let out = iam
                .list_attached_group_policies()
                .group_name(&g)
                .send()
                .await;
            out.map_err(|e| port_error(format!("iam:ListAttachedGroupPolicies {g}"), &e))
        });
    }
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(out)) => d.group_attached_policies.extend(
                out.attached_policies()
                    .iter()
                    .filter_map(|p| p.policy_arn().map(str::to_string)),
            ),
            Ok(Err(e)) => gaps.push(e.to_string()),
            Err(e) => gaps.push(format!("iam:ListAttachedGroupPolicies: task failed: {e}")),
        }
    }
    d.group_attached_policies.sort();
    d.group_attached_policies.dedup();
    Ok((d, gaps))
}
