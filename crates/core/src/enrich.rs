//! What enrichment adds to an event: the account (name, OU path, tags) and the target user's
//! current state in IAM. The core only reads these; adapters (`iamwatch-aws`, or an org snapshot
//! file for scans) fill them.

use crate::policy::Policy;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An account of the organization, as Organizations or an org snapshot describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// OU names from the root down (the root itself is not listed).
    #[serde(default)]
    pub ou_path: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// An access key of a user, as IAM lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKeyInfo {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub created: Option<String>,
}

/// The target user's state in IAM at enrichment time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetails {
    pub user_name: String,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub created: Option<String>,
    /// Group names.
    #[serde(default)]
    pub groups: Vec<String>,
    /// ARNs of managed policies attached to the user.
    #[serde(default)]
    pub attached_policies: Vec<String>,
    /// Names of inline user policies.
    #[serde(default)]
    pub inline_policies: Vec<String>,
    /// ARNs of managed policies attached to the user's groups.
    #[serde(default)]
    pub group_attached_policies: Vec<String>,
    /// Serial numbers of the user's MFA devices.
    #[serde(default)]
    pub mfa_devices: Vec<String>,
    #[serde(default)]
    pub access_keys: Vec<AccessKeyInfo>,
    #[serde(default)]
    pub has_login_profile: bool,
    /// Ways to admin access found by reading policy documents rather than by name: an inline
    /// policy of the user or of a group, or the account's own managed policy, whose statements
    /// allow everything (e.g. `inline break-glass`, `group ops: policy arn:...`). The sweep
    /// reads the documents; the real-time enrichment leaves this empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admin_documents: Vec<String>,
}

impl UserDetails {
    /// Why this user already has admin access under `policy`, if it does: an admin policy
    /// attached directly, membership of an admin group, an admin policy attached to a group,
    /// or a policy document read as admin ([`UserDetails::admin_documents`]).
    /// `except` is the grant being judged (`policy:<arn>`, `group:<name>`): enrichment runs after
    /// the event, so the grant itself is not evidence that the user was admin before it.
    pub fn admin_access(&self, policy: &Policy, except: Option<&str>) -> Option<String> {
        let skip = |kind: &str, v: &str| except == Some(format!("{kind}:{v}").as_str());
        if let Some(p) = self
            .attached_policies
            .iter()
            .find(|p| policy.admin_policies.contains(p) && !skip("policy", p))
        {
            return Some(format!("policy {p} attached"));
        }
        if let Some(g) = self
            .groups
            .iter()
            .find(|g| policy.admin_groups.contains(g) && !skip("group", g))
        {
            return Some(format!("member of admin group {g}"));
        }
        if let Some(p) = self
            .group_attached_policies
            .iter()
            .find(|p| policy.admin_policies.contains(p))
        {
            return Some(format!("policy {p} attached to a group"));
        }
        self.admin_documents
            .first()
            .map(|way| format!("{way} allows every action"))
    }
}

/// Everything known about an event's context. A part that could not be looked up is `None`,
/// and `gaps` says what failed and why; a finding is filed all the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrichment {
    #[serde(default)]
    pub account: Option<AccountInfo>,
    #[serde(default)]
    pub target_user: Option<UserDetails>,
    /// What could not be enriched, e.g. `iam: AccessDenied assuming iamwatch-member in 1111...`.
    #[serde(default)]
    pub gaps: Vec<String>,
}

/// An offline snapshot of the organization (`iamwatch org snapshot`), read by `scan --org`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSnapshot {
    pub accounts: Vec<AccountInfo>,
}

impl OrgSnapshot {
    /// What the snapshot says of an account: its name, OU path and tags, or a gap naming it
    /// when the snapshot does not list it.
    pub fn enrichment(&self, account_id: &str) -> Enrichment {
        match self.account(account_id) {
            Some(a) => Enrichment {
                account: Some(a.clone()),
                ..Enrichment::default()
            },
            None => Enrichment {
                gaps: vec![format!("account {account_id} is not in the org snapshot")],
                ..Enrichment::default()
            },
        }
    }

    /// The ids of the organization's accounts.
    pub fn account_ids(&self) -> std::collections::BTreeSet<String> {
        self.accounts.iter().map(|a| a.id.clone()).collect()
    }

    /// Reads a snapshot from JSON text; `origin` names the file in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Self, crate::Error> {
        serde_json::from_str(text).map_err(|e| crate::Error::OrgSnapshot {
            origin: origin.to_string(),
            reason: e.to_string(),
        })
    }

    /// The account with this id.
    pub fn account(&self, id: &str) -> Option<&AccountInfo> {
        self.accounts.iter().find(|a| a.id == id)
    }
}
