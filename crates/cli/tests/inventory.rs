//! `iamwatch inventory check`: each sample credential report in `events/inventory/` checked
//! with the example policy and org snapshot as of 2026-12-01 gives exactly the findings in
//! `events/expected/inventory-<name>.asff`, compared whole; bad rows are named by file and
//! line; output formats, severities and exit statuses are those of `scan`.
//! `UPDATE_GOLDEN=1 cargo test -p iamwatch-cli --test inventory` rewrites the expected files
//! (review the diff before committing).

mod common;

use common::{assert_golden, finding_ids, iamwatch, root};
use serde_json::Value;

/// `inventory check` of one sample with the example policy and org, as of 2026-12-01.
fn check(name: &str, format: &str) -> (i32, String, String) {
    iamwatch(&[
        "inventory",
        "check",
        "--policy",
        "examples/policy.toml",
        "--org",
        "examples/org.json",
        "--as-of",
        "2026-12-01",
        "--format",
        format,
        &format!("events/inventory/{name}.csv"),
    ])
}

/// `inventory check --as-of <as_of> --format jsonl args...`, without the example policy and org.
fn check_jsonl(as_of: &str, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["inventory", "check", "--as-of", as_of, "--format", "jsonl"];
    all.extend_from_slice(args);
    iamwatch(&all)
}

fn check_golden(name: &str, want_code: i32) -> Value {
    let (code, stdout, stderr) = check(name, "asff");
    assert_eq!(code, want_code, "{name}: {stderr}");
    let got: Value = serde_json::from_str(&stdout).expect("asff output is JSON");
    assert_golden(&got, &format!("inventory-{name}"), name);
    got
}

fn hygiene_ids() -> Vec<&'static str> {
    iamwatch_core::inventory::rules::ids()
}

#[test]
fn every_hygiene_rule_sample_gives_its_golden_findings_and_runbook() {
    let mut missing_runbooks = Vec::new();
    for id in hygiene_ids() {
        let got = check_golden(id, 0);
        let findings = got["Findings"].as_array().unwrap();
        assert!(!findings.is_empty(), "{id}: its sample fires it");
        for f in findings {
            assert_eq!(
                f["GeneratorId"],
                format!("iamwatch/{id}"),
                "{id}: only this rule"
            );
            assert_eq!(f["ProductFields"]["iamwatch/RuleId"], id);
            let fid = f["Id"].as_str().unwrap();
            let account = f["AwsAccountId"].as_str().unwrap();
            assert!(
                fid.starts_with(&format!("iamwatch/{account}/{id}/")),
                "{fid}"
            );
            assert_eq!(f["CreatedAt"], "2026-12-01T00:00:00.000Z", "--as-of");
            let description = f["Description"].as_str().unwrap();
            assert!(
                description.ends_with(&format!(
                    "Runbook: runbooks/{id}.md (no runbook base URL is set)"
                )),
                "{description}"
            );
        }
        if !root().join(format!("runbooks/{id}.md")).is_file() {
            missing_runbooks.push(format!("runbooks/{id}.md"));
        }
    }
    assert!(missing_runbooks.is_empty(), "missing: {missing_runbooks:?}");
}

#[test]
fn the_healthy_account_fires_nothing() {
    let got = check_golden("healthy", 0);
    assert_eq!(got["Findings"], serde_json::json!([]));
    let (code, stdout, stderr) = check("healthy", "table");
    assert_eq!((code, stdout.as_str()), (0, "No findings.\n"));
    assert!(
        stderr.contains("0 findings from 4 IAM users in 1 credential report as of 2026-12-01"),
        "{stderr}"
    );
}

#[test]
fn a_malformed_report_names_its_bad_rows_and_reads_the_rest() {
    let got = check_golden("malformed", 2);
    let ids: Vec<&str> = got["Findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["Id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["iamwatch/333333333333/console-without-mfa/gina"]);
    let (_, _, stderr) = check("malformed", "jsonl");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "events/inventory/malformed.csv:3: column password_enabled: \"maybe\" is not true or false",
            "events/inventory/malformed.csv:4: 4 fields, the header has 22",
            "events/inventory/malformed.csv:5: column access_key_1_last_rotated: \"yesterday\" is not an ISO 8601 time, N/A, no_information or not_supported",
        ]
    );
}

#[test]
fn findings_of_one_instant_are_stable_and_ages_follow_as_of() {
    // On 2026-11-28, the key last used on 2026-08-15 is unused, and the one never used since
    // its creation on 2026-11-20 is 8 days old: past grace_days = 7.
    let (code, stdout, stderr) =
        check_jsonl("2026-11-28", &["events/inventory/access-key-unused.csv"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 2);
    // On 2026-11-25 the never-used key is 5 days old: within its grace.
    let (_, stdout, _) = check_jsonl("2026-11-25", &["events/inventory/access-key-unused.csv"]);
    let ids = finding_ids(&stdout);
    assert_eq!(
        ids,
        ["iamwatch/333333333333/access-key-unused/legacy-backup/1"]
    );
    // The policy's thresholds apply.
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.toml");
    std::fs::write(&policy, "[inventory]\nunused_days = 200\ngrace_days = 30\n").unwrap();
    let (code, stdout, stderr) = check_jsonl(
        "2026-12-01",
        &[
            "--policy",
            policy.to_str().unwrap(),
            "events/inventory/access-key-unused.csv",
        ],
    );
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
}

#[test]
fn formats_severities_and_exit_statuses_are_those_of_scan() {
    let (code, stdout, _) = check("root-access-key-present", "csv");
    assert_eq!(code, 0);
    let mut lines = stdout.lines();
    assert!(lines.next().unwrap().starts_with("id,label,score,rule,"));
    assert!(lines
        .next()
        .unwrap()
        .starts_with("iamwatch/333333333333/root-access-key-present/root,CRITICAL,90,"));
    let (code, stdout, stderr) = check("access-key-unused", "ocsf");
    assert_eq!(code, 0, "{stderr}");
    for l in stdout.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["class_uid"], 2004, "{v}");
    }
    assert_eq!(stdout.lines().count(), 2);
    let (code, stdout, _) = check("access-key-unused", "table");
    assert_eq!(code, 0);
    assert!(stdout.contains("legacy-backup key 1") && stdout.contains("legacy-backup key 2"));

    // --fail-on sees what --min-severity hides; a bad level is a usage error.
    let run = |extra: &[&str]| {
        let mut args = extra.to_vec();
        args.push("events/inventory/root-access-key-present.csv");
        check_jsonl("2026-12-01", &args)
    };
    assert_eq!(run(&["--fail-on", "critical"]).0, 1);
    assert_eq!(
        run(&["--fail-on", "critical", "--min-severity", "critical"])
            .1
            .lines()
            .count(),
        1
    );
    let (code, stdout, _) = run(&["--min-severity", "CRITICAL"]);
    assert_eq!((code, stdout.lines().count()), (0, 1));
    let (code, stdout, _) = check_jsonl(
        "2026-12-01",
        &[
            "--min-severity",
            "critical",
            "--fail-on",
            "medium",
            "events/inventory/console-without-mfa.csv",
        ],
    );
    assert_eq!((code, stdout.as_str()), (1, ""));
    let (code, _, stderr) = run(&["--fail-on", "severe"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a severity"), "{stderr}");
    let (code, _, stderr) = iamwatch(&[
        "inventory",
        "check",
        "--as-of",
        "2026-02-30",
        "events/inventory/healthy.csv",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("`2026-02-30` is not a date in the form YYYY-MM-DD"),
        "{stderr}"
    );
}

#[test]
fn bad_inputs_are_named_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.csv"), "name,value\na,b\n").unwrap();
    std::fs::write(dir.path().join("README.md"), "not read: not a .csv").unwrap();
    std::fs::copy(
        root().join("events/inventory/console-without-mfa.csv"),
        dir.path().join("111111111111.csv"),
    )
    .unwrap();
    let missing = dir.path().join("missing.csv");
    let (code, stdout, stderr) = check_jsonl(
        "2026-12-01",
        &[dir.path().to_str().unwrap(), missing.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "the good report is read");
    assert!(
        stderr.contains("notes.csv: not a credential report: the header lacks columns user,"),
        "{stderr}"
    );
    assert!(stderr.contains("missing.csv: cannot read:"), "{stderr}");
    assert!(!stderr.contains("README"), "{stderr}");

    // A report over --max-file-size is an error for that file only.
    let (code, stdout, stderr) = check_jsonl(
        "2026-12-01",
        &[
            "--max-file-size",
            "1KiB",
            "events/inventory/console-password-unused.csv",
            "events/inventory/console-without-mfa.csv",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "the small report is read");
    assert!(
        stderr.contains("console-password-unused.csv: cannot read: larger than 1 KiB, the limit on a file (--max-file-size)"),
        "{stderr}"
    );

    // A bad policy is an error naming the file and key, before any report is read.
    let policy = dir.path().join("bad.toml");
    std::fs::write(&policy, "[inventory]\nunused_days = \"ninety\"\n").unwrap();
    let (code, stdout, stderr) = iamwatch(&[
        "inventory",
        "check",
        "--policy",
        policy.to_str().unwrap(),
        "events/inventory/healthy.csv",
    ]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(
        stderr.contains("key `inventory.unused_days`: expected a number of days"),
        "{stderr}"
    );
}

/// Suppressions name hygiene rule ids as they name real-time ones; what they drop is said.
#[test]
fn suppressions_apply_to_hygiene_rules() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.toml");
    std::fs::write(
        &policy,
        "[[suppress]]\nrule = \"console-password-unused\"\nuser = \"carol\"\nreason = \"On leave until January\"\n",
    )
    .unwrap();
    let (code, stdout, stderr) = check_jsonl(
        "2026-12-01",
        &[
            "--policy",
            policy.to_str().unwrap(),
            "events/inventory/console-password-unused.csv",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.contains("console-password-unused/bob"));
    assert!(
        stderr.contains(
            "suppressed console-password-unused carol in 111111111111: On leave until January"
        ),
        "{stderr}"
    );
}

/// Hygiene rules are in the catalog beside the real-time ones, with the same ids as their
/// files, samples and runbooks, and forward no CloudTrail call.
#[test]
fn the_catalog_lists_hygiene_rules() {
    let (code, stdout, _) = iamwatch(&["rules", "--format", "json"]);
    assert_eq!(code, 0);
    let rules: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let inventory: Vec<&Value> = rules.iter().filter(|r| r["kind"] == "inventory").collect();
    let ids: Vec<&str> = inventory
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, hygiene_ids());
    for r in inventory {
        assert_eq!(r["event_names"], serde_json::json!([]));
        assert_eq!(r["resolving_events"], serde_json::json!([]));
        assert!(root()
            .join(format!(
                "events/inventory/{}.csv",
                r["id"].as_str().unwrap()
            ))
            .is_file());
    }
    assert_eq!(
        rules.iter().filter(|r| r["kind"] == "event").count(),
        iamwatch_core::rules::ids().len()
    );
}

/// Two reports of one account making the same finding (two downloads of one report) list it
/// once, from the first file, and say so.
#[test]
fn a_finding_made_twice_is_listed_once() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.csv", "b.csv"] {
        std::fs::copy(
            root().join("events/inventory/console-without-mfa.csv"),
            dir.path().join(name),
        )
        .unwrap();
    }
    let (code, stdout, stderr) = check_jsonl("2026-12-01", &[dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 1);
    assert!(
        stderr.contains(
            "b.csv: finding iamwatch/111111111111/console-without-mfa/alice is also made by "
        ) && stderr.contains("a.csv: listed once, from that file"),
        "{stderr}"
    );
}
