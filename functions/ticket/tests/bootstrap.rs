//! The compiled ticket binary run as Lambda runs it: under a Lambda Runtime API served by the
//! test, with its configuration from the environment, its secrets in moto's Secrets Manager,
//! its ledger in moto's DynamoDB, its DLQ in moto's SQS, the write-back role assumed through
//! moto's STS, Security Hub on an HTTP test server, and Jira and Slack fakes.

mod common;

use common::{dead_letters, envelope, fake_security_hub, message, A};
use iamwatch_e2e::moto::{management_credentials, sdk_config, MotoServer};
use iamwatch_e2e::runtime_api::{Answer, RuntimeApi};
use iamwatch_notify::testing::{sample_event, FakeJira, FakeSlack};
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_iamwatch-ticket");

fn lambda_env(cmd: &mut Command, api: &str) {
    iamwatch_e2e::runtime_api::lambda_env(cmd, api, "iamwatch-ticket", 256);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bootstrap_tickets_a_batch_under_the_runtime_api() {
    let moto = MotoServer::start().unwrap_or_else(|e| panic!("{e}"));
    let sdk = sdk_config(&moto.endpoint(), management_credentials()).await;
    let jira = FakeJira::start().await.unwrap();
    let slack = FakeSlack::start().await.unwrap();
    let hub = fake_security_hub().await;
    let (jira_secret, slack_secret) = iamwatch_e2e::org::ticket_secrets(&sdk, &slack.webhook_url())
        .await
        .unwrap();

    let dlq_url = iamwatch_e2e::org::ticketing(&sdk).await.unwrap();

    let api = RuntimeApi::start().await.unwrap();
    let mut batch = aws_lambda_events::event::sqs::SqsEvent::default();
    batch.records = vec![
        message("good", &envelope(&sample_event(A, 85))),
        message("bad", "{\"source\": \"iamwatch\""),
        message(
            "forged",
            &common::envelope_from(&sample_event(A, 85), "111122223333"),
        ),
    ];
    let payload = serde_json::to_string(&batch).unwrap();

    let mut cmd = Command::new(BIN);
    lambda_env(&mut cmd, &api.address());
    cmd.env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_ENDPOINT_URL_SECURITYHUB", hub.url())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("IAMWATCH_JIRA_BASE_URL", jira.url())
        .env("IAMWATCH_JIRA_PROJECT", "SEC")
        .env("IAMWATCH_JIRA_SECRET_ARN", &jira_secret)
        .env("IAMWATCH_SLACK_SECRET_ARN", &slack_secret)
        .env("IAMWATCH_LEDGER_TABLE", iamwatch_e2e::org::LEDGER_TABLE)
        .env("IAMWATCH_TICKETS_DLQ_URL", &dlq_url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    api.invoke(payload);
    let answer = api.answer(Duration::from_secs(60)).await;
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let Some(Answer::Response { request_id, body }) = answer else {
        panic!("no response: {answer:?}\n{logs}");
    };
    assert_eq!(request_id, "req-0");
    let resp: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(resp["batchItemFailures"], json!([]), "{logs}");
    // The malformed and the forged message went to the DLQ with their reasons.
    let mut reasons: Vec<String> = dead_letters(&sdk, &dlq_url)
        .await
        .into_iter()
        .map(|(reason, _, _)| reason)
        .collect();
    reasons.sort();
    assert_eq!(reasons.len(), 2, "{logs}");
    assert!(reasons[0].starts_with("malformed message"), "{reasons:?}");
    assert!(
        reasons[1].contains("is not the security account"),
        "{reasons:?}"
    );
    // The ledger in DynamoDB holds the finding's episode.
    let items = aws_sdk_dynamodb::Client::new(&sdk)
        .scan()
        .table_name(iamwatch_e2e::org::LEDGER_TABLE)
        .send()
        .await
        .unwrap();
    assert_eq!(items.count(), 1, "{logs}");

    let issues = jira.issues();
    assert_eq!(issues.len(), 1, "{logs}");
    assert_eq!(
        issues[0].fields["summary"],
        "IAM user backdoor created in payments-prod"
    );
    assert_eq!(slack.messages().len(), 1);
    let updates = hub.requests_to("PATCH", "/findings/batchupdate");
    assert_eq!(updates.len(), 1, "{logs}");
    assert_eq!(updates[0].json()["Workflow"]["Status"], "NOTIFIED");

    // JSON logs, one span per message; no secret in them.
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        lines.iter().any(|l| l["span"]["message_id"] == "bad"
            && l["level"] == "ERROR"
            && l["fields"]["message"]
                == "message can never succeed; sent to the DLQ with its reason"),
        "{logs}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["finding_id"] == A && l["fields"]["message"] == "finding ticketed"),
        "{logs}"
    );
    assert!(!logs.contains("tok-123"), "{logs}");
    assert!(!logs.contains(FakeSlack::PATH), "{logs}");
}

#[test]
fn the_bootstrap_with_half_a_jira_configuration_exits_naming_the_variable() {
    let mut cmd = Command::new(BIN);
    lambda_env(&mut cmd, "127.0.0.1:9");
    cmd.env("IAMWATCH_JIRA_BASE_URL", "https://example.atlassian.net")
        .env("IAMWATCH_LEDGER_TABLE", "iamwatch-ticket-ledger");
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("IAMWATCH_JIRA_PROJECT"), "{all}");
}
