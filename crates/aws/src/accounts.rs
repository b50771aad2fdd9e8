//! An SDK configuration per account, through `sts:AssumeRole` of a role in that account.
//!
//! The detect function reads IAM and files findings in member accounts this way; the ticket
//! function writes ticket keys back on findings the same way. Credentials are cached per role
//! until five minutes before they expire, so a warm container assumes each role about once an
//! hour.

use crate::error::port_error;
use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use iamwatch_core::ports::PortError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::OnceCell;

/// Credentials are renewed this long before they expire.
const RENEW_BEFORE: Duration = Duration::from_secs(300);
/// Session name of the assumed roles (shows in the member accounts' CloudTrail).
pub const SESSION_NAME: &str = "iamwatch";

/// A role's configuration and when its credentials expire.
type CachedRole = (SdkConfig, Option<SystemTime>);

/// SDK configurations per account (member role) and per role ARN, sharing one cache.
///
/// Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct AccountClients {
    base: SdkConfig,
    member_role: String,
    partition: String,
    cache: Arc<Mutex<HashMap<String, CachedRole>>>,
    /// One lock per role ARN: concurrent callers for a role wait for one `AssumeRole`.
    assuming: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    own_account: Arc<OnceCell<String>>,
}

impl AccountClients {
    /// `base` carries the function's own credentials; `member_role` is the role *name* assumed
    /// in each account (`IAMWATCH_MEMBER_ROLE`).
    pub fn new(base: SdkConfig, member_role: impl Into<String>) -> AccountClients {
        let partition = base
            .region()
            .map(|r| crate::config::partition_of(r.as_ref()))
            .unwrap_or("aws")
            .to_string();
        AccountClients {
            base,
            member_role: member_role.into(),
            partition,
            cache: Arc::new(Mutex::new(HashMap::new())),
            assuming: Arc::new(Mutex::new(HashMap::new())),
            own_account: Arc::new(OnceCell::new()),
        }
    }

    /// The function's own configuration (the security account).
    pub fn base(&self) -> &SdkConfig {
        &self.base
    }

    /// The member role's ARN in `account_id`.
    pub fn member_role_arn(&self, account_id: &str) -> String {
        format!(
            "arn:{}:iam::{account_id}:role/{}",
            self.partition, self.member_role
        )
    }

    /// The function's own account id (`sts:GetCallerIdentity`, asked once).
    pub async fn own_account_id(&self) -> Result<String, PortError> {
        self.own_account
            .get_or_try_init(|| async {
                let sts = aws_sdk_sts::Client::new(&self.base);
                let out = sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| port_error("sts:GetCallerIdentity", &e))?;
                out.account().map(str::to_string).ok_or_else(|| PortError {
                    operation: "sts:GetCallerIdentity".to_string(),
                    message: "no account in the response".to_string(),
                    retryable: true,
                })
            })
            .await
            .cloned()
    }

    /// The configuration for `account_id` through the member role.
    pub async fn for_account(&self, account_id: &str) -> Result<SdkConfig, PortError> {
        self.for_role(&self.member_role_arn(account_id)).await
    }

    /// The configuration for a role ARN (e.g. `IAMWATCH_ORG_ROLE_ARN`).
    /// Concurrent callers for one role share one `AssumeRole` (and its cached credentials).
    pub async fn for_role(&self, role_arn: &str) -> Result<SdkConfig, PortError> {
        if let Some(cfg) = self.cached(role_arn) {
            return Ok(cfg);
        }
        let gate = {
            let mut assuming = self.assuming.lock().unwrap_or_else(|p| p.into_inner());
            assuming.entry(role_arn.to_string()).or_default().clone()
        };
        let _one_at_a_time = gate.lock().await;
        // Another caller may have assumed it while this one waited.
        if let Some(cfg) = self.cached(role_arn) {
            return Ok(cfg);
        }
        let operation = format!("sts:AssumeRole {role_arn}");
        let out = aws_sdk_sts::Client::new(&self.base)
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(SESSION_NAME)
            .send()
            .await
            .map_err(|e| port_error(operation.clone(), &e))?;
        let Some(c) = out.credentials() else {
            return Err(PortError {
                operation,
                message: "no credentials in the response".to_string(),
                retryable: true,
            });
        };
        let expiry = SystemTime::try_from(*c.expiration()).ok();
        let creds = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            expiry,
            "iamwatch-assume-role",
        );
        let cfg = self
            .base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(creds))
            .build();
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert(role_arn.to_string(), (cfg.clone(), expiry));
        Ok(cfg)
    }

    fn cached(&self, role_arn: &str) -> Option<SdkConfig> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let (cfg, expiry) = cache.get(role_arn)?;
        let fresh = match expiry {
            Some(t) => t
                .duration_since(SystemTime::now())
                .is_ok_and(|left| left > RENEW_BEFORE),
            None => true,
        };
        fresh.then(|| cfg.clone())
    }
}
