//! One account's sweep: its credential report, the live reads the report lacks, the hygiene
//! rules, owners and creators, the watchdog, and what to archive. Pure of storage: the caller
//! ([`crate::sweep`]) reads the previous day's rows and writes the results.

use crate::admin::admin_via;
use crate::ports::{AccountIam, Authorization, LiveKey, UserAuth};
use crate::report::{self, ReportStats, ReportWait};
use crate::watchdog;
use iamwatch_core::enrich::{AccountInfo, Enrichment, UserDetails};
use iamwatch_core::finding::{fields, Finding, RecordState};
use iamwatch_core::inventory::report::{
    parse, CredentialReport, Flag, KeySlot, ReportError as ReportParseError, ReportRow, When,
};
use iamwatch_core::inventory::{evaluate, AccessKeyRow, UserRow};
use iamwatch_core::ports::PortError;
use iamwatch_core::{time, FindingContext, Policy};
use std::collections::{BTreeMap, BTreeSet};

/// What the sweep of one account gives.
#[derive(Debug, Clone, Default)]
pub struct Swept {
    /// A row per IAM user, sorted by user name.
    pub users: Vec<UserRow>,
    /// The credential report's generation time (ASFF form).
    pub report_time: String,
    /// The hygiene findings seen today (active), root's included.
    pub findings: Vec<Finding>,
    /// Findings of users the live path missed (watchdog), with the users' names.
    pub missed: Vec<(String, Finding)>,
    /// Earlier hygiene findings no longer seen: archived.
    pub archived: Vec<Finding>,
    /// What could not be read but did not stop the account (a user's keys, a bad report row,
    /// Security Hub's findings), each naming what and why.
    pub notes: Vec<String>,
    pub report_stats: ReportStats,
}

/// What the sweep knows of the account's previous sweep.
#[derive(Debug, Clone, Default)]
pub struct Previous {
    /// Its users rows.
    pub users: Vec<UserRow>,
    /// Its report time, when known.
    pub report_time: Option<String>,
}

/// Settings of an account's sweep.
#[derive(Debug, Clone, Copy)]
pub struct AccountOptions {
    pub report_wait: ReportWait,
    /// The sweep's clock (ms since the epoch).
    pub now_ms: i64,
    /// Users created less than this long before the sweep are judged by the next one (the
    /// real-time finding may still be on its way).
    pub watchdog_grace_ms: i64,
}

fn when(t: Option<&str>) -> When {
    t.and_then(time::parse_millis)
        .map(When::At)
        .unwrap_or(When::NotApplicable)
}

/// The ids of a row's key slots from the live keys: a slot takes the key created when the
/// slot was last rotated (to the second), else the keys in creation order.
fn fill_key_ids(row: &mut ReportRow, live: &[LiveKey]) {
    let second = |ms: i64| ms.div_euclid(1000);
    let mut taken = BTreeSet::new();
    for slot in row.keys.iter_mut() {
        let Some(rotated) = slot.last_rotated.at() else {
            continue;
        };
        if let Some(k) = live.iter().find(|k| {
            !taken.contains(&k.id)
                && k.created
                    .as_deref()
                    .and_then(time::parse_millis)
                    .is_some_and(|c| second(c) == second(rotated))
        }) {
            taken.insert(k.id.clone());
            slot.id = Some(k.id.clone());
        }
    }
    let mut rest: Vec<&LiveKey> = live.iter().filter(|k| !taken.contains(&k.id)).collect();
    rest.sort_by_key(|k| k.created.clone());
    let mut rest = rest.into_iter();
    for slot in row.keys.iter_mut() {
        if slot.id.is_none() && slot.last_rotated.at().is_some() {
            slot.id = rest.next().map(|k| k.id.clone());
        }
    }
}

/// The key columns of a row: the live keys when they were read (ids, live last use), else the
/// report's slots.
fn key_rows(row: &ReportRow, live: Option<&[LiveKey]>) -> Vec<AccessKeyRow> {
    if let Some(live) = live {
        return live
            .iter()
            .map(|k| {
                let slot = row.keys.iter().find(|s| s.id.as_deref() == Some(&k.id));
                AccessKeyRow {
                    id: Some(k.id.clone()),
                    active: k.active,
                    last_rotated: k
                        .created
                        .as_deref()
                        .map(time::normalize)
                        .or_else(|| slot.and_then(|s| s.last_rotated.iso())),
                    last_used: k
                        .last_used
                        .as_deref()
                        .map(time::normalize)
                        .or_else(|| slot.and_then(|s| s.last_used.iso())),
                    last_used_service: k
                        .last_used_service
                        .clone()
                        .or_else(|| slot.and_then(|s| s.last_used_service.clone())),
                }
            })
            .collect();
    }
    row.keys
        .iter()
        .filter(|s| s.last_rotated.at().is_some())
        .map(|s| AccessKeyRow {
            id: s.id.clone(),
            active: s.active,
            last_rotated: s.last_rotated.iso(),
            last_used: s.last_used.iso(),
            last_used_service: s.last_used_service.clone(),
        })
        .collect()
}

/// What the core's scoring knows of a user (for `target-is-admin`): names, and the ways to
/// admin found in policy documents.
fn details(
    row: &ReportRow,
    auth: Option<&UserAuth>,
    all: &Authorization,
    live: Option<&[LiveKey]>,
    policy: &Policy,
) -> UserDetails {
    let groups = auth.map(|a| a.groups.clone()).unwrap_or_default();
    let mut group_attached: Vec<String> = all
        .groups
        .iter()
        .filter(|g| groups.contains(&g.name))
        .flat_map(|g| g.attached.iter().cloned())
        .collect();
    group_attached.sort();
    group_attached.dedup();
    UserDetails {
        user_name: row.user.clone(),
        arn: Some(row.arn.clone()),
        user_id: None,
        created: row.created.iso(),
        groups,
        attached_policies: auth.map(|a| a.attached.clone()).unwrap_or_default(),
        inline_policies: auth
            .map(|a| a.inline.iter().map(|p| p.name.clone()).collect())
            .unwrap_or_default(),
        group_attached_policies: group_attached,
        mfa_devices: Vec::new(),
        access_keys: live
            .unwrap_or_default()
            .iter()
            .map(|k| iamwatch_core::enrich::AccessKeyInfo {
                id: k.id.clone(),
                status: if k.active { "Active" } else { "Inactive" }.to_string(),
                created: k.created.clone(),
            })
            .collect(),
        has_login_profile: row.password_enabled.is_true(),
        admin_documents: auth.map(|a| admin_via(a, all, policy)).unwrap_or_default(),
    }
}

/// A previous day's users row as the credential report row it was read from, so the hygiene
/// rules can tell what they found then.
pub fn row_of(u: &UserRow, line: u64) -> ReportRow {
    let mut keys = [KeySlot::empty(1), KeySlot::empty(2)];
    for (slot, k) in keys.iter_mut().zip(&u.access_keys) {
        slot.id = k.id.clone();
        slot.active = k.active;
        slot.last_rotated = when(k.last_rotated.as_deref());
        slot.last_used = when(k.last_used.as_deref());
        slot.last_used_service = k.last_used_service.clone();
    }
    ReportRow {
        line,
        user: u.user.clone(),
        arn: u.arn.clone(),
        created: when(u.created.as_deref()),
        password_enabled: if u.password_enabled {
            Flag::True
        } else {
            Flag::False
        },
        password_last_used: match (&u.password_last_used, u.password_enabled) {
            (Some(t), _) => when(Some(t)),
            (None, true) => When::NoInformation,
            (None, false) => When::NotApplicable,
        },
        password_last_changed: When::NotApplicable,
        mfa_active: u.mfa_active,
        keys,
    }
}

/// The hygiene findings the previous day's rows gave, as of their report time.
fn previous_findings(
    account: &AccountInfo,
    prev: &Previous,
    policy: &Policy,
    ctx: &FindingContext,
) -> Vec<Finding> {
    let Some(as_of) = prev
        .report_time
        .as_deref()
        .or_else(|| prev.users.first().map(|u| u.report_time.as_str()))
        .and_then(time::parse_millis)
    else {
        return Vec::new();
    };
    let report = CredentialReport {
        account_id: account.id.clone(),
        partition: ctx.partition.clone(),
        rows: prev
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| row_of(u, i as u64 + 2))
            .collect(),
        problems: Vec::new(),
    };
    let e = Enrichment {
        account: Some(account.clone()),
        ..Enrichment::default()
    };
    evaluate(&report, policy, as_of, &e, &BTreeMap::new(), ctx)
        .findings
        .into_iter()
        .map(|(f, _)| f)
        .collect()
}

/// Sweeps one account. `active` is the account's active iamwatch findings in Security Hub
/// (`Err` when they could not be read: no creators, no archive from Security Hub).
pub async fn sweep<A: AccountIam>(
    iam: &A,
    account: &AccountInfo,
    previous: Option<&Previous>,
    active: Result<Vec<Finding>, PortError>,
    policy: &Policy,
    ctx: &FindingContext,
    options: &AccountOptions,
) -> Result<Swept, PortError> {
    let id = account.id.as_str();
    let (raw, report_stats) = report::fetch(iam, id, &options.report_wait).await?;
    let mut report = match parse(&raw.content) {
        Ok(r) => r,
        // A report with its header and no row at all: no user to read (AWS always writes the
        // root row; a report without it and without users names no account).
        Err(ReportParseError::NoAccount)
            if raw
                .content
                .split(|b| *b == b'\n')
                .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
                .count()
                <= 1 =>
        {
            CredentialReport {
                account_id: account.id.clone(),
                partition: ctx.partition.clone(),
                rows: Vec::new(),
                problems: Vec::new(),
            }
        }
        Err(e) => {
            return Err(PortError {
                operation: format!("iam:GetCredentialReport in {id}"),
                message: e.to_string(),
                retryable: false,
            })
        }
    };
    if report.account_id != account.id {
        return Err(PortError {
            operation: format!("iam:GetCredentialReport in {id}"),
            message: format!(
                "the report is of account {}, not {id} (is the member role in the right account?)",
                report.account_id
            ),
            retryable: false,
        });
    }
    let mut out = Swept {
        report_stats,
        ..Swept::default()
    };
    for p in &report.problems {
        out.notes.push(format!("credential report of {id}: {p}"));
    }
    let as_of = time::parse_millis(&raw.generated).unwrap_or(options.now_ms);
    out.report_time = time::format_millis(as_of);
    let auth = iam.authorization().await?;
    let by_name: BTreeMap<&str, &UserAuth> =
        auth.users.iter().map(|u| (u.name.as_str(), u)).collect();

    // Live reads the report lacks: key ids and last use, MFA devices.
    let mut live_keys: BTreeMap<String, Vec<LiveKey>> = BTreeMap::new();
    let mut mfa: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in report.rows.iter_mut().filter(|r| !r.is_root()) {
        if row
            .keys
            .iter()
            .any(|k| k.last_rotated.at().is_some() || k.active)
        {
            match iam.access_keys(&row.user).await {
                Ok(keys) => {
                    fill_key_ids(row, &keys);
                    live_keys.insert(row.user.clone(), keys);
                }
                Err(e) => out.notes.push(format!("{id} user {}: {e}", row.user)),
            }
        }
        if row.mfa_active {
            match iam.mfa_devices(&row.user).await {
                Ok(devices) => {
                    mfa.insert(row.user.clone(), devices);
                }
                Err(e) => out.notes.push(format!("{id} user {}: {e}", row.user)),
            }
        }
    }
    let mut users: BTreeMap<String, UserDetails> = BTreeMap::new();
    for row in report.users() {
        let mut d = details(
            row,
            by_name.get(row.user.as_str()).copied(),
            &auth,
            live_keys.get(&row.user).map(Vec::as_slice),
            policy,
        );
        d.mfa_devices = mfa.get(&row.user).cloned().unwrap_or_default();
        users.insert(row.user.clone(), d);
    }
    let enrichment = Enrichment {
        account: Some(account.clone()),
        ..Enrichment::default()
    };
    let evaluation = evaluate(&report, policy, as_of, &enrichment, &users, ctx);
    let by_user = evaluation.by_user();

    let active = match active {
        Ok(a) => a,
        Err(e) => {
            out.notes.push(format!(
                "{id}: Security Hub findings not read, so no creators and no archiving from them: {e}"
            ));
            Vec::new()
        }
    };
    let active_by_id: BTreeMap<&str, &Finding> =
        active.iter().map(|f| (f.id.as_str(), f)).collect();
    let creators = watchdog::creators(&active);

    for row in report.users() {
        let auth_user = by_name.get(row.user.as_str()).copied();
        // Read from the policy documents once, for the scoring ([`details`]).
        let admin = users
            .get(&row.user)
            .map(|d| d.admin_documents.clone())
            .unwrap_or_default();
        let tags = auth_user.map(|u| u.tags.clone()).unwrap_or_default();
        let owner = policy
            .inventory
            .owner_tags
            .iter()
            .find_map(|t| tags.get(t).filter(|v| !v.trim().is_empty()).cloned());
        let (score, rules) = by_user.get(&row.user).cloned().unwrap_or_default();
        out.users.push(UserRow {
            account_id: account.id.clone(),
            account_name: account.name.clone(),
            ou_path: account.ou_path.clone(),
            user: row.user.clone(),
            arn: row.arn.clone(),
            created: row.created.iso(),
            password_enabled: row.password_enabled.is_true(),
            password_last_used: row.password_last_used.iso(),
            mfa_active: row.mfa_active,
            access_keys: key_rows(row, live_keys.get(&row.user).map(Vec::as_slice)),
            admin: !admin.is_empty(),
            admin_via: admin,
            groups: auth_user.map(|u| u.groups.clone()).unwrap_or_default(),
            tags,
            owner,
            creator: creators.get(&row.user).cloned().flatten(),
            score,
            rules,
            report_time: out.report_time.clone(),
        });
    }
    out.users.sort_by(|a, b| a.user.cmp(&b.user));

    // Today's findings keep when they were first seen.
    for (mut f, _) in evaluation.findings {
        if let Some(old) = active_by_id.get(f.id.as_str()) {
            f.first_observed_at = old.first_observed_at.clone();
            f.created_at = old.created_at.clone();
            f.updated_at = time::later_than(&f.updated_at, &old.updated_at);
        }
        out.findings.push(f);
    }

    if let Some(prev) = previous {
        out.missed = missed(
            account, prev, &out.users, &users, &creators, policy, ctx, options,
        );
    }

    // Archive what was seen before (the previous rows, and Security Hub) and is not now.
    let seen: BTreeSet<&str> = out.findings.iter().map(|f| f.id.as_str()).collect();
    let hygiene: BTreeSet<&str> = iamwatch_core::inventory::rules::ids().into_iter().collect();
    let mut ended: BTreeMap<String, Finding> = BTreeMap::new();
    if let Some(prev) = previous {
        for f in previous_findings(account, prev, policy, ctx) {
            ended.insert(f.id.clone(), f);
        }
    }
    for f in &active {
        if f.field(fields::RULE_ID)
            .is_some_and(|r| hygiene.contains(r))
        {
            ended.insert(f.id.clone(), f.clone());
        }
    }
    let stamp = format!("inventory sweep of {}", out.report_time);
    for (fid, f) in ended {
        if seen.contains(fid.as_str()) {
            continue;
        }
        let base = active_by_id.get(fid.as_str()).copied().unwrap_or(&f);
        let mut a = base.clone();
        a.record_state = RecordState::Archived;
        a.updated_at = time::later_than(&time::format_millis(options.now_ms), &base.updated_at);
        a.product_fields.insert(
            fields::RESOLVED_BY.to_string(),
            format!("{stamp}: no longer seen"),
        );
        out.archived.push(a);
    }
    Ok(out)
}

/// The users created since the previous sweep with no `iam-user-created` finding at all.
#[allow(clippy::too_many_arguments)]
fn missed(
    account: &AccountInfo,
    prev: &Previous,
    rows: &[UserRow],
    users: &BTreeMap<String, UserDetails>,
    creators: &BTreeMap<String, Option<String>>,
    policy: &Policy,
    ctx: &FindingContext,
    options: &AccountOptions,
) -> Vec<(String, Finding)> {
    let before: BTreeSet<&str> = prev.users.iter().map(|u| u.user.as_str()).collect();
    // A user already there at the previous sweep but created within the grace before it was
    // not judged then: judge it now.
    // (It was in the previous report, so it was created by that report's time.)
    let prev_time = prev.report_time.as_deref().and_then(time::parse_millis);
    let until = options.now_ms - options.watchdog_grace_ms;
    rows.iter()
        .filter(|u| !creators.contains_key(&u.user))
        .filter(|u| {
            let created = u.created.as_deref().and_then(time::parse_millis);
            let judged_now = created.is_some_and(|c| c <= until);
            let new = !before.contains(u.user.as_str())
                || matches!((created, prev_time),
                    (Some(c), Some(t)) if c > t - options.watchdog_grace_ms && c <= t);
            judged_now && new
        })
        .filter_map(|u| {
            let d = users.get(&u.user)?;
            watchdog::missed_user_finding(account, d, policy, ctx).map(|f| (u.user.clone(), f))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(id: &str, created: &str) -> LiveKey {
        LiveKey {
            id: id.into(),
            active: true,
            created: Some(created.into()),
            ..LiveKey::default()
        }
    }

    /// A users row of account 111122223333 with nothing set.
    fn user_row(name: &str) -> UserRow {
        UserRow {
            account_id: "111122223333".into(),
            account_name: None,
            ou_path: vec![],
            user: name.into(),
            arn: format!("arn:aws:iam::111122223333:user/{name}"),
            created: None,
            password_enabled: false,
            password_last_used: None,
            mfa_active: false,
            access_keys: vec![],
            admin: false,
            admin_via: vec![],
            groups: vec![],
            tags: BTreeMap::new(),
            owner: None,
            creator: None,
            score: 0,
            rules: vec![],
            report_time: "2026-12-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn key_ids_go_to_the_slot_rotated_when_the_key_was_made() {
        let mut user = user_row("bob");
        user.access_keys = vec![
            AccessKeyRow {
                id: None,
                active: true,
                last_rotated: Some("2026-01-01T00:00:00Z".into()),
                last_used: None,
                last_used_service: None,
            },
            AccessKeyRow {
                id: None,
                active: false,
                last_rotated: Some("2026-02-01T00:00:00Z".into()),
                last_used: None,
                last_used_service: None,
            },
        ];
        let mut row = row_of(&user, 2);
        // Listed newest first, one of them with sub-second precision.
        fill_key_ids(
            &mut row,
            &[
                live("AKIANEW", "2026-02-01T00:00:00.400Z"),
                live("AKIAOLD", "2026-01-01T00:00:00Z"),
            ],
        );
        assert_eq!(row.keys[0].id.as_deref(), Some("AKIAOLD"));
        assert_eq!(row.keys[1].id.as_deref(), Some("AKIANEW"));
        // Times that match nothing: creation order.
        let mut row2 = row.clone();
        row2.keys.iter_mut().for_each(|k| k.id = None);
        fill_key_ids(
            &mut row2,
            &[
                live("AKIAB", "2025-06-01T00:00:00Z"),
                live("AKIAA", "2025-05-01T00:00:00Z"),
            ],
        );
        assert_eq!(row2.keys[0].id.as_deref(), Some("AKIAA"));
        assert_eq!(row2.keys[1].id.as_deref(), Some("AKIAB"));
        assert_eq!(row.password_last_used, When::NotApplicable);
        assert_eq!(row.password_enabled, Flag::False);
    }

    #[test]
    fn admin_through_an_inline_policy_reaches_the_scoring() {
        let admin_doc = r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
        let user = UserAuth {
            name: "bob".into(),
            inline: vec![crate::ports::PolicyText {
                name: "everything".into(),
                document: admin_doc.into(),
            }],
            ..UserAuth::default()
        };
        let all = Authorization {
            users: vec![user.clone()],
            ..Authorization::default()
        };
        let row = row_of(&user_row("bob"), 2);
        let d = details(&row, Some(&user), &all, None, &Policy::default());
        assert_eq!(d.inline_policies, ["everything"]);
        assert_eq!(d.admin_documents, ["inline everything"]);
        assert_eq!(
            d.admin_access(&Policy::default(), None).as_deref(),
            Some("inline everything allows every action")
        );
        let plain = UserAuth {
            inline: vec![],
            ..user
        };
        let d = details(&row, Some(&plain), &all, None, &Policy::default());
        assert_eq!(d.admin_access(&Policy::default(), None), None);
    }
}
