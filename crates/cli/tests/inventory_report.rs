//! `iamwatch inventory report --root DIR`: the HTML page of a folder root written where the sweep
//! writes it, its figures printed, unreadable objects named with exit status 2.

mod common;

use common::iamwatch;
use iamwatch_core::inventory::table::write_jsonl_gz;
use iamwatch_core::inventory::{AccountRow, AccountStatus, Day, Table, UserRow};
use std::path::Path;

fn user(name: &str, rules: &[&str]) -> UserRow {
    serde_json::from_value(serde_json::json!({
        "account_id": "111111111111", "account_name": "prod", "ou_path": ["Workloads"],
        "user": name, "arn": format!("arn:aws:iam::111111111111:user/{name}"),
        "created": "2024-01-01T00:00:00Z", "password_enabled": true, "password_last_used": null,
        "mfa_active": false, "access_keys": [], "admin": false, "admin_via": [], "groups": [],
        "tags": {}, "owner": null, "creator": null, "score": if rules.is_empty() { 0 } else { 60 },
        "rules": rules, "report_time": "2026-12-01T05:00:00Z"
    }))
    .unwrap()
}

fn write_day(root: &Path, day: &str, users: &[UserRow]) {
    let day: Day = day.parse().unwrap();
    let account = AccountRow {
        account_id: "111111111111".into(),
        account_name: Some("prod".into()),
        ou_path: vec!["Workloads".into()],
        users: users.len() as u32,
        risky_users: users.iter().filter(|u| !u.rules.is_empty()).count() as u32,
        access_keys: 0,
        report_time: Some("2026-12-01T05:00:00Z".into()),
        status: AccountStatus::Ok,
        error: None,
    };
    for (table, bytes) in [
        (Table::Users, write_jsonl_gz(users)),
        (Table::Accounts, write_jsonl_gz(&[account])),
    ] {
        let path = root.join(table.object_key(day, "111111111111"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

#[test]
fn report_of_a_folder_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_day(root, "2026-11-30", &[user("alice", &[]), user("bob", &[])]);
    write_day(
        root,
        "2026-12-01",
        &[user("alice", &["console-without-mfa"])],
    );
    let root_arg = root.to_str().unwrap();
    let (code, out, err) = iamwatch(&["inventory", "report", "--root", root_arg]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "IAM users on 2026-12-01: 2 -> 1 (-1) since 2026-11-30 in 1 accounts (0 not swept); 1 risky; 0 new, 1 removed"
    );
    let dated = root.join("inventory/v1/report/dt=2026-12-01/index.html");
    let latest = root.join("inventory/v1/report/latest.html");
    assert_eq!(
        lines[1..],
        [dated.to_str().unwrap(), latest.to_str().unwrap()]
    );
    let html = std::fs::read_to_string(&latest).unwrap();
    assert!(html.contains(r#"<a href="runbooks/console-without-mfa.md">runbook</a>"#));

    // An earlier day, runbooks under a base URL, a guardrail OU.
    let (code, out, err) = iamwatch(&[
        "inventory",
        "report",
        "--root",
        root_arg,
        "--day",
        "2026-11-30",
        "--runbook-base-url",
        "https://wiki.example/rb",
        "--guardrail-ous",
        "Workloads",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("IAM users on 2026-11-30: 2 in 1 accounts"),
        "{out}"
    );
    let html =
        std::fs::read_to_string(root.join("inventory/v1/report/dt=2026-11-30/index.html")).unwrap();
    assert!(html.contains("Guardrail SCP: <b>Workloads</b>"));

    // A bad object: named on stderr, the rest reported, exit status 2.
    let bad = root.join("inventory/v1/users/dt=2026-12-01/222222222222.json.gz");
    std::fs::write(&bad, b"\x1f\x8b broken").unwrap();
    let (code, _, err) = iamwatch(&["inventory", "report", "--root", root_arg]);
    assert_eq!(code, 2);
    assert!(
        err.contains("222222222222.json.gz: not readable as gzip"),
        "{err}"
    );

    // No tables: a clear error.
    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) = iamwatch(&[
        "inventory",
        "report",
        "--root",
        empty.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no day of the users or accounts table under the inventory root"),
        "{err}"
    );
}
