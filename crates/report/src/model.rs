//! What the page shows, computed from the tables: the trend of the user count, the day's change,
//! the risky users, and the per-account and per-OU roll-ups. Pure functions over rows, tested here.

use std::collections::{BTreeMap, BTreeSet};

use iamwatch_core::inventory::{AccountRow, AccountStatus, Day, UserRow};

/// Everything the report was read from: the accounts rows of every day found, the users rows of
/// the report's day and of the day before it that has a users table, and what could not be read.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Accounts rows per day, every day found up to the report's day.
    pub accounts: BTreeMap<Day, Vec<AccountRow>>,
    /// Users rows of the days that were read (the report's day and the one before).
    pub users: BTreeMap<Day, Vec<UserRow>>,
    /// The report's day.
    pub today: Option<Day>,
    /// What was skipped while reading, each naming the object (and line) and why.
    pub problems: Vec<String>,
}

impl Inventory {
    /// The users rows of the report's day.
    pub fn today_users(&self) -> &[UserRow] {
        self.today
            .and_then(|d| self.users.get(&d))
            .map_or(&[], Vec::as_slice)
    }

    /// The accounts rows of the report's day.
    pub fn today_accounts(&self) -> &[AccountRow] {
        self.today
            .and_then(|d| self.accounts.get(&d))
            .map_or(&[], Vec::as_slice)
    }

    /// The last day before the report's day that has a users table, with its rows.
    pub fn previous(&self) -> Option<(&Day, &[UserRow])> {
        let today = self.today?;
        self.users
            .range(..today)
            .next_back()
            .map(|(d, rows)| (d, rows.as_slice()))
    }

    /// The accounts rows of `day` (empty when that day has no accounts table).
    pub fn accounts_on(&self, day: Day) -> &[AccountRow] {
        self.accounts.get(&day).map_or(&[], Vec::as_slice)
    }
}

/// Whether an account's sweep succeeded that day.
pub fn swept_ok(account: &AccountRow) -> bool {
    account.status == AccountStatus::Ok
}

/// The IAM user count of one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendPoint {
    /// The day.
    pub day: Day,
    /// IAM users in the accounts swept that day (accounts whose sweep failed count nothing).
    pub users: u64,
    /// Accounts in the day's table.
    pub accounts: usize,
    /// Of them, accounts whose sweep failed.
    pub failed: usize,
}

/// The user count of every day, oldest first: one point per day found.
pub fn trend(accounts: &BTreeMap<Day, Vec<AccountRow>>) -> Vec<TrendPoint> {
    accounts
        .iter()
        .map(|(day, rows)| TrendPoint {
            day: *day,
            users: rows
                .iter()
                .filter(|a| swept_ok(a))
                .map(|a| u64::from(a.users))
                .sum(),
            accounts: rows.len(),
            failed: rows.iter().filter(|a| !swept_ok(a)).count(),
        })
        .collect()
}

/// The day's change against the previous day found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change<'a> {
    /// Users in today's table and not in the previous day's, by account then name.
    pub new: Vec<&'a UserRow>,
    /// Users in the previous day's table and not in today's, by account then name.
    pub removed: Vec<&'a UserRow>,
    /// Accounts left out of the comparison, with why (a sweep that failed on either day: its
    /// users are neither new nor removed, only unknown).
    pub not_compared: Vec<(String, String)>,
}

/// Compares the users of two days, account by account, leaving out the accounts whose sweep
/// failed on either day (listed in [`Change::not_compared`]).
pub fn change<'a>(
    previous: &'a [UserRow],
    previous_accounts: &[AccountRow],
    today: &'a [UserRow],
    today_accounts: &[AccountRow],
) -> Change<'a> {
    let mut failed: BTreeMap<String, String> = BTreeMap::new();
    for (when, accounts) in [
        ("previous day", previous_accounts),
        ("today", today_accounts),
    ] {
        for a in accounts.iter().filter(|a| !swept_ok(a)) {
            failed.entry(a.account_id.clone()).or_insert_with(|| {
                format!(
                    "sweep failed {when}: {}",
                    a.error.as_deref().unwrap_or("no error recorded")
                )
            });
        }
    }
    let key = |u: &UserRow| (u.account_id.clone(), u.user.clone());
    let before: BTreeSet<_> = previous.iter().map(key).collect();
    let after: BTreeSet<_> = today.iter().map(key).collect();
    let mut new: Vec<&UserRow> = today
        .iter()
        .filter(|u| !failed.contains_key(&u.account_id) && !before.contains(&key(u)))
        .collect();
    let mut removed: Vec<&UserRow> = previous
        .iter()
        .filter(|u| !failed.contains_key(&u.account_id) && !after.contains(&key(u)))
        .collect();
    new.sort_by_key(|u| key(u));
    removed.sort_by_key(|u| key(u));
    Change {
        new,
        removed,
        not_compared: failed.into_iter().collect(),
    }
}

/// The users with at least one rule firing, highest score first (then account, then name).
pub fn risky(users: &[UserRow]) -> Vec<&UserRow> {
    let mut risky: Vec<&UserRow> = users.iter().filter(|u| !u.rules.is_empty()).collect();
    risky.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.account_id.cmp(&b.account_id))
            .then_with(|| a.user.cmp(&b.user))
    });
    risky
}

/// Whether an OU is known to hold no IAM user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtZero {
    /// Every account under it was swept and none has a user.
    Yes,
    /// Some account under it has users.
    No,
    /// No user was found, but some account under it could not be swept.
    Unknown,
}

/// Whether an OU is under the guardrail service control policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guardrail {
    /// Attached to this OU.
    Direct,
    /// Attached to an OU above it (the path of that OU); SCPs apply to every OU below.
    Inherited(String),
    /// Not attached to it or above it.
    None,
}

/// One OU's roll-up over every account under it (its child OUs included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OuRollup {
    /// The OU's path from the root, `/`-joined (`Workloads/Prod`); the organization's root is `Root`.
    pub path: String,
    /// Depth below the root (the root is 0).
    pub depth: usize,
    /// Accounts under it.
    pub accounts: usize,
    /// Of them, accounts whose sweep failed today.
    pub failed: usize,
    /// IAM users in its accounts swept today.
    pub users: u64,
    /// Risky users among them.
    pub risky_users: u64,
    /// Access keys among them.
    pub access_keys: u64,
    /// Whether it is at zero.
    pub at_zero: AtZero,
    /// Whether the guardrail SCP covers it.
    pub guardrail: Guardrail,
}

/// The name of the organization's root in OU paths.
pub const ROOT: &str = "Root";

/// The path of each OU an account is in, from the root down: `Root`, `Root/Workloads`, ...
/// (shown without the `Root/` prefix).
fn ou_chain(ou_path: &[String]) -> Vec<(String, usize)> {
    let mut chain = vec![(ROOT.to_string(), 0)];
    for depth in 1..=ou_path.len() {
        chain.push((ou_path[..depth].join("/"), depth));
    }
    chain
}

/// Whether a guardrail entry names this OU: its path (`Workloads/Prod`, with or without a leading
/// `Root/`), or its name when the name is unique among the OUs found.
fn names_ou(entry: &str, path: &str, unique_names: &BTreeMap<String, usize>) -> bool {
    let entry = entry.trim().trim_matches('/');
    let entry = entry.strip_prefix("Root/").unwrap_or(entry);
    if entry == path {
        return true;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    !entry.contains('/') && entry == name && unique_names.get(name) == Some(&1)
}

/// Rolls today's accounts up into every OU on their paths, from the root down (a parent before its
/// children, siblings by name), with which OUs are at zero and which the guardrail covers.
/// Returns the roll-up and the guardrail entries that matched no OU.
pub fn ou_rollup(
    accounts: &[AccountRow],
    guardrail_ous: &[String],
) -> (Vec<OuRollup>, Vec<String>) {
    let mut ous: BTreeMap<String, OuRollup> = BTreeMap::new();
    for account in accounts {
        let ok = swept_ok(account);
        for (path, depth) in ou_chain(&account.ou_path) {
            let ou = ous.entry(path.clone()).or_insert_with(|| OuRollup {
                path,
                depth,
                accounts: 0,
                failed: 0,
                users: 0,
                risky_users: 0,
                access_keys: 0,
                at_zero: AtZero::Yes,
                guardrail: Guardrail::None,
            });
            ou.accounts += 1;
            if ok {
                ou.users += u64::from(account.users);
                ou.risky_users += u64::from(account.risky_users);
                ou.access_keys += u64::from(account.access_keys);
            } else {
                ou.failed += 1;
            }
        }
    }
    let mut unique_names: BTreeMap<String, usize> = BTreeMap::new();
    for path in ous.keys().filter(|p| p.as_str() != ROOT) {
        let name = path.rsplit('/').next().unwrap_or(path);
        *unique_names.entry(name.to_string()).or_default() += 1;
    }
    let entries: Vec<&String> = guardrail_ous
        .iter()
        .filter(|e| !e.trim().is_empty())
        .collect();
    let mut matched = vec![false; entries.len()];
    let direct: BTreeSet<String> = ous
        .keys()
        .filter(|path| {
            let mut any = false;
            for (i, entry) in entries.iter().enumerate() {
                let hit = if path.as_str() == ROOT {
                    entry.trim() == ROOT
                } else {
                    names_ou(entry, path, &unique_names)
                };
                if hit {
                    matched[i] = true;
                    any = true;
                }
            }
            any
        })
        .cloned()
        .collect();
    for ou in ous.values_mut() {
        ou.at_zero = if ou.users > 0 {
            AtZero::No
        } else if ou.failed > 0 {
            AtZero::Unknown
        } else {
            AtZero::Yes
        };
        ou.guardrail = if direct.contains(&ou.path) {
            Guardrail::Direct
        } else {
            let ancestors = std::iter::once(ROOT.to_string()).chain(
                ou.path
                    .match_indices('/')
                    .map(|(i, _)| ou.path[..i].to_string()),
            );
            let above: Vec<String> = if ou.path == ROOT {
                Vec::new()
            } else {
                ancestors.collect()
            };
            above
                .into_iter()
                .rev()
                .find(|p| direct.contains(p))
                .map_or(Guardrail::None, Guardrail::Inherited)
        };
    }
    // Depth-first order: a parent, then its children by name.
    let mut rows: Vec<OuRollup> = ous.into_values().collect();
    rows.sort_by(|a, b| {
        let key = |o: &OuRollup| -> Vec<String> {
            if o.path == ROOT {
                Vec::new()
            } else {
                o.path.split('/').map(str::to_string).collect()
            }
        };
        key(a).cmp(&key(b))
    });
    let unmatched = entries
        .iter()
        .zip(&matched)
        .filter(|(_, m)| !**m)
        .map(|(e, _)| e.trim().to_string())
        .collect();
    (rows, unmatched)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use iamwatch_core::inventory::AccessKeyRow;

    pub fn user(account: &str, name: &str, score: u8, rules: &[&str]) -> UserRow {
        UserRow {
            account_id: account.to_string(),
            account_name: Some(format!("name-{account}")),
            ou_path: vec![],
            user: name.to_string(),
            arn: format!("arn:aws:iam::{account}:user/{name}"),
            created: Some("2025-01-01T00:00:00Z".into()),
            password_enabled: false,
            password_last_used: None,
            mfa_active: false,
            access_keys: vec![AccessKeyRow {
                id: Some("AKIAEXAMPLE".into()),
                active: true,
                last_rotated: None,
                last_used: None,
                last_used_service: None,
            }],
            admin: false,
            admin_via: vec![],
            groups: vec![],
            tags: Default::default(),
            owner: None,
            creator: None,
            score,
            rules: rules.iter().map(|r| r.to_string()).collect(),
            report_time: "2026-12-01T06:00:00Z".into(),
        }
    }

    pub fn account(id: &str, ou: &[&str], users: u32, ok: bool) -> AccountRow {
        AccountRow {
            account_id: id.to_string(),
            account_name: Some(format!("name-{id}")),
            ou_path: ou.iter().map(|s| s.to_string()).collect(),
            users,
            risky_users: users / 2,
            access_keys: users,
            report_time: None,
            status: if ok {
                AccountStatus::Ok
            } else {
                AccountStatus::Error
            },
            error: (!ok).then(|| "AccessDenied: sts:AssumeRole".to_string()),
        }
    }

    fn day(s: &str) -> Day {
        s.parse().unwrap()
    }

    #[test]
    fn trend_counts_one_point_per_day_and_only_swept_accounts() {
        let mut days = BTreeMap::new();
        days.insert(
            day("2026-11-30"),
            vec![
                account("111111111111", &[], 4, true),
                account("222222222222", &[], 3, true),
            ],
        );
        days.insert(
            day("2026-11-28"),
            vec![account("111111111111", &[], 9, true)],
        );
        days.insert(
            day("2026-12-01"),
            vec![
                account("111111111111", &[], 2, true),
                account("222222222222", &[], 0, false),
            ],
        );
        let t = trend(&days);
        let got: Vec<(String, u64, usize, usize)> = t
            .iter()
            .map(|p| (p.day.to_string(), p.users, p.accounts, p.failed))
            .collect();
        assert_eq!(
            got,
            vec![
                ("2026-11-28".to_string(), 9, 1, 0),
                ("2026-11-30".to_string(), 7, 2, 0),
                ("2026-12-01".to_string(), 2, 2, 1)
            ]
        );
    }

    #[test]
    fn change_lists_new_and_removed_and_leaves_failed_accounts_out() {
        let prev = vec![
            user("111111111111", "alice", 0, &[]),
            user("111111111111", "bob", 0, &[]),
            user("222222222222", "carol", 0, &[]),
            user("333333333333", "dave", 0, &[]),
        ];
        let today = vec![
            user("111111111111", "alice", 0, &[]),
            user("111111111111", "erin", 0, &[]),
            // Same name in another account: a different user.
            user("222222222222", "bob", 0, &[]),
        ];
        let prev_accounts = vec![
            account("111111111111", &[], 2, true),
            account("222222222222", &[], 1, true),
            account("333333333333", &[], 1, true),
        ];
        let today_accounts = vec![
            account("111111111111", &[], 2, true),
            account("222222222222", &[], 1, true),
            account("333333333333", &[], 0, false),
        ];
        let c = change(&prev, &prev_accounts, &today, &today_accounts);
        let names = |v: &[&UserRow]| -> Vec<String> {
            v.iter()
                .map(|u| format!("{}/{}", u.account_id, u.user))
                .collect()
        };
        assert_eq!(names(&c.new), ["111111111111/erin", "222222222222/bob"]);
        assert_eq!(
            names(&c.removed),
            ["111111111111/bob", "222222222222/carol"]
        );
        assert_eq!(c.not_compared.len(), 1);
        assert_eq!(c.not_compared[0].0, "333333333333");
        assert!(c.not_compared[0]
            .1
            .contains("sweep failed today: AccessDenied"));
    }

    #[test]
    fn risky_users_by_score_then_account_then_name() {
        let users = vec![
            user("222222222222", "b", 50, &["access-key-unused"]),
            user("111111111111", "ok", 0, &[]),
            user("111111111111", "z", 60, &["console-without-mfa"]),
            user("111111111111", "a", 50, &["access-key-unused"]),
        ];
        let r: Vec<&str> = risky(&users).iter().map(|u| u.user.as_str()).collect();
        assert_eq!(r, ["z", "a", "b"]);
    }

    #[test]
    fn ou_rollup_sums_up_the_tree_and_finds_zero_ous() {
        let accounts = vec![
            account("111111111111", &["Workloads", "Prod"], 4, true),
            account("222222222222", &["Workloads", "Dev"], 0, true),
            account("333333333333", &["Sandbox"], 0, false),
            account("444444444444", &[], 1, true),
            account("555555555555", &["Workloads", "Dev"], 0, true),
        ];
        let (rows, unmatched) = ou_rollup(&accounts, &[]);
        assert!(unmatched.is_empty());
        let got: Vec<(&str, usize, usize, u64, AtZero)> = rows
            .iter()
            .map(|o| (o.path.as_str(), o.accounts, o.failed, o.users, o.at_zero))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Root", 5, 1, 5, AtZero::No),
                ("Sandbox", 1, 1, 0, AtZero::Unknown),
                ("Workloads", 3, 0, 4, AtZero::No),
                ("Workloads/Dev", 2, 0, 0, AtZero::Yes),
                ("Workloads/Prod", 1, 0, 4, AtZero::No),
            ]
        );
        assert_eq!(rows[4].depth, 2);
        assert_eq!(rows[2].access_keys, 4);
        assert_eq!(rows[2].risky_users, 2);
    }

    #[test]
    fn guardrail_is_direct_inherited_or_none_and_unmatched_entries_are_said() {
        let accounts = vec![
            account("111111111111", &["Workloads", "Prod"], 0, true),
            account("222222222222", &["Workloads", "Dev"], 0, true),
            account("333333333333", &["Sandbox", "Dev"], 0, true),
            account("444444444444", &["Security"], 0, true),
        ];
        let entries = vec![
            "Workloads".to_string(),
            " Root/Sandbox/Dev ".to_string(),
            // Ambiguous as a bare name: two OUs are called Dev.
            "Dev".to_string(),
            "ou-abcd-12345678".to_string(),
            String::new(),
        ];
        let (rows, unmatched) = ou_rollup(&accounts, &entries);
        let g: BTreeMap<&str, Guardrail> = rows
            .iter()
            .map(|o| (o.path.as_str(), o.guardrail.clone()))
            .collect();
        assert_eq!(g["Root"], Guardrail::None);
        assert_eq!(g["Workloads"], Guardrail::Direct);
        assert_eq!(
            g["Workloads/Prod"],
            Guardrail::Inherited("Workloads".into())
        );
        assert_eq!(g["Workloads/Dev"], Guardrail::Inherited("Workloads".into()));
        assert_eq!(g["Sandbox"], Guardrail::None);
        assert_eq!(g["Sandbox/Dev"], Guardrail::Direct);
        assert_eq!(g["Security"], Guardrail::None);
        assert_eq!(unmatched, ["Dev", "ou-abcd-12345678"]);
        let (rows, _) = ou_rollup(&accounts, &["Root".to_string()]);
        assert_eq!(rows[0].guardrail, Guardrail::Direct);
        assert!(rows[1..]
            .iter()
            .all(|o| o.guardrail == Guardrail::Inherited("Root".into())));
    }
}
