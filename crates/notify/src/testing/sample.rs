//! A sample finding event, as the detect function publishes it.

use iamwatch_core::finding::{
    fields, Recommendation, RecordState, Remediation, Resource, Severity,
};
use iamwatch_core::finding_event::FindingEvent;
use iamwatch_core::{Finding, Label};
use std::collections::BTreeMap;

/// A finding event as the detect function publishes it: an IAM user created in account
/// `111122223333` (`payments-prod`, OU `Workloads/Prod`) by an IAM user without MFA.
pub fn sample_event(finding_id: &str, score: u8) -> FindingEvent {
    let account = "111122223333";
    let label = Label::from_score(score);
    let mut pf = BTreeMap::new();
    for (k, v) in [
        (fields::RULE_ID, "iam-user-created"),
        (fields::FACTORS, "actor-iam-user,no-mfa,critical-account"),
        (fields::ACTOR, "arn:aws:iam::111122223333:user/mallory"),
        (fields::USER, "backdoor"),
        (fields::ACCOUNT_NAME, "payments-prod"),
        (fields::OU_PATH, "Workloads/Prod"),
        (fields::EVENT_ID, "3f2b0c9e-0000-4000-8000-000000000001"),
    ] {
        pf.insert(k.to_string(), v.to_string());
    }
    pf.insert(fields::SCORE.to_string(), score.to_string());
    let runbook = "https://github.com/example/iamwatch/blob/main/runbooks/iam-user-created.md";
    let finding = Finding {
        schema_version: iamwatch_core::finding::SCHEMA_VERSION.to_string(),
        id: finding_id.to_string(),
        product_arn: format!("arn:aws:securityhub:us-east-1:{account}:product/{account}/default"),
        generator_id: "iamwatch/iam-user-created".to_string(),
        aws_account_id: account.to_string(),
        aws_account_name: Some("payments-prod".to_string()),
        types: vec!["TTPs/Persistence/IAM User Created".to_string()],
        first_observed_at: "2025-05-01T10:00:00Z".to_string(),
        last_observed_at: "2025-05-01T10:00:00Z".to_string(),
        created_at: "2025-05-01T10:00:00Z".to_string(),
        updated_at: "2025-05-01T10:00:00Z".to_string(),
        severity: Severity {
            label,
            original: score.to_string(),
        },
        title: "IAM user backdoor created in payments-prod".to_string(),
        description: format!(
            "arn:aws:iam::111122223333:user/mallory created IAM user backdoor in account \
             payments-prod ({account}, OU Workloads/Prod) at 2025-05-01T10:00:00Z. Score {score}: \
             base 40 +10 actor-iam-user +10 no-mfa +15 critical-account. Runbook: {runbook}"
        ),
        remediation: Remediation {
            recommendation: Recommendation {
                text: "Follow the iam-user-created runbook".to_string(),
                url: Some(runbook.to_string()),
            },
        },
        product_fields: pf,
        resources: vec![Resource {
            kind: "AwsIamUser".to_string(),
            id: format!("arn:aws:iam::{account}:user/backdoor"),
            partition: "aws".to_string(),
            region: "us-east-1".to_string(),
            details: None,
        }],
        action: None,
        record_state: RecordState::Active,
    };
    FindingEvent::from_finding(&finding)
}
