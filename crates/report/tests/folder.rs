//! The report of a folder root: read every day found, written as `index.html` and `latest.html`,
//! bad objects and lines named on the page and the rest read.

mod fixture;

use iamwatch_report::{generate_folder, Day, Options, ReportError};

#[test]
fn writes_the_dated_page_and_latest_from_every_day_found() {
    let dir = tempfile::tempdir().unwrap();
    fixture::write(dir.path());
    let (report, [dated, latest]) = generate_folder(dir.path(), &Options::default()).unwrap();
    assert_eq!(report.day, "2026-12-01".parse::<Day>().unwrap());
    assert_eq!(
        dated,
        dir.path()
            .join("inventory/v1/report/dt=2026-12-01/index.html")
    );
    assert_eq!(latest, dir.path().join("inventory/v1/report/latest.html"));
    assert_eq!(std::fs::read_to_string(&dated).unwrap(), report.html);
    assert_eq!(std::fs::read_to_string(&latest).unwrap(), report.html);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let s = &report.summary;
    assert_eq!(s.users, 3);
    assert_eq!(s.previous, Some(("2026-11-30".parse().unwrap(), 5)));
    assert_eq!((s.accounts, s.accounts_failed), (4, 1));
    // New: the hostile user; removed: old-admin and dev-bot (the sandbox account is not compared).
    assert_eq!((s.new_users, s.removed_users), (1, 2));
    assert_eq!(s.risky_users, 2);

    // An earlier day on request: its own page, compared with the day before it.
    let options = Options {
        day: Some("2026-11-28".parse().unwrap()),
        ..Options::default()
    };
    let (report, [dated, _]) = generate_folder(dir.path(), &options).unwrap();
    assert!(dated.ends_with("report/dt=2026-11-28/index.html"));
    assert_eq!(report.summary.users, 6);
    assert_eq!(
        report.summary.previous,
        Some(("2026-11-27".parse().unwrap(), 7))
    );
    assert_eq!(report.summary.removed_users, 1);
}

#[test]
fn bad_objects_lines_and_partitions_are_named_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    fixture::write(dir.path());
    let root = dir.path();
    fixture::put(
        root,
        "inventory/v1/users/dt=2026-12-01/555555555555.json.gz",
        b"\x1f\x8b not really gzip",
    );
    fixture::put(
        root,
        "inventory/v1/accounts/dt=2026-12-01/666666666666.jsonl",
        b"{\"account_id\": \"666666666666\"}\n",
    );
    std::fs::create_dir_all(root.join("inventory/v1/accounts/dt=yesterday")).unwrap();
    let (report, _) = generate_folder(root, &Options::default()).unwrap();
    assert_eq!(report.problems.len(), 3, "{:#?}", report.problems);
    assert!(report.problems[0].starts_with("accounts/dt=yesterday: not a dt=YYYY-MM-DD partition"));
    assert!(report.problems[1].contains("666666666666.jsonl line 1: missing field"));
    assert!(report.problems[2].contains("555555555555.json.gz: not readable as gzip"));
    for p in &report.problems {
        assert!(
            report.html.contains(p.split(':').next().unwrap()),
            "{p} not on the page"
        );
    }
    // The rest is read: the same figures as without the bad objects.
    assert_eq!(report.summary.users, 3);
    assert_eq!(report.summary.accounts, 4);
}

#[test]
fn an_empty_root_or_a_missing_day_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = generate_folder(dir.path(), &Options::default()).unwrap_err();
    assert!(matches!(err, ReportError::NoDays));
    assert!(
        err.to_string()
            .contains("inventory/v1/{users,accounts}/dt=YYYY-MM-DD/"),
        "{err}"
    );
    fixture::write(dir.path());
    let options = Options {
        day: Some("2026-11-29".parse().unwrap()),
        ..Options::default()
    };
    let err = generate_folder(dir.path(), &options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no users or accounts table for 2026-11-29 under the inventory root"
    );
}
