//! The report of a large organization: 500 accounts x 50 IAM users, 90 days of accounts tables,
//! today's and yesterday's users tables, read from memory (gzip JSON Lines as the sweep writes
//! them), aggregated and rendered. What the sweep adds to its run after the last account.

use std::collections::BTreeMap;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use iamwatch_core::inventory::table::write_jsonl_gz;
use iamwatch_core::inventory::{AccessKeyRow, AccountRow, AccountStatus, Day, Table, UserRow};
use iamwatch_report::{generate_now, MemoryStore, Options};

const ACCOUNTS: usize = 500;
const USERS: usize = 50;
const DAYS: i64 = 90;

fn account_id(a: usize) -> String {
    format!("{:012}", 100_000_000_000 + a)
}

fn ou(a: usize) -> Vec<String> {
    vec![
        ["Workloads", "Sandbox", "Infrastructure"][a % 3].to_string(),
        format!("Team{}", a % 25),
    ]
}

fn users(a: usize, day: i64) -> Vec<UserRow> {
    // One user fewer every 10 days, and one renamed each day: a trend and a change.
    (0..USERS.saturating_sub((DAYS - day) as usize / 10))
        .map(|u| {
            let name = if u == 0 {
                format!("rotating-{day}")
            } else {
                format!("user-{u:03}")
            };
            let risky = u % 3 == 0;
            UserRow {
                account_id: account_id(a),
                account_name: Some(format!("account-{a}")),
                ou_path: ou(a),
                user: name.clone(),
                arn: format!("arn:aws:iam::{}:user/{name}", account_id(a)),
                created: Some("2023-01-01T00:00:00Z".into()),
                password_enabled: risky,
                password_last_used: None,
                mfa_active: false,
                access_keys: vec![AccessKeyRow {
                    id: Some(format!("AKIA{a:06}{u:010}")),
                    active: true,
                    last_rotated: Some("2023-01-01T00:00:00Z".into()),
                    last_used: None,
                    last_used_service: None,
                }],
                admin: false,
                admin_via: vec![],
                groups: vec!["developers".into()],
                tags: BTreeMap::from([("owner".to_string(), format!("team-{}", a % 25))]),
                owner: Some(format!("team-{}", a % 25)),
                creator: None,
                score: if risky { 60 } else { 0 },
                rules: if risky {
                    vec!["console-without-mfa".into()]
                } else {
                    vec![]
                },
                report_time: "2026-12-01T05:00:00Z".into(),
            }
        })
        .collect()
}

fn store() -> MemoryStore {
    let today: Day = "2026-12-01".parse().unwrap();
    let mut store = MemoryStore::new();
    for d in 0..DAYS {
        let day = today.plus(d - DAYS + 1);
        for a in 0..ACCOUNTS {
            let rows = users(a, d + 1);
            let account = AccountRow {
                account_id: account_id(a),
                account_name: Some(format!("account-{a}")),
                ou_path: ou(a),
                users: rows.len() as u32,
                risky_users: rows.iter().filter(|u| !u.rules.is_empty()).count() as u32,
                access_keys: rows.len() as u32,
                report_time: Some("2026-12-01T05:00:00Z".into()),
                status: AccountStatus::Ok,
                error: None,
            };
            let id = account_id(a);
            store.put(
                Table::Accounts.object_key(day, &id),
                write_jsonl_gz(&[account]),
            );
            if d >= DAYS - 2 {
                store.put(Table::Users.object_key(day, &id), write_jsonl_gz(&rows));
            }
        }
    }
    store
}

fn report(c: &mut Criterion) {
    let store = store();
    let options = Options::default();
    let mut g = c.benchmark_group("report");
    g.sample_size(10);
    g.bench_function("500_accounts_x_50_users_90_days", |b| {
        b.iter(|| {
            let report = generate_now(&store, &options).unwrap();
            assert_eq!(report.summary.accounts, ACCOUNTS);
            black_box(report.html.len())
        })
    });
    g.finish();
    if let Ok(report) = generate_now(&store, &options) {
        println!(
            "page: {} bytes; users {}; risky {}; new {}; removed {}",
            report.html.len(),
            report.summary.users,
            report.summary.risky_users,
            report.summary.new_users,
            report.summary.removed_users
        );
    }
}

criterion_group!(benches, report);
criterion_main!(benches);
