//! The report opened in a real headless browser (Debian's `chromium`): the DOM Chromium builds from
//! the page has one trend point per day, the expected table rows, no script, and the hostile
//! names as text; a screenshot is taken (kept at `docs/inventory-report.png` with
//! `UPDATE_SCREENSHOT=1`).
//!
//! Chromium is required: `scripts/test-all.sh` installs it (`apt-get install -y chromium`). Without
//! it this test fails and says so; `CHROMIUM=/path/to/chromium` picks another binary.

mod fixture;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use iamwatch_report::{generate_folder, Options};
use scraper::{Html, Selector};

/// The browser binary: `$CHROMIUM`, else `chromium` on the PATH.
fn chromium() -> PathBuf {
    let found = match std::env::var_os("CHROMIUM") {
        Some(path) => Some(PathBuf::from(path)).filter(|p| p.is_file()),
        None => std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("chromium"))
                .find(|p| p.is_file())
        }),
    };
    found.unwrap_or_else(|| {
        panic!(
            "chromium is not installed (or $CHROMIUM names no file): the inventory report's \
             browser test needs Debian's chromium; run `apt-get install -y chromium`, as \
             scripts/test-all.sh does, or set CHROMIUM=/path/to/chromium"
        )
    })
}

/// Runs headless Chromium with `args` and returns its stdout; fails the test on a non-zero exit
/// or after two minutes.
fn run_chromium(profile: &Path, args: &[String]) -> String {
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).map(|_| s)
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).map(|_| s)
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = out.join().unwrap().unwrap_or_default();
    let err = err.join().unwrap().unwrap_or_default();
    assert!(
        status.success(),
        "chromium {args:?} failed ({status}):\n{err}"
    );
    out
}

fn select<'a>(dom: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    dom.select(&Selector::parse(css).unwrap()).collect()
}

fn text(e: &scraper::ElementRef) -> String {
    e.text().collect::<String>().trim().to_string()
}

/// The texts of the cells of each body row of a table.
fn rows(dom: &Html, table: &str) -> Vec<Vec<String>> {
    select(dom, &format!("{table} tbody tr"))
        .iter()
        .map(|tr| {
            tr.select(&Selector::parse("td").unwrap())
                .map(|td| text(&td))
                .collect()
        })
        .collect()
}

#[test]
fn report_renders_in_headless_chromium_with_its_chart_and_tables() {
    let dir = tempfile::tempdir().unwrap();
    fixture::write(dir.path());
    let options = Options {
        // By path, by id (known from Organizations), and an id that matches no OU.
        guardrail_ous: iamwatch_report::parse_list(" Security, ou-abcd-22222222 ,ou-abcd-11111111"),
        ou_ids: BTreeMap::from([(
            "ou-abcd-22222222".to_string(),
            vec!["Workloads".to_string(), "Dev".to_string()],
        )]),
        coverage_gaps: Some(BTreeMap::from([(
            "111111111111".to_string(),
            vec![fixture::HOSTILE_USER.to_string()],
        )])),
        ..Options::default()
    };
    let (report, [_, latest]) = generate_folder(dir.path(), &options).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let url = format!("file://{}", latest.display());
    let profile = dir.path().join("chromium-profile");

    let dom = run_chromium(&profile, &["--dump-dom".to_string(), url.clone()]);
    let dom = Html::parse_document(&dom);

    // No script anywhere: the hostile tag value and user name are text.
    assert!(
        select(&dom, "script").is_empty(),
        "a <script> element is in the DOM"
    );
    assert!(
        select(&dom, "img").is_empty(),
        "an <img> element is in the DOM"
    );
    let body = text(&select(&dom, "body")[0]);
    assert!(
        body.contains(fixture::SCRIPT_TAG),
        "the tag value is not shown as text"
    );
    assert!(
        body.contains(fixture::HOSTILE_USER),
        "the user name is not shown as text"
    );

    // The trend: an inline SVG with one point per day found, and its table.
    let svg = select(&dom, "figure#trend svg");
    assert_eq!(svg.len(), 1, "one inline SVG chart");
    assert_eq!(
        select(&dom, "figure#trend svg circle").len(),
        fixture::DAYS.len(),
        "one point per day"
    );
    let trend = rows(&dom, "#trend-table");
    let days: Vec<&str> = trend.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(days, fixture::DAYS);
    let counts: Vec<&str> = trend.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(counts, ["7", "6", "5", "3"]);
    assert_eq!(trend[3][3], "1", "one sweep failed on the last day");
    assert_eq!(text(&select(&dom, "#total-users")[0]), "3");

    // Today's change.
    let new = rows(&dom, "#new-users");
    assert_eq!(new.len(), 1);
    assert_eq!(new[0][1], fixture::HOSTILE_USER);
    let removed: Vec<String> = rows(&dom, "#removed-users")
        .iter()
        .map(|r| r[1].clone())
        .collect();
    assert_eq!(removed, ["old-admin", "dev-bot"], "by account, then name");
    assert!(text(&select(&dom, "#not-compared")[0]).starts_with("Not compared"));

    // Risky users by score, with the rule and its runbook link.
    let risky = rows(&dom, "#risky-users");
    let risky_users: Vec<(&str, &str)> = risky
        .iter()
        .map(|r| (r[0].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        risky_users,
        [
            ("60", format!("{} admin", fixture::HOSTILE_USER).as_str()),
            ("50", "ci-deploy")
        ]
    );
    let title = iamwatch_core::inventory::rules::by_id("console-without-mfa")
        .unwrap()
        .title;
    assert!(
        risky[0][4].starts_with(&format!("console-without-mfa {title}")),
        "{:?}",
        risky[0]
    );
    let links: Vec<&str> = select(&dom, "#risky-users a")
        .iter()
        .filter_map(|a| a.value().attr("href"))
        .collect();
    assert_eq!(
        links,
        [
            "runbooks/console-without-mfa.md",
            "runbooks/access-key-unused.md"
        ]
    );

    // Accounts: one row each, the failed one with its error.
    let accounts = rows(&dom, "#accounts");
    let ids: Vec<&str> = accounts.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        ids,
        [
            "111111111111",
            "222222222222",
            "333333333333",
            "444444444444"
        ]
    );
    assert_eq!(accounts[0][3], "3");
    assert_eq!(accounts[0][7], "1", "the coverage gap of the account");
    assert!(
        accounts[2][6].starts_with("error AssumeRole"),
        "{:?}",
        accounts[2]
    );

    // OUs: the tree rolled up, which are at zero, which have the guardrail.
    let ous: Vec<(String, String, String, String)> = rows(&dom, "#ous")
        .into_iter()
        .map(|r| (r[0].clone(), r[2].clone(), r[6].clone(), r[7].clone()))
        .collect();
    let expect = |ou: &str, users: &str, zero: &str, guard: &str| {
        (
            ou.to_string(),
            users.to_string(),
            zero.to_string(),
            guard.to_string(),
        )
    };
    assert_eq!(
        ous,
        [
            expect("Root", "3", "no", "none"),
            expect("Sandbox", "0", "unknown (a sweep failed)", "none"),
            expect("Security", "0", "yes", "attached"),
            expect("Workloads", "3", "no", "none"),
            expect("Dev", "0", "yes", "attached"),
            expect("Prod", "3", "no", "none"),
        ]
    );
    let zero = text(&select(&dom, "#zero-ous")[0]);
    assert!(
        zero.starts_with("At zero: Security, Workloads/Dev."),
        "{zero}"
    );
    assert!(
        zero.contains("Guardrail SCP: Security, Workloads/Dev."),
        "{zero}"
    );
    assert!(body.contains("match no OU of the swept accounts: ou-abcd-11111111"));

    // The coverage line.
    let coverage = text(&select(&dom, "#coverage")[0]);
    assert_eq!(
        coverage,
        "1 user in 1 account found by the daily sweep with no real-time finding: the live path missed it."
    );

    // A screenshot, as a reader sees the page.
    let shot = dir.path().join("inventory-report.png");
    run_chromium(
        &profile,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400".to_string(),
            url,
        ],
    );
    let png = std::fs::read(&shot).expect("chromium wrote no screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 2400));
    let kept = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/inventory-report.png");
    if std::env::var_os("UPDATE_SCREENSHOT").is_some() {
        std::fs::write(&kept, &png).unwrap();
    }
    assert!(
        std::fs::read(&kept).is_ok_and(|p| p.starts_with(b"\x89PNG")),
        "docs/inventory-report.png is missing: run UPDATE_SCREENSHOT=1 cargo test -p iamwatch-report --test browser"
    );
}
