//! The `iamwatch scan` command as a user runs it: exit statuses, bad input, formats, flags.

mod common;

use common::{finding_ids, iamwatch, p, root, sample, BIN};
use flate2::{write::GzEncoder, Compression};
use std::io::Write;
use std::process::Command;

#[test]
fn bad_files_are_reported_with_their_path_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a-good.json"),
        sample("iam-user-created.json"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b-truncated.json"),
        "{\"Records\": [{\"eventSource\": \"iam",
    )
    .unwrap();
    std::fs::write(dir.path().join("c-gz.json.gz"), b"\x1f\x8bnot really gzip").unwrap();
    // A bad record inside a good file: reported with its place, its neighbours still read.
    let bad_record = format!(
        "{{\"eventSource\": \"iam.amazonaws.com\", \"eventName\": \"CreateUser\"}}\n{}\n",
        serde_json::to_string(
            &serde_json::from_str::<serde_json::Value>(&sample("access-key-created.json")).unwrap()
        )
        .unwrap()
    );
    std::fs::write(dir.path().join("d-lines.jsonl"), bad_record).unwrap();
    let (code, stdout, stderr) = iamwatch(&["scan", "--format", "jsonl", p(dir.path())]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("b-truncated.json: "), "{stderr}");
    assert!(
        stderr.contains("c-gz.json.gz: cannot decompress"),
        "{stderr}"
    );
    assert!(
        stderr.contains("d-lines.jsonl: record 1 (line 1): bad CloudTrail record"),
        "{stderr}"
    );
    let rules: Vec<String> = stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["ProductFields"]
                ["iamwatch/RuleId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(rules.len(), 2, "{stdout}");
    assert!(rules.contains(&"iam-user-created".to_string()));
    assert!(rules.contains(&"access-key-created".to_string()));
    // A path that does not exist.
    let (code, _, stderr) = iamwatch(&["scan", "no/such/file.json"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no/such/file.json"), "{stderr}");
}

#[test]
fn a_bad_line_in_json_lines_loses_only_that_line() {
    let dir = tempfile::tempdir().unwrap();
    let line = |name: &str| {
        let env: serde_json::Value = serde_json::from_str(&sample(name)).unwrap();
        env["detail"].to_string()
    };
    let truncated = &line("console-password-created.json")[..40];
    let text = format!(
        "{}\n{{}}\n\n{}\n{truncated}\n{}\nnull\n",
        line("iam-user-created.json"),
        line("access-key-created.json"),
        line("mfa-device-deactivated.json"),
    );
    std::fs::write(dir.path().join("t.jsonl"), text).unwrap();
    let (code, stdout, stderr) = iamwatch(&["scan", "--format", "csv", p(dir.path())]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stdout.lines().count(),
        4,
        "three findings survive: {stdout}"
    );
    for (n, what) in [
        (2, "empty object"),
        (5, "unexpected end of data"),
        (7, "expected a JSON object"),
    ] {
        assert!(
            stderr.contains(&format!("t.jsonl: line {n}: {what}")),
            "line {n}: {stderr}"
        );
    }
}

#[test]
fn directories_take_only_log_files_but_named_files_are_always_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(
        dir.path()
            .join("AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/02"),
    )
    .unwrap();
    let records = format!("{{\"Records\": [{}]}}", {
        let env: serde_json::Value =
            serde_json::from_str(&sample("root-access-key-created.json")).unwrap();
        env["detail"].to_string()
    });
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(records.as_bytes()).unwrap();
    std::fs::write(
        dir.path().join("AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/02/111111111111_CloudTrail_us-east-1_20261102T1200Z_abc.json.gz"),
        gz.finish().unwrap(),
    )
    .unwrap();
    std::fs::write(dir.path().join("README"), "not a log").unwrap();
    std::fs::write(dir.path().join("LICENSE"), "not a log").unwrap();
    std::fs::write(
        dir.path().join("notes.txt"),
        sample("iam-user-created.json"),
    )
    .unwrap();
    let (code, stdout, stderr) = iamwatch(&["scan", "--format", "csv", p(dir.path())]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].starts_with("id,label,score,rule,"));
    assert!(
        lines[1].contains(",CRITICAL,100,root-access-key-created,111111111111,"),
        "{stdout}"
    );
    // Named on the command line, a file with any name is read.
    let (code, stdout, _) = iamwatch(&[
        "scan",
        "--format",
        "jsonl",
        p(&dir.path().join("notes.txt")),
    ]);
    assert_eq!(code, 0);
    assert_eq!(stdout.lines().count(), 1);
    let (code, _, stderr) = iamwatch(&["scan", p(&dir.path().join("README"))]);
    assert_eq!(
        code, 2,
        "a named file that is not a log is an error: {stderr}"
    );
}

#[test]
fn fail_on_and_min_severity() {
    let (code, stdout, _) = iamwatch(&[
        "scan",
        "--format",
        "jsonl",
        "--fail-on",
        "critical",
        "events/iam-user-created.json",
    ]);
    assert_eq!(code, 0);
    assert_eq!(stdout.lines().count(), 1);
    let (code, _, _) = iamwatch(&[
        "scan",
        "--fail-on",
        "medium",
        "events/iam-user-created.json",
    ]);
    assert_eq!(code, 1, "MEDIUM finding reaches --fail-on medium");
    let (code, stdout, _) = iamwatch(&[
        "scan",
        "--format",
        "jsonl",
        "--min-severity",
        "HIGH",
        "events/",
    ]);
    assert_eq!(code, 0);
    assert!(stdout.lines().count() >= 3);
    for l in stdout.lines() {
        let label = serde_json::from_str::<serde_json::Value>(l).unwrap()["Severity"]["Label"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(label == "HIGH" || label == "CRITICAL", "{label}");
    }
    let (code, stdout, _) = iamwatch(&[
        "scan",
        "--format",
        "jsonl",
        "--min-severity",
        "critical",
        "--fail-on",
        "medium",
        "events/iam-user-created.json",
    ]);
    assert_eq!(
        (code, stdout.as_str()),
        (1, ""),
        "--fail-on sees findings --min-severity hides"
    );
    let (code, _, stderr) = iamwatch(&["scan", "--fail-on", "severe", "events/"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a severity"), "{stderr}");
}

#[test]
fn table_is_sorted_by_severity_and_summarised() {
    let (code, stdout, stderr) = iamwatch(&[
        "scan",
        "--policy",
        "examples/policy.toml",
        "--org",
        "examples/org.json",
        "events/",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("SEVERITY"));
    let scores: Vec<u32> = lines[1..]
        .iter()
        .filter(|l| !l.contains("(archived)"))
        .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{stdout}");
    assert!(stdout.contains("payments-prod (111111111111)"));
    assert!(
        stderr.contains("findings (") && stderr.contains("0 errors"),
        "{stderr}"
    );
}

#[test]
fn policy_errors_name_file_key_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("trusted_principal = []\n", "key `trusted_principal`"),
        (
            "trusted_cidrs = [\"10.0.0.0/99\"]\n",
            "key `trusted_cidrs[0]`: bad CIDR",
        ),
        (
            "trusted_principals = [\"arn:aws:iam::*:role/[ab]\"]\n",
            "key `trusted_principals[0]`: bad glob",
        ),
        (
            "ticket_min_severity = \"URGENT\"\n",
            "key `ticket_min_severity`",
        ),
        (
            "[[suppress]]\nrule = \"iam-user-created\"\n",
            "key `suppress[0].reason`",
        ),
        (
            "[[suppress]]\nrule = \"no-such-rule\"\nreason = \"x\"\n",
            "unknown rule id",
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("policy{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let (code, _, stderr) = iamwatch(&["scan", "--policy", p(&path), "events/"]);
        assert_eq!(code, 2, "{text}");
        assert!(
            stderr.contains(&format!("policy{i}.toml")) && stderr.contains(want),
            "{text} -> {stderr}"
        );
    }
}

#[test]
fn suppressed_events_are_counted_and_logged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    std::fs::write(&path, "[[suppress]]\nrule = \"iam-user-created\"\naccount = \"111111111111\"\nreason = \"vending\"\n").unwrap();
    let (code, stdout, stderr) =
        iamwatch(&["scan", "--policy", p(&path), "events/iam-user-created.json"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("No findings."));
    assert!(
        stderr.contains("suppressed: iam-user-created reporting-export in 111111111111"),
        "{stderr}"
    );
    assert!(stderr.contains("1 suppressed"), "{stderr}");
}

#[test]
fn rules_lists_event_names() {
    let (code, stdout, _) = iamwatch(&["rules", "--event-names"]);
    assert_eq!(code, 0);
    let names: Vec<String> = serde_json::from_str(&stdout).unwrap();
    assert!(names.contains(&"CreateUser".to_string()) && names.contains(&"DeleteUser".to_string()));
    let (code, stdout, _) = iamwatch(&["rules"]);
    assert_eq!(code, 0);
    for id in iamwatch_core::rules::ids() {
        assert!(stdout.contains(id));
    }
    let (_, help, _) = iamwatch(&["scan", "--help"]);
    for flag in [
        "--policy",
        "--org",
        "--format",
        "--min-severity",
        "--fail-on",
    ] {
        assert!(help.contains(flag), "--help explains {flag}");
    }
}

/// `iamwatch rules --format json` lists every rule of the catalog with what tools need, and
/// `--factors` every factor.
#[test]
fn rules_as_json() {
    let (code, stdout, _) = iamwatch(&["rules", "--format", "json"]);
    assert_eq!(code, 0);
    let rules: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    // The real-time rules, then the inventory's hygiene rules.
    assert_eq!(ids, iamwatch_core::inventory::all_rule_ids());
    let created = &rules[0];
    assert_eq!(created["id"], "iam-user-created");
    assert_eq!(created["base"], 40);
    assert_eq!(created["event_source"], "iam.amazonaws.com");
    assert_eq!(created["event_names"], serde_json::json!(["CreateUser"]));
    assert_eq!(
        created["resolving_events"],
        serde_json::json!(["DeleteUser"])
    );
    assert_eq!(created["attack"], serde_json::json!(["T1136.003"]));
    assert!(created["types"][0].as_str().unwrap().starts_with("TTPs/"));
    let denied = rules
        .iter()
        .find(|r| r["id"] == "iam-user-change-denied")
        .unwrap();
    assert!(
        denied["event_names"].as_array().unwrap().len() >= 10,
        "the denial rule watches every firing call: {denied}"
    );

    // Sign-in rules read signin.amazonaws.com; the denial rule never watches sign-ins.
    let signin = rules
        .iter()
        .find(|r| r["id"] == "console-login-without-mfa")
        .unwrap();
    assert_eq!(signin["event_source"], "signin.amazonaws.com");
    assert_eq!(signin["event_names"], serde_json::json!(["ConsoleLogin"]));
    assert!(!denied["event_names"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("ConsoleLogin")));

    let (code, stdout, _) = iamwatch(&["rules", "--factors", "--format", "json"]);
    assert_eq!(code, 0);
    let factors: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(factors.len(), iamwatch_core::score::FACTORS.len());
    assert_eq!(factors[0]["id"], "actor-root");
    assert_eq!(factors[0]["delta"], 30);
}

/// No silent drops: a malformed in-scope record is filed with what is known (stand-ins unique
/// per event) or reported on stderr naming the record, and a bad account id is an input error.
#[test]
fn malformed_in_scope_records_are_filed_or_reported() {
    let rec = |name: &str, params: serde_json::Value, id: Option<&str>, account: &str| {
        let mut v = serde_json::json!({
            "eventVersion": "1.09", "eventTime": "2026-11-01T10:00:00Z",
            "eventSource": "iam.amazonaws.com", "eventName": name,
            "userIdentity": {"type": "AssumedRole", "accountId": "111122223333",
                "arn": "arn:aws:sts::111122223333:assumed-role/ops/s1"},
            "requestParameters": params, "recipientAccountId": account
        });
        if let Some(id) = id {
            v["eventID"] = serde_json::json!(id);
        }
        v.to_string()
    };
    let lines = [
        rec(
            "AttachUserPolicy",
            serde_json::json!(null),
            Some("ev-a"),
            "111122223333",
        ),
        rec(
            "AttachUserPolicy",
            serde_json::json!(null),
            Some("ev-b"),
            "111122223333",
        ),
        rec("CreateUser", serde_json::json!(null), None, "111122223333"),
        rec(
            "DeleteUser",
            serde_json::json!(null),
            Some("ev-d"),
            "111122223333",
        ),
        rec(
            "CreateUser",
            serde_json::json!({"userName": "x"}),
            Some("ev-e"),
            "1111-2222-3333",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("malformed.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let (code, stdout, stderr) = iamwatch(&["scan", "--format", "jsonl", p(&path)]);
    assert_eq!(code, 2, "input errors: {stderr}");
    let ids = finding_ids(&stdout);
    assert_eq!(
        ids,
        [
            "iamwatch/111122223333/user-permissions-changed/unknown-user-ev-a/policy:unknown-policy-ev-a",
            "iamwatch/111122223333/user-permissions-changed/unknown-user-ev-b/policy:unknown-policy-ev-b",
        ],
        "two unrelated malformed events, two subjects"
    );
    for (line, what) in [
        (3, "CreateUser (no eventID) at 2026-11-01T10:00:00Z (iam.amazonaws.com) names no subject"),
        (4, "DeleteUser ev-d at 2026-11-01T10:00:00Z (iam.amazonaws.com) does not name what it ends"),
        (5, "bad recipientAccountId \"1111-2222-3333\": not a 12-digit account id"),
    ] {
        let want = format!("malformed.jsonl: record 1 (line {line}): {what}");
        assert!(stderr.contains(&want), "{want}\n{stderr}");
    }
}

/// The progress bar shows on stderr when it is a terminal (run under a pseudo-terminal with
/// util-linux `script`), and never in a pipe.
#[test]
fn progress_bar_only_on_a_terminal() {
    let (_, _, stderr) = iamwatch(&["scan", "--format", "jsonl", "events/"]);
    assert!(!stderr.contains("files"), "no progress in a pipe: {stderr}");
    if Command::new("script").arg("--version").output().is_err() {
        panic!("util-linux `script` is needed for this test (apt-get install bsdutils)");
    }
    let cmd = format!("{BIN} scan --format jsonl events/ >/dev/null");
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(root())
        .output()
        .unwrap();
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(tty.contains("files"), "progress bar on a terminal: {tty}");
    assert!(tty.contains("findings ("), "summary on a terminal: {tty}");
}

#[test]
fn ocsf_prints_one_detection_finding_per_finding() {
    let (code, jsonl, stderr) = iamwatch(&["scan", "--format", "jsonl", "events/"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, ocsf, stderr) = iamwatch(&["scan", "--format", "ocsf", "events/"]);
    assert_eq!(code, 0, "{stderr}");
    let asff: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ocsf: Vec<serde_json::Value> = ocsf
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!ocsf.is_empty());
    assert_eq!(ocsf.len(), asff.len(), "one OCSF finding per finding");
    let mut archived = 0;
    for (a, o) in asff.iter().zip(&ocsf) {
        assert_eq!(o["class_uid"], 2004, "{o}");
        assert_eq!(o["category_uid"], 2, "{o}");
        assert_eq!(o["finding_info"]["uid"], a["Id"], "same ids, same order");
        assert_eq!(o["cloud"]["account"]["uid"], a["AwsAccountId"]);
        let (activity, status) = match a["RecordState"].as_str().unwrap() {
            "ACTIVE" => (1, 1),
            "ARCHIVED" => {
                archived += 1;
                (3, 4)
            }
            other => panic!("{other}"),
        };
        assert_eq!(o["activity_id"], activity, "{o}");
        assert_eq!(o["type_uid"], 200400 + activity, "{o}");
        assert_eq!(o["status_id"], status, "{o}");
        assert_eq!(
            o["risk_score"].as_u64().unwrap().to_string(),
            a["Severity"]["Original"].as_str().unwrap()
        );
    }
    assert!(
        archived > 0,
        "events/ has archived findings, closed in OCSF"
    );
}
