//! The fault matrix of the ticket function with its real adapters: the ledger in DynamoDB, the
//! dead-letter queue in SQS and the secrets in Secrets Manager on moto's server; Jira and Slack
//! fakes served in the test process (asserting the requests that went over the wire); Security
//! Hub's `BatchUpdateFindings` on an HTTP test server speaking its REST-JSON shape (moto lacks
//! the call), reached through the write-back role assumed in moto's STS.
//!
//! Poison messages, Jira down with Slack up, duplicate and concurrent deliveries of one finding,
//! a forged finding event, out-of-order archive and recurrence, a Jira token rotated.

mod common;

use common::{
    archived, batch, batch_updates, dead_letters, deliver, envelope, envelope_from, failed_ids,
    fake_security_hub, message, observed, A, B,
};
use iamwatch_aws::{
    AccountClients, DynamoDbLedger, SecretsManager, SecurityHubWriteBack, SqsDeadLetters,
};
use iamwatch_e2e::moto::{management_credentials, sdk_config, MotoServer};
use iamwatch_e2e::org::LEDGER_TABLE as TABLE;
use iamwatch_notify::testing::{sample_event, Canned, FakeJira, FakeSlack, RecordingServer};
use iamwatch_notify::{
    JiraConfig, JiraCredentials, JiraTicketSink, RetryPolicy, SlackNotifier, SlackWebhook,
};
use iamwatch_ticket::config::JiraSettings;
use iamwatch_ticket::secrets::SecretJira;
use iamwatch_ticket::{handler, Ticketer, DEFAULT_CLAIM_LEASE, DEFAULT_MESSAGE_BUDGET};
use serde_json::json;
use std::time::Duration;

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(2),
        timeout: Duration::from_secs(2),
    }
}

struct Env {
    moto: MotoServer,
    sdk: aws_config::SdkConfig,
    jira: FakeJira,
    slack: FakeSlack,
    hub: RecordingServer,
    dlq_url: String,
}

async fn env() -> Env {
    let moto = MotoServer::start().unwrap_or_else(|e| panic!("{e}"));
    let sdk = sdk_config(&moto.endpoint(), management_credentials()).await;
    // The ledger table as the CDK app makes it (cdk/lib/constructs/ticketing.ts), and the DLQ.
    let dlq_url = iamwatch_e2e::org::ticketing(&sdk)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Env {
        moto,
        sdk,
        jira: FakeJira::start().await.unwrap(),
        slack: FakeSlack::start().await.unwrap(),
        hub: fake_security_hub().await,
        dlq_url,
    }
}

type Real =
    Ticketer<JiraTicketSink, SlackNotifier, SecurityHubWriteBack, DynamoDbLedger, SqsDeadLetters>;

fn jira_config(env: &Env) -> JiraConfig {
    let mut jira = JiraConfig::new(
        &env.jira.url(),
        "SEC",
        JiraCredentials {
            email: "sec@example.com".into(),
            api_token: "tok-123".into(),
        },
    );
    jira.retry = fast_retry();
    jira
}

/// The ticket function as its main builds it, on `jira` (one per container).
fn ticketer_with(env: &Env, jira: JiraConfig) -> Real {
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
            "iamwatch-writeback",
        ))
        .with_endpoint(env.hub.url()),
        ledger: DynamoDbLedger::new(&env.sdk, TABLE),
        dead_letters: Some(SqsDeadLetters::new(&env.sdk, env.dlq_url.clone())),
        security_account: common::SECURITY.to_string(),
        min_score: 70,
        message_budget: DEFAULT_MESSAGE_BUDGET,
        claim_lease: DEFAULT_CLAIM_LEASE,
    }
}

fn ticketer(env: &Env) -> Real {
    ticketer_with(env, jira_config(env))
}

/// The Jira of the ticket function's main, its credentials in the secret `secret_arn`.
fn jira_settings(env: &Env, secret_arn: String) -> JiraSettings {
    JiraSettings {
        base_url: env.jira.url(),
        project: "SEC".into(),
        secret_arn,
        issue_type: "Task".into(),
        close_transition: None,
        reopen_transition: None,
    }
}

/// A secret in Secrets Manager; its ARN.
async fn create_secret(env: &Env, name: &str, value: &str) -> String {
    aws_sdk_secretsmanager::Client::new(&env.sdk)
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_string()
}

/// Every item of the ledger table, as the adapter reads them.
async fn ledger_items(env: &Env) -> Vec<iamwatch_core::ports::LedgerEntry> {
    let out = aws_sdk_dynamodb::Client::new(&env.sdk)
        .scan()
        .table_name(TABLE)
        .send()
        .await
        .unwrap();
    let mut v: Vec<_> = out
        .items()
        .iter()
        .map(|i| iamwatch_aws::ledger::from_item(i).unwrap())
        .collect();
    v.sort_by_key(|e| (e.finding_id.clone(), e.episode));
    v
}

#[tokio::test]
async fn a_finding_is_ticketed_once_recorded_in_dynamodb_and_written_back_through_the_writeback_role(
) {
    let env = env().await;
    let t = ticketer(&env);
    let body = envelope(&sample_event(A, 85));
    for i in 0..3 {
        assert!(deliver(&t, &format!("m{i}"), &body).await.is_empty());
    }
    let issues = env.jira.issues();
    assert_eq!(issues.len(), 1);
    assert!(
        issues[0].comments.is_empty(),
        "a redelivery comments nothing"
    );
    assert_eq!(env.slack.messages().len(), 1);
    let updates = batch_updates(&env.hub);
    assert_eq!(updates.len(), 1);
    let url = format!("{}/browse/SEC-1", env.jira.url());
    assert_eq!(updates[0]["Note"]["Text"], format!("Jira SEC-1 {url}"));
    let auth = env.hub.requests_to("PATCH", "/findings/batchupdate")[0]
        .header("authorization")
        .unwrap()
        .to_string();
    assert!(
        !auth.contains("Credential=testing/"),
        "signed with the assumed role's credentials: {auth}"
    );

    let items = ledger_items(&env).await;
    assert_eq!(items.len(), 1);
    let e = &items[0];
    assert_eq!(
        (e.finding_id.as_str(), e.episode, e.filed_in.as_str()),
        (A, 1, "111122223333")
    );
    assert_eq!(
        e.issue.as_ref().map(|i| (i.key.as_str(), i.id.as_str())),
        Some(("SEC-1", "10001"))
    );
    assert!(e.slack_sent && e.written_back && e.issue_created);
    assert_eq!(e.claim, None);
    assert!(dead_letters(&env.sdk, &env.dlq_url).await.is_empty());
}

#[tokio::test]
async fn poison_messages_go_straight_to_the_dlq_with_their_reason_and_the_rest_go_on() {
    let env = env().await;
    let t = ticketer(&env);
    // Jira refuses a field of A's issue (400), the Slack channel of B's message is archived
    // (410); neither will ever succeed as it is. C is fine.
    env.jira.server.push_responses(
        "POST",
        "/rest/api/3/issue",
        vec![Canned::json(
            400,
            &json!({"errors": {"customfield_10042": "Field 'customfield_10042' cannot be set"}}),
        )],
    );
    let c = "iamwatch/111122223333/iam-user-created/carol";
    let forged = envelope_from(&sample_event(c, 95), "111122223333");
    let resp = handler(
        &t,
        batch(vec![
            message("jira-400", &envelope(&sample_event(A, 85))),
            message("bad-json", "{\"source\": \"iamwatch\""),
            message("forged", &forged),
        ]),
    )
    .await
    .unwrap();
    assert!(failed_ids(&resp).is_empty(), "nothing is retried in vain");
    env.slack.server.push_responses(
        "POST",
        FakeSlack::PATH,
        vec![Canned::text(410, "channel_is_archived")],
    );
    let resp = handler(
        &t,
        batch(vec![
            message("slack-410", &envelope(&sample_event(B, 85))),
            message("good", &envelope(&sample_event(c, 85))),
        ]),
    )
    .await
    .unwrap();
    assert!(failed_ids(&resp).is_empty());

    let mut dead = dead_letters(&env.sdk, &env.dlq_url).await;
    dead.sort_by(|a, b| a.1.cmp(&b.1));
    let ids: Vec<&str> = dead.iter().map(|d| d.1.as_str()).collect();
    assert_eq!(ids, ["bad-json", "forged", "jira-400", "slack-410"]);
    assert!(dead[0].0.contains("malformed message"), "{:?}", dead[0]);
    assert!(
        dead[1].0.contains("is not the security account"),
        "{:?}",
        dead[1]
    );
    assert!(dead[2].0.contains("cannot be set"), "{:?}", dead[2]);
    assert!(
        dead[3].0.contains("410") && dead[3].0.contains("channel_is_archived"),
        "{:?}",
        dead[3]
    );
    assert_eq!(
        dead[1].2, forged,
        "the body is kept as it was, for a redrive"
    );
    // The good one, and the parts of the poisoned ones that could succeed, went through: the
    // forged event touched nothing.
    assert_eq!(
        env.jira.issues().len(),
        2,
        "B and C have issues; A's was refused"
    );
    assert_eq!(
        env.slack.server.requests_to("POST", FakeSlack::PATH).len(),
        3,
        "A, B (refused), C"
    );
    let items = ledger_items(&env).await;
    let state = |id: &str| {
        let e = items.iter().find(|e| e.finding_id == id).unwrap();
        (
            e.issue.as_ref().map(|i| i.key.clone()),
            e.slack_sent,
            e.written_back,
        )
    };
    assert_eq!(items.len(), 3, "the forged event made no entry");
    assert_eq!(
        state(A),
        (None, true, false),
        "Slack done, Jira left for a redrive"
    );
    assert_eq!(
        state(B),
        (Some("SEC-1".into()), false, true),
        "Jira done, Slack left"
    );
    assert_eq!(state(c), (Some("SEC-2".into()), true, true));
}

#[tokio::test]
async fn jira_down_with_slack_up_posts_once_and_the_retry_opens_one_issue() {
    let env = env().await;
    let t = ticketer(&env);
    env.jira.server.push_responses(
        "POST",
        "/rest/api/3/search/jql",
        vec![Canned::status(503); 3],
    );
    let body = envelope(&sample_event(A, 85));
    assert_eq!(deliver(&t, "m1", &body).await, ["m1"]);
    assert_eq!(
        env.slack.messages().len(),
        1,
        "Slack does not wait for Jira"
    );
    assert!(env.jira.issues().is_empty());
    assert!(batch_updates(&env.hub).is_empty());
    assert!(
        dead_letters(&env.sdk, &env.dlq_url).await.is_empty(),
        "an outage is retried, not dead-lettered"
    );

    assert!(deliver(&t, "m1", &body).await.is_empty());
    assert_eq!(env.jira.issues().len(), 1);
    assert_eq!(env.slack.messages().len(), 1, "no second Slack message");
    assert_eq!(batch_updates(&env.hub).len(), 1);
}

#[tokio::test]
async fn concurrent_deliveries_in_two_containers_make_one_issue_and_one_message() {
    let env = env().await;
    // Two containers (their own clients), one ledger; Jira slow to create, so they overlap.
    let (one, two) = (ticketer(&env), ticketer(&env));
    env.jira.server.push_responses(
        "POST",
        "/rest/api/3/search/jql",
        vec![Canned::json(200, &json!({"issues": []})).with_delay(Duration::from_millis(500))],
    );
    let body = envelope(&sample_event(A, 85));
    let (a, b) = tokio::join!(deliver(&one, "m1", &body), deliver(&two, "m2", &body));
    let failed: Vec<String> = a.into_iter().chain(b).collect();
    assert_eq!(
        failed.len(),
        1,
        "one delivery holds the claim, the other waits: {failed:?}"
    );
    assert_eq!(env.jira.issues().len(), 1);
    assert_eq!(env.slack.messages().len(), 1);
    // The waiting one's redelivery finds the episode done.
    assert!(deliver(&two, &failed[0], &body).await.is_empty());
    assert_eq!(env.jira.issues().len(), 1);
    assert_eq!(env.slack.messages().len(), 1);
    assert_eq!(batch_updates(&env.hub).len(), 1);
}

#[tokio::test]
async fn a_create_is_found_by_reconciliation_before_any_retry_and_a_lost_answer_is_not_repeated() {
    let env = env().await;
    // Jira's search index lags: a new issue is found only when reconciled by its id.
    env.jira.set_search_lag(true);
    // The same container opens the issue, then looks again: it reconciles what it created.
    let sink = JiraTicketSink::new(jira_config(&env)).unwrap();
    use iamwatch_core::ports::IssueTracker;
    let (first, created) = sink.open(&sample_event(B, 85), 1, &[]).await.unwrap();
    assert!(created);
    let search = &env
        .jira
        .server
        .requests_to("POST", "/rest/api/3/search/jql")[0];
    assert_eq!(
        search.json()["reconcileIssues"],
        serde_json::Value::Null,
        "nothing to reconcile yet"
    );
    let (again, created) = sink.open(&sample_event(B, 85), 1, &[]).await.unwrap();
    assert!(
        !created,
        "found through reconcileIssues despite the lagging index"
    );
    assert_eq!(again, first);
    let last = env
        .jira
        .server
        .requests_to("POST", "/rest/api/3/search/jql")
        .pop()
        .unwrap();
    assert_eq!(last.json()["reconcileIssues"], json!([10001]));
    // Another container knows the id from the ledger (an earlier episode's issue).
    let other_container = JiraTicketSink::new(jira_config(&env)).unwrap();
    let (found, created) = other_container
        .open(&sample_event(B, 85), 1, std::slice::from_ref(&first.id))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(found.key, first.key);
    assert_eq!(env.jira.issues().len(), 1);

    // A create that times out is not sent again at once; it fails retryably.
    env.jira.server.push_responses(
        "POST",
        "/rest/api/3/issue",
        vec![Canned::status(201).with_delay(Duration::from_secs(3))],
    );
    let other = "iamwatch/111122223333/iam-user-created/dave";
    let err = sink
        .open(&sample_event(other, 85), 1, &[])
        .await
        .unwrap_err();
    assert!(err.retryable, "{err}");
    assert!(err.message.contains("not repeated"), "{err}");
    let creates = env.jira.server.requests_to("POST", "/rest/api/3/issue");
    assert_eq!(
        creates
            .iter()
            .filter(|r| r.path == "/rest/api/3/issue")
            .count(),
        2,
        "one try for dave"
    );
}

#[tokio::test]
async fn an_archive_transitions_the_issue_and_a_recurrence_reopens_it_out_of_order_deliveries_skipped(
) {
    let env = env().await;
    let mut config = jira_config(&env);
    config.close_transition = Some("Done".into());
    config.reopen_transition = Some("Reopen".into());
    let t = ticketer_with(&env, config);
    assert!(
        deliver(&t, "m1", &envelope(&observed(A, "2025-05-01T10:00:00Z")))
            .await
            .is_empty()
    );
    assert!(
        deliver(&t, "m2", &envelope(&archived(A, "2025-05-02T10:00:00Z")))
            .await
            .is_empty()
    );
    let issue = &env.jira.issues()[0];
    assert_eq!(issue.status, "Done");
    let transitions = env
        .jira
        .server
        .requests_to("POST", "/rest/api/3/issue/SEC-1/transitions");
    assert_eq!(transitions[0].json(), json!({"transition": {"id": "31"}}));
    assert_eq!(issue.comments.len(), 1);
    assert!(issue.comments[0]
        .to_string()
        .contains("archived this finding"));

    // A late redelivery of the first observation: an ended episode, nothing happens.
    assert!(
        deliver(&t, "m1", &envelope(&observed(A, "2025-05-01T10:00:00Z")))
            .await
            .is_empty()
    );
    assert_eq!(env.jira.issues()[0].status, "Done");
    assert_eq!(env.slack.messages().len(), 1);

    // A recurrence: the issue is reopened and commented on, a new Slack message goes out.
    assert!(
        deliver(&t, "m3", &envelope(&observed(A, "2025-05-03T10:00:00Z")))
            .await
            .is_empty()
    );
    let issue = &env.jira.issues()[0];
    assert_eq!(issue.status, "To Do");
    assert_eq!(issue.comments.len(), 2);
    assert!(issue.comments[1]
        .to_string()
        .contains("saw this finding again after it was archived"));
    assert_eq!(env.jira.issues().len(), 1);
    assert_eq!(env.slack.messages().len(), 2);
    let items = ledger_items(&env).await;
    assert_eq!(items.iter().map(|e| e.episode).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(
        items[0].archived_at.as_deref(),
        Some("2025-05-02T10:00:00Z")
    );
    assert!(items[0].issue_closed);
}

#[tokio::test]
async fn jira_credentials_are_read_again_after_a_401() {
    let env = env().await;
    let arn = create_secret(
        &env,
        "iamwatch/jira",
        &json!({"email": "sec@example.com", "api_token": "old-token"}).to_string(),
    )
    .await;
    let jira = SecretJira::new(
        SecretsManager::new(&env.sdk),
        jira_settings(&env, arn.clone()),
        fast_retry(),
    );
    use iamwatch_core::ports::IssueTracker;
    let (issue, _) = jira.open(&sample_event(A, 85), 1, &[]).await.unwrap();
    assert_eq!(issue.key, "SEC-1");
    // The token is rotated: Jira takes only the new one, which is put in the secret.
    env.jira.require_token("new-token");
    aws_sdk_secretsmanager::Client::new(&env.sdk)
        .put_secret_value()
        .secret_id(&arn)
        .secret_string(json!({"email": "sec@example.com", "api_token": "new-token"}).to_string())
        .send()
        .await
        .unwrap();
    let (issue, created) = jira.open(&sample_event(B, 85), 1, &[]).await.unwrap();
    assert!(created);
    assert_eq!(issue.key, "SEC-2");
    let searches = env
        .jira
        .server
        .requests_to("POST", "/rest/api/3/search/jql");
    assert_eq!(
        searches.len(),
        3,
        "A's search, B's refused one, B's again with the new token"
    );
    assert_ne!(
        searches[1].header("authorization"),
        searches[2].header("authorization")
    );
    // Rotated again, but the secret still holds the old token: a retryable error naming the
    // secret, never the token.
    env.jira.require_token("newer-token");
    let err = jira
        .open(
            &sample_event("iamwatch/111122223333/iam-user-created/x", 85),
            1,
            &[],
        )
        .await
        .unwrap_err();
    assert!(err.retryable, "{err}");
    assert!(err.to_string().contains(&arn), "{err}");
    assert!(!err.to_string().contains("new-token"), "{err}");
    drop(env.moto);
}

#[tokio::test]
async fn a_bad_or_missing_secret_fails_without_showing_the_secret() {
    let env = env().await;
    let arn = create_secret(
        &env,
        "iamwatch/jira-bad",
        r#"{"email": "sec@example.com", "api_token": 97531}"#,
    )
    .await;
    use iamwatch_core::ports::IssueTracker;
    let bad = SecretJira::new(
        SecretsManager::new(&env.sdk),
        jira_settings(&env, arn),
        fast_retry(),
    );
    let err = bad.open(&sample_event(A, 85), 1, &[]).await.unwrap_err();
    assert!(!err.retryable, "{err}");
    assert!(err.message.contains("api_token"), "{err}");
    assert!(!err.to_string().contains("97531"), "{err}");
    let missing = SecretJira::new(
        SecretsManager::new(&env.sdk),
        jira_settings(
            &env,
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf".into(),
        ),
        fast_retry(),
    );
    let err = missing
        .open(&sample_event(A, 85), 1, &[])
        .await
        .unwrap_err();
    assert!(
        err.operation.starts_with("secretsmanager:GetSecretValue"),
        "{err}"
    );
    assert!(env.jira.server.requests().is_empty());
}
