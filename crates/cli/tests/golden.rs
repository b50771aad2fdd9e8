//! Golden tests: each sample event in `events/` scanned with the example policy and org
//! snapshot gives exactly the finding in `events/expected/`, compared whole.
//! `UPDATE_GOLDEN=1 cargo test -p iamwatch-cli --test golden` rewrites the expected files
//! (review the diff before committing).

mod common;

use common::{assert_golden, iamwatch, root, scan, scan_asff};
use serde_json::Value;

fn check_golden(input: &str, name: &str) -> Value {
    let got = scan_asff(input);
    assert_golden(&got, name, input);
    got
}

#[test]
fn every_rule_sample_gives_its_golden_finding_and_runbook() {
    for id in iamwatch_core::rules::ids() {
        let got = check_golden(&format!("events/{id}.json"), id);
        let findings = got["Findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1, "{id}: one finding");
        let f = &findings[0];
        assert_eq!(f["GeneratorId"], format!("iamwatch/{id}"));
        assert_eq!(f["ProductFields"]["iamwatch/RuleId"], id);
        // No runbook base URL given: no link is made up; the finding names the runbook's path
        // in the project, and that runbook exists.
        assert!(
            f["Remediation"]["Recommendation"].get("Url").is_none(),
            "{f}"
        );
        let description = f["Description"].as_str().unwrap();
        assert!(
            description.ends_with(&format!(
                "Runbook: runbooks/{id}.md (no runbook base URL is set)"
            )),
            "{description}"
        );
        assert!(
            root().join(format!("runbooks/{id}.md")).is_file(),
            "runbooks/{id}.md is missing"
        );
    }
}

#[test]
fn lifecycle_sequence_archives_what_was_deleted() {
    let got = check_golden("events/sequences/user-lifecycle.jsonl", "user-lifecycle");
    let states: Vec<(String, String)> = got["Findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["ProductFields"]["iamwatch/RuleId"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                f["RecordState"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("iam-user-created", "ARCHIVED"),
        ("access-key-created-for-other-user", "ARCHIVED"),
        ("user-permissions-changed", "ARCHIVED"),
        ("iam-user-created", "ACTIVE"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(states, want);
}

/// Roles, providers and groups: the grant detached, the provider deleted and the role deleted
/// archive their findings; the group's grant stays active.
#[test]
fn role_lifecycle_sequence_archives_what_was_removed() {
    let got = check_golden("events/sequences/role-lifecycle.jsonl", "role-lifecycle");
    let states: Vec<(String, String, String)> = got["Findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |v: &Value| v.as_str().unwrap().to_string();
            (
                s(&f["ProductFields"]["iamwatch/RuleId"]),
                s(&f["RecordState"]),
                s(&f["Severity"]["Original"]),
            )
        })
        .collect();
    let want = [
        // "*" narrowed by sts:ExternalId: base 70; in the sandbox OU -15, outside IP +10.
        ("role-trust-opened", "ARCHIVED", "65"),
        ("admin-access-granted-to-role", "ARCHIVED", "45"),
        ("identity-provider-changed", "ARCHIVED", "55"),
        ("admin-access-granted-to-group", "ACTIVE", "65"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(states, want);
}

#[test]
fn negative_samples_make_no_finding() {
    // With the org snapshot: a role trusting an account of the organization is no finding.
    let (code, stdout, stderr) = scan(&[
        "--org",
        "examples/org.json",
        "--format",
        "jsonl",
        "events/negative",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "", "no finding expected");
    assert!(stderr.is_empty() || !stderr.contains("error"), "{stderr}");
}

/// A renamed user's findings follow it: each one of the old name is archived (resolved by the
/// UpdateUser) and re-filed under the new name, where a later DeleteUser of the new name ends
/// it. The records are out of order in the file on purpose.
#[test]
fn rename_sequence_refiles_and_the_new_name_ends() {
    let got = check_golden("events/sequences/user-rename.jsonl", "user-rename");
    let rows: Vec<(String, String, String, String)> = got["Findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let field = |k: &str| f["ProductFields"][k].as_str().unwrap_or("-").to_string();
            (
                f["Id"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("iamwatch/333333333333/")
                    .to_string(),
                f["RecordState"].as_str().unwrap().to_string(),
                field("iamwatch/User"),
                field("iamwatch/ResolvedBy")
                    .split(' ')
                    .next()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    let admin = "policy:arn:aws:iam::aws:policy/AdministratorAccess";
    let want = [
        (
            "iam-user-created/contractor-jo".to_string(),
            "ARCHIVED",
            "contractor-jo",
            "UpdateUser",
        ),
        (
            "access-key-created-for-other-user/AKIAEXAMPLECONTRJO01".to_string(),
            "ARCHIVED",
            "svc-audit",
            "DeleteUser",
        ),
        (
            format!("admin-access-granted-to-user/contractor-jo/{admin}"),
            "ARCHIVED",
            "contractor-jo",
            "UpdateUser",
        ),
        (
            "iam-user-renamed/contractor-jo".to_string(),
            "ARCHIVED",
            "svc-audit",
            "DeleteUser",
        ),
        (
            "iam-user-created/svc-audit".to_string(),
            "ARCHIVED",
            "svc-audit",
            "DeleteUser",
        ),
        (
            format!("admin-access-granted-to-user/svc-audit/{admin}"),
            "ARCHIVED",
            "svc-audit",
            "DeleteUser",
        ),
    ];
    let want: Vec<(String, String, String, String)> = want
        .into_iter()
        .map(|(a, b, c, d)| (a, b.to_string(), c.to_string(), d.to_string()))
        .collect();
    assert_eq!(rows, want);
}

/// `--org` tells the rules the organization's accounts: a role trusting an account of the
/// organization is no finding with the snapshot, and an outside account's trust without it.
#[test]
fn org_snapshot_tells_inside_accounts_from_outside_ones() {
    let sample = "events/negative/role-trust-to-organization-account.json";
    let (code, stdout, stderr) = scan(&["--org", "examples/org.json", "--format", "jsonl", sample]);
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    let (code, stdout, stderr) = scan(&["--format", "jsonl", sample]);
    assert_eq!(code, 0, "{stderr}");
    let f: Value = serde_json::from_str(stdout.trim()).expect("one finding");
    assert_eq!(f["ProductFields"]["iamwatch/RuleId"], "role-trust-opened");
    assert!(
        f["Description"]
            .as_str()
            .unwrap()
            .contains("account 333333333333 (not the role's own account)"),
        "{f}"
    );
}

/// The real Stratus Red Team detonation logs: exactly these ten findings (the backdoored and
/// the created role trust an outside account, the created role is given admin, the console
/// login without MFA), nothing from the non-IAM records.
#[test]
fn stratus_red_team_captures() {
    let (code, stdout, stderr) = scan(&["--format", "jsonl", "events/real/stratus-red-team"]);
    assert_eq!(code, 0, "{stderr}");
    let mut got: Vec<(String, String, u64)> = stdout
        .lines()
        .map(|l| {
            let f: Value = serde_json::from_str(l).unwrap();
            (
                f["ProductFields"]["iamwatch/RuleId"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                f["Severity"]["Label"].as_str().unwrap().to_string(),
                f["Severity"]["Original"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    got.sort();
    let mut want = vec![
        ("iam-user-created", "MEDIUM", 50),
        ("admin-access-granted-to-user", "CRITICAL", 90),
        ("access-key-created-for-other-user", "HIGH", 80),
        ("access-key-created-for-other-user", "HIGH", 80),
        ("console-password-created", "MEDIUM", 50),
        ("console-password-changed-for-other-user", "HIGH", 70),
        ("role-trust-opened", "HIGH", 80),
        ("role-trust-opened", "HIGH", 80),
        ("admin-access-granted-to-role", "MEDIUM", 60),
        ("console-login-without-mfa", "MEDIUM", 60),
    ]
    .into_iter()
    .map(|(r, l, s)| (r.to_string(), l.to_string(), s))
    .collect::<Vec<_>>();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn all_real_captures_parse_without_errors() {
    let (code, _, stderr) = scan(&["--format", "jsonl", "events/real"]);
    assert_eq!(code, 0, "{stderr}");
}

/// With a runbook base URL, every finding links its rule's runbook under it.
#[test]
fn a_runbook_base_url_makes_the_links() {
    let (code, stdout, stderr) = scan(&[
        "--runbook-base-url",
        "https://runbooks.example.internal/iamwatch/",
        "--format",
        "asff",
        "events/",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let got: Value = serde_json::from_str(&stdout).unwrap();
    for f in got["Findings"].as_array().unwrap() {
        let id = f["ProductFields"]["iamwatch/RuleId"].as_str().unwrap();
        assert_eq!(
            f["Remediation"]["Recommendation"]["Url"],
            format!("https://runbooks.example.internal/iamwatch/{id}.md")
        );
    }
}

/// The CDK app reads the rule catalog from `cdk/lib/rules.json`, which must be exactly what
/// `iamwatch rules --format json` prints (`UPDATE_GOLDEN=1` rewrites it).
#[test]
fn cdk_rules_json_is_the_catalog() {
    let (code, printed, _) = iamwatch(&["rules", "--format", "json"]);
    assert_eq!(code, 0);
    let path = root().join("cdk/lib/rules.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &printed).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == printed,
        "cdk/lib/rules.json must equal `iamwatch rules --format json` \
         (UPDATE_GOLDEN=1 cargo test -p iamwatch-cli --test golden rewrites it)"
    );
    // The forwarded event names, as the CDK app derives them, are the core's in-scope names.
    let rules: Vec<serde_json::Value> = serde_json::from_str(&committed).unwrap();
    let mut names: Vec<String> = rules
        .iter()
        .flat_map(|r| {
            let list = |k: &str| r[k].as_array().cloned().unwrap_or_default();
            list("event_names")
                .into_iter()
                .chain(list("resolving_events"))
        })
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    names.sort();
    names.dedup();
    let core: Vec<String> = iamwatch_core::rules::in_scope_event_names()
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(names, core);
}

/// The policy files shipped in the repository (the example, and the one the CDK app bundles
/// into the detect function) are valid.
#[test]
fn shipped_policy_files_parse() {
    for path in ["examples/policy.toml", "cdk/policy.toml"] {
        let text = std::fs::read_to_string(root().join(path)).unwrap();
        iamwatch_core::Policy::from_toml(&text, path).unwrap_or_else(|e| panic!("{e}"));
    }
}
