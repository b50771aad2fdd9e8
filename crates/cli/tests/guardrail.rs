//! A call denied by a service control policy (the guardrail that keeps an OU free of IAM users)
//! is an `iam-user-change-denied` finding that says a guardrail blocked it: the sample
//! `events/variants/iam-user-change-denied-by-scp.json` gives exactly
//! `events/expected/iam-user-change-denied-by-scp.asff` (`UPDATE_GOLDEN=1` rewrites it).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scan(path: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_iamwatch"))
        .current_dir(root())
        .args([
            "scan",
            "--policy",
            "examples/policy.toml",
            "--org",
            "examples/org.json",
            "--format",
            "asff",
            path,
        ])
        .output()
        .expect("run iamwatch");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("asff output is JSON")
}

#[test]
fn a_denial_by_a_service_control_policy_says_a_guardrail_blocked_it() {
    let got = scan("events/variants/iam-user-change-denied-by-scp.json");
    let path = root().join("events/expected/iam-user-change-denied-by-scp.asff");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
    }
    let want: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(got, want, "differs from {}", path.display());
    let f = &got["Findings"][0];
    assert_eq!(f["GeneratorId"], "iamwatch/iam-user-change-denied");
    let description = f["Description"].as_str().unwrap();
    assert!(
        description.starts_with(
            "arn:aws:iam::333333333333:user/devops-tools was denied CreateAccessKey on deploy-bot \
             by a guardrail (an explicit deny in a service control policy) (AccessDenied)"
        ),
        "{description}"
    );
    // The plain denial sample (no service control policy in its message) does not say so.
    let plain = scan("events/iam-user-change-denied.json");
    let description = plain["Findings"][0]["Description"].as_str().unwrap();
    assert!(!description.contains("guardrail"), "{description}");
}
