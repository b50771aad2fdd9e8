//! A call denied by a service control policy (the guardrail that keeps an OU free of IAM users)
//! is an `iam-user-change-denied` finding that says a guardrail blocked it: the sample
//! `events/variants/iam-user-change-denied-by-scp.json` gives exactly
//! `events/expected/iam-user-change-denied-by-scp.asff` (`UPDATE_GOLDEN=1` rewrites it).

mod common;

use common::{assert_golden, scan_asff as scan};

#[test]
fn a_denial_by_a_service_control_policy_says_a_guardrail_blocked_it() {
    let sample = "events/variants/iam-user-change-denied-by-scp.json";
    let got = scan(sample);
    assert_golden(&got, "iam-user-change-denied-by-scp", sample);
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
