//! Reading the organization: one account's name, OU path and tags (enrichment), and the whole
//! org as an [`OrgSnapshot`] (`iamwatch org snapshot`).
//!
//! Needs the reads of the `iamwatch-org-reader` role (`docs/contracts.md`, "Roles"), either
//! through that role or with management-account (or delegated administrator) credentials.

use crate::error::port_error;
use aws_config::SdkConfig;
use aws_sdk_organizations::types::ParentType;
use aws_sdk_organizations::Client;
use iamwatch_core::enrich::AccountInfo;
use iamwatch_core::ports::PortError;
use iamwatch_core::OrgSnapshot;
use std::collections::BTreeMap;

/// OU nesting is at most five levels deep; the walk stops after this many parents anyway.
const MAX_DEPTH: usize = 8;

/// An account's name, OU path (root down, root not listed) and tags. The three lookups run
/// concurrently.
pub async fn account_info(client: &Client, account_id: &str) -> Result<AccountInfo, PortError> {
    let (name, ou_path, tags) = tokio::try_join!(
        account_name(client, account_id),
        ou_path(client, account_id),
        tags(client, account_id)
    )?;
    Ok(AccountInfo {
        id: account_id.to_string(),
        name,
        ou_path,
        tags,
    })
}

async fn account_name(client: &Client, account_id: &str) -> Result<Option<String>, PortError> {
    let out = client
        .describe_account()
        .account_id(account_id)
        .send()
        .await
        .map_err(|e| port_error(format!("organizations:DescribeAccount {account_id}"), &e))?;
    Ok(out.account().and_then(|a| a.name()).map(str::to_string))
}

/// The OU names from the root down to the account, by walking `ListParents` up.
async fn ou_path(client: &Client, account_id: &str) -> Result<Vec<String>, PortError> {
    let mut path = Vec::new();
    let mut child = account_id.to_string();
    for _ in 0..MAX_DEPTH {
        let out = client
            .list_parents()
            .child_id(&child)
            .send()
            .await
            .map_err(|e| port_error(format!("organizations:ListParents {child}"), &e))?;
        let Some(parent) = out.parents().first() else {
            break;
        };
        let (Some(id), Some(ParentType::OrganizationalUnit)) = (parent.id(), parent.r#type())
        else {
            break;
        };
        let ou = client
            .describe_organizational_unit()
            .organizational_unit_id(id)
            .send()
            .await
            .map_err(|e| {
                port_error(format!("organizations:DescribeOrganizationalUnit {id}"), &e)
            })?;
        path.push(
            ou.organizational_unit()
                .and_then(|o| o.name())
                .unwrap_or(id)
                .to_string(),
        );
        child = id.to_string();
    }
    path.reverse();
    Ok(path)
}

async fn tags(client: &Client, resource: &str) -> Result<BTreeMap<String, String>, PortError> {
    let mut tags = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .list_tags_for_resource()
            .resource_id(resource)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| port_error(format!("organizations:ListTagsForResource {resource}"), &e))?;
        for t in out.tags() {
            tags.insert(t.key().to_string(), t.value().to_string());
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(tags),
        }
    }
}

/// Every account of the organization with its name, OU path and tags, sorted by account id.
/// Walks the tree from the roots (`ListRoots`, `ListOrganizationalUnitsForParent`,
/// `ListAccountsForParent`), then reads each account's tags.
///
/// `sdk` needs the org-reader permissions (management account credentials or the
/// `iamwatch-org-reader` role).
pub async fn snapshot(sdk: &SdkConfig) -> Result<OrgSnapshot, PortError> {
    let client = Client::new(sdk);
    let (mut accounts, _) = tree(&client, false).await?;
    for a in &mut accounts {
        a.tags = tags(&client, &a.id).await?;
    }
    Ok(OrgSnapshot { accounts })
}

/// Every account of the organization with its name and OU path (no tags), sorted by account
/// id, and every OU's id with its path; with `active_only`, accounts whose status is not
/// `ACTIVE` (suspended, pending closure) are left out.
pub async fn tree(
    client: &Client,
    active_only: bool,
) -> Result<(Vec<AccountInfo>, BTreeMap<String, Vec<String>>), PortError> {
    let mut ou_ids = BTreeMap::new();
    let roots = client
        .list_roots()
        .send()
        .await
        .map_err(|e| port_error("organizations:ListRoots", &e))?;
    let mut accounts = Vec::new();
    // (parent id, OU path of the parent)
    let mut pending: Vec<(String, Vec<String>)> = roots
        .roots()
        .iter()
        .filter_map(|r| r.id())
        .map(|id| (id.to_string(), Vec::new()))
        .collect();
    while let Some((parent, path)) = pending.pop() {
        let mut token: Option<String> = None;
        loop {
            let out = client
                .list_accounts_for_parent()
                .parent_id(&parent)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    port_error(format!("organizations:ListAccountsForParent {parent}"), &e)
                })?;
            for a in out.accounts() {
                let Some(id) = a.id() else { continue };
                if active_only && a.status().is_some_and(|s| s.as_str() != "ACTIVE") {
                    continue;
                }
                accounts.push(AccountInfo {
                    id: id.to_string(),
                    name: a.name().map(str::to_string),
                    ou_path: path.clone(),
                    tags: BTreeMap::new(),
                });
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        let mut token: Option<String> = None;
        loop {
            let out = client
                .list_organizational_units_for_parent()
                .parent_id(&parent)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    port_error(
                        format!("organizations:ListOrganizationalUnitsForParent {parent}"),
                        &e,
                    )
                })?;
            for ou in out.organizational_units() {
                let Some(id) = ou.id() else { continue };
                let mut child_path = path.clone();
                child_path.push(ou.name().unwrap_or(id).to_string());
                ou_ids.insert(id.to_string(), child_path.clone());
                pending.push((id.to_string(), child_path));
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
    }
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((accounts, ou_ids))
}
