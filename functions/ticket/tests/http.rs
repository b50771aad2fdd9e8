//! The handler with the real adapters: Jira and Slack fakes served in the test process,
//! Security Hub `BatchUpdateFindings` on an HTTP test server speaking its REST-JSON shape (moto
//! lacks the call), STS (member role) and Secrets Manager on moto's server.

mod common;

use common::{batch, batch_updates, envelope, failed_ids, fake_security_hub, message};
use iamwatch_aws::{AccountClients, SecretsManager, SecurityHubWriteBack};
use iamwatch_e2e::moto::{management_credentials, sdk_config, MotoServer};
use iamwatch_notify::testing::{sample_event, Canned, FakeJira, FakeSlack, RecordingServer};
use iamwatch_notify::{
    JiraConfig, JiraCredentials, JiraTicketSink, RetryPolicy, SlackNotifier, SlackWebhook,
};
use iamwatch_ticket::config::JiraSettings;
use iamwatch_ticket::secrets::{SecretJira, SecretSlack};
use iamwatch_ticket::{handler, Ticketer, DEFAULT_MESSAGE_BUDGET};
use serde_json::json;
use std::time::Duration;

const A: &str = "iamwatch/111122223333/iam-user-created/backdoor";

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(2),
        timeout: Duration::from_secs(2),
    }
}

struct Env {
    _moto: MotoServer,
    sdk: aws_config::SdkConfig,
    jira: FakeJira,
    slack: FakeSlack,
    hub: RecordingServer,
}

async fn env() -> Env {
    let moto = MotoServer::start().unwrap_or_else(|e| panic!("{e}"));
    let sdk = sdk_config(&moto.endpoint(), management_credentials()).await;
    Env {
        _moto: moto,
        sdk,
        jira: FakeJira::start().await.unwrap(),
        slack: FakeSlack::start().await.unwrap(),
        hub: fake_security_hub().await,
    }
}

type Real = Ticketer<JiraTicketSink, SlackNotifier, SecurityHubWriteBack>;

fn ticketer(env: &Env) -> Real {
    let mut jira = JiraConfig::new(
        &env.jira.url(),
        "SEC",
        JiraCredentials {
            email: "sec@example.com".into(),
            api_token: "tok-123".into(),
        },
    );
    jira.retry = fast_retry();
    Ticketer {
        jira: Some(JiraTicketSink::new(jira).unwrap()),
        slack: Some(
            SlackNotifier::new(
                SlackWebhook {
                    webhook_url: env.slack.webhook_url(),
                },
                fast_retry(),
            )
            .unwrap(),
        ),
        write_back: SecurityHubWriteBack::new(AccountClients::new(
            env.sdk.clone(),
            "iamwatch-member",
        ))
        .with_endpoint(env.hub.url()),
        min_score: 70,
        message_budget: DEFAULT_MESSAGE_BUDGET,
    }
}

#[tokio::test]
async fn ticket_write_back_through_the_member_role_and_slack_with_the_ticket_link() {
    let env = env().await;
    let t = ticketer(&env);
    let event = sample_event(A, 85);
    let resp = handler(&t, batch(vec![message("m1", A, &envelope(&event))]))
        .await
        .unwrap();
    assert!(failed_ids(&resp).is_empty());

    let issues = env.jira.issues();
    assert_eq!(issues.len(), 1);
    let url = format!("{}/browse/SEC-1", env.jira.url());

    // BatchUpdateFindings: the REST-JSON request, signed with the member role's credentials.
    let calls = env.hub.requests_to("PATCH", "/findings/batchupdate");
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].json(),
        json!({
            "FindingIdentifiers": [{"Id": A, "ProductArn": event.finding.product_arn}],
            "Workflow": {"Status": "NOTIFIED"},
            "Note": {"Text": format!("Jira SEC-1 {url}"), "UpdatedBy": "iamwatch"},
        })
    );
    let auth = calls[0].header("authorization").unwrap();
    assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential="), "{auth}");
    assert!(
        auth.contains("/us-east-1/securityhub/aws4_request"),
        "{auth}"
    );
    assert!(
        !auth.contains("Credential=testing/"),
        "signed with the function's own credentials, not the member role's: {auth}"
    );
    assert!(calls[0].header("x-amz-security-token").is_some());

    let messages = env.slack.messages();
    assert_eq!(messages.len(), 1);
    let links = messages[0]["blocks"][3]["text"]["text"].as_str().unwrap();
    assert!(links.contains(&format!("<{url}|SEC-1>")), "{links}");
}

#[tokio::test]
async fn redelivery_of_the_same_event_gives_one_issue() {
    let env = env().await;
    let t = ticketer(&env);
    let body = envelope(&sample_event(A, 85));
    for _ in 0..3 {
        let resp = handler(&t, batch(vec![message("m1", A, &body)]))
            .await
            .unwrap();
        assert!(failed_ids(&resp).is_empty());
    }
    let issues = env.jira.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].comments.len(), 2);
    assert_eq!(batch_updates(&env.hub).len(), 3);
}

#[tokio::test]
async fn jira_429_with_retry_after_then_success_gives_one_issue() {
    let env = env().await;
    let t = ticketer(&env);
    env.jira.server.push_responses(
        "POST",
        "/rest/api/3/issue",
        vec![Canned::status(429).with_header("Retry-After", "1")],
    );
    let resp = handler(
        &t,
        batch(vec![message("m1", A, &envelope(&sample_event(A, 85)))]),
    )
    .await
    .unwrap();
    assert!(failed_ids(&resp).is_empty());
    assert_eq!(env.jira.issues().len(), 1);
    assert_eq!(env.slack.messages().len(), 1);
}

#[tokio::test]
async fn a_jira_outage_fails_the_message_and_the_redelivery_makes_one_issue_and_one_post() {
    let env = env().await;
    let t = ticketer(&env);
    env.jira
        .server
        .push_responses("POST", "/rest/api/3/issue", vec![Canned::status(500); 3]);
    let body = envelope(&sample_event(A, 85));
    let resp = handler(&t, batch(vec![message("m1", A, &body)]))
        .await
        .unwrap();
    assert_eq!(failed_ids(&resp), ["m1"]);
    assert!(env.jira.issues().is_empty());
    assert!(env.slack.messages().is_empty(), "no Slack before Jira");
    assert!(batch_updates(&env.hub).is_empty());
    assert_eq!(
        env.jira
            .server
            .requests_to("POST", "/rest/api/3/issue")
            .len(),
        3
    );

    let resp = handler(&t, batch(vec![message("m1", A, &body)]))
        .await
        .unwrap();
    assert!(failed_ids(&resp).is_empty());
    assert_eq!(env.jira.issues().len(), 1);
    assert_eq!(env.slack.messages().len(), 1);
    assert_eq!(batch_updates(&env.hub).len(), 1);
}

#[tokio::test]
async fn a_slack_outage_is_retried_then_the_redelivery_posts_without_a_second_issue() {
    let env = env().await;
    let t = ticketer(&env);
    env.slack.server.push_responses(
        "POST",
        FakeSlack::PATH,
        vec![Canned::text(500, "rollup_error"); 3],
    );
    let body = envelope(&sample_event(A, 85));
    let resp = handler(&t, batch(vec![message("m1", A, &body)]))
        .await
        .unwrap();
    assert_eq!(failed_ids(&resp), ["m1"]);
    assert_eq!(env.slack.messages().len(), 3, "three attempts");

    let resp = handler(&t, batch(vec![message("m1", A, &body)]))
        .await
        .unwrap();
    assert!(failed_ids(&resp).is_empty());
    let issues = env.jira.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].comments.len(), 1);
    assert_eq!(env.slack.messages().len(), 4);
}

#[tokio::test]
async fn a_finding_not_in_security_hub_still_gets_its_slack_message() {
    let env = env().await;
    let t = ticketer(&env);
    env.hub.push_responses(
        "PATCH",
        "/findings/batchupdate",
        vec![Canned::json(
            200,
            &json!({"ProcessedFindings": [], "UnprocessedFindings": [{
                "FindingIdentifier": {"Id": A, "ProductArn": "arn"},
                "ErrorCode": "FindingNotFound",
                "ErrorMessage": "Finding Not Found"}]}),
        )],
    );
    let resp = handler(
        &t,
        batch(vec![message("m1", A, &envelope(&sample_event(A, 85)))]),
    )
    .await
    .unwrap();
    assert!(failed_ids(&resp).is_empty());
    assert_eq!(env.slack.messages().len(), 1);

    // A throttled write-back fails the message before Slack.
    env.hub.push_responses(
        "PATCH",
        "/findings/batchupdate",
        vec![
            Canned::json(
                429,
                &json!({"__type": "TooManyRequestsException", "message": "Rate exceeded"}),
            )
            .with_header("x-amzn-errortype", "TooManyRequestsException");
            5
        ],
    );
    let other = "iamwatch/111122223333/iam-user-created/eve";
    let resp = handler(
        &t,
        batch(vec![message(
            "m2",
            other,
            &envelope(&sample_event(other, 85)),
        )]),
    )
    .await
    .unwrap();
    assert_eq!(failed_ids(&resp), ["m2"]);
    assert_eq!(env.slack.messages().len(), 1);
}

async fn put_secret(sdk: &aws_config::SdkConfig, name: &str, value: &str) -> String {
    aws_sdk_secretsmanager::Client::new(sdk)
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateSecret {name}: {e:?}"))
        .arn()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn credentials_come_from_secrets_manager_once_per_container() {
    let env = env().await;
    let jira_arn = put_secret(
        &env.sdk,
        "iamwatch/jira",
        r#"{"email": "sec@example.com", "api_token": "tok-123"}"#,
    )
    .await;
    let slack_arn = put_secret(
        &env.sdk,
        "iamwatch/slack",
        &json!({"webhook_url": env.slack.webhook_url()}).to_string(),
    )
    .await;
    let secrets = SecretsManager::new(&env.sdk);
    let t = Ticketer {
        jira: Some(SecretJira::new(
            secrets.clone(),
            JiraSettings {
                base_url: env.jira.url(),
                project: "SEC".into(),
                secret_arn: jira_arn.clone(),
                issue_type: "Task".into(),
            },
            fast_retry(),
        )),
        slack: Some(SecretSlack::new(
            secrets.clone(),
            slack_arn.clone(),
            fast_retry(),
        )),
        write_back: SecurityHubWriteBack::new(AccountClients::new(
            env.sdk.clone(),
            "iamwatch-member",
        ))
        .with_endpoint(env.hub.url()),
        min_score: 70,
        message_budget: DEFAULT_MESSAGE_BUDGET,
    };
    let resp = handler(
        &t,
        batch(vec![message("m1", A, &envelope(&sample_event(A, 85)))]),
    )
    .await
    .unwrap();
    assert!(failed_ids(&resp).is_empty());
    let search = &env
        .jira
        .server
        .requests_to("POST", "/rest/api/3/search/jql")[0];
    assert_eq!(
        search.header("authorization"),
        Some("Basic c2VjQGV4YW1wbGUuY29tOnRvay0xMjM=")
    );
    assert_eq!(env.slack.messages().len(), 1);

    // Gone from Secrets Manager: a warm container goes on with what it fetched.
    let client = aws_sdk_secretsmanager::Client::new(&env.sdk);
    for arn in [&jira_arn, &slack_arn] {
        client
            .delete_secret()
            .secret_id(arn)
            .force_delete_without_recovery(true)
            .send()
            .await
            .unwrap();
    }
    let other = "iamwatch/111122223333/iam-user-created/eve";
    let resp = handler(
        &t,
        batch(vec![message(
            "m2",
            other,
            &envelope(&sample_event(other, 85)),
        )]),
    )
    .await
    .unwrap();
    assert!(failed_ids(&resp).is_empty());
    assert_eq!(env.jira.issues().len(), 2);
    assert_eq!(env.slack.messages().len(), 2);
}

#[tokio::test]
async fn a_bad_or_missing_secret_fails_the_message_without_showing_the_secret() {
    let env = env().await;
    let arn = put_secret(
        &env.sdk,
        "iamwatch/jira-bad",
        r#"{"email": "sec@example.com", "api_token": 97531}"#,
    )
    .await;
    let secrets = SecretsManager::new(&env.sdk);
    let settings = |secret_arn: String| JiraSettings {
        base_url: env.jira.url(),
        project: "SEC".into(),
        secret_arn,
        issue_type: "Task".into(),
    };
    let bad = SecretJira::new(secrets.clone(), settings(arn), fast_retry());
    let err = iamwatch_core::ports::TicketSink::open(&bad, &sample_event(A, 85))
        .await
        .unwrap_err();
    assert!(!err.retryable, "{err}");
    assert!(err.message.contains("api_token"), "{err}");
    assert!(!err.to_string().contains("97531"), "{err}");

    let missing = SecretJira::new(
        secrets,
        settings("arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf".into()),
        fast_retry(),
    );
    let err = iamwatch_core::ports::TicketSink::open(&missing, &sample_event(A, 85))
        .await
        .unwrap_err();
    assert!(
        err.operation.starts_with("secretsmanager:GetSecretValue"),
        "{err}"
    );
    assert!(env.jira.server.requests().is_empty());
}
