//! The detect function on bursts, against moto through the proxy: a batch's findings filed in
//! batched `BatchImportFindings` and `PutEvents` calls, each user and account read once, and
//! partial failures (`FailedFindings`, failed `PutEvents` entries) retried within the
//! invocation and then failing only the messages they came from.

use iamwatch_e2e::events;
use iamwatch_e2e::org::Account;
use iamwatch_e2e::pipeline::{test_policy, Pipeline};
use serde_json::Value;

async fn pipeline() -> Pipeline {
    Pipeline::start(test_policy())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The envelope of `rule` about `user` with its own event id.
fn event(rule: &str, account: &Account, user: &str, n: usize) -> Value {
    let key = format!("AKIABURST{n:011}");
    let mut env = events::build(rule, &account.id, user, &key).expect("sample");
    env["detail"]["eventID"] = Value::from(format!("burst-{rule}-{user}"));
    env
}

/// Creates the users and queues, per user, a CreateUser and a CreateAccessKey (for another
/// user) event; returns the number of messages.
async fn queue_burst(p: &Pipeline, prefix: &str, users: usize) -> usize {
    let prod = &p.org.prod;
    let iam = aws_sdk_iam::Client::new(&prod.sdk);
    let mut sent = 0;
    for i in 0..users {
        let user = format!("{prefix}-{i}");
        iam.create_user().user_name(&user).send().await.unwrap();
        for rule in ["iam-user-created", "access-key-created-for-other-user"] {
            let env = event(rule, prod, &user, i);
            p.send(&env.to_string()).await.unwrap();
            sent += 1;
        }
    }
    sent
}

#[test]
fn a_burst_in_one_account_is_filed_in_batched_calls_and_read_once() {
    iamwatch_e2e::run(|| async move {
        let p = pipeline().await;
        let sent = queue_burst(&p, "burst", 50).await;
        assert_eq!(sent, 100);
        let (resp, messages) = p.run_detect_batch(100).await.unwrap();
        assert_eq!(messages.len(), 100);
        assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
        // One import of 100 findings, ten PutEvents of ten.
        assert_eq!(p.proxy.requests("BatchImportFindings"), 1);
        assert_eq!(p.proxy.requests("PutEvents"), 10);
        // Each user's state read once for its two events, the account once, each role
        // assumed once (the member role in the account, the org reader).
        assert_eq!(p.proxy.requests("GetUser"), 50);
        assert_eq!(p.proxy.requests("ListAccessKeys"), 50);
        assert_eq!(p.proxy.requests("DescribeAccount"), 1);
        assert_eq!(p.proxy.requests("ListAccounts"), 1);
        assert_eq!(p.proxy.requests("AssumeRole"), 2);
        let findings = p.findings(&p.org.prod.sdk).await.unwrap();
        assert_eq!(findings.len(), 100);
        let events = p.finding_events(&p.org.findings_queue_url).await.unwrap();
        assert_eq!(events.len(), 100);
        let mut ids: Vec<&str> = events.iter().map(|e| e.finding_id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 100, "each finding's event once");
    });
}

#[test]
fn partial_failures_are_retried_and_then_fail_only_their_messages() {
    iamwatch_e2e::run(|| async move {
        let p = pipeline().await;
        let prod = &p.org.prod;
        let iam = aws_sdk_iam::Client::new(&prod.sdk);
        let mut ids = Vec::new();
        for i in 0..10 {
            let user = format!("pf-{i}");
            iam.create_user().user_name(&user).send().await.unwrap();
            let env = event("iam-user-created", prod, &user, i);
            ids.push(p.send(&env.to_string()).await.unwrap());
        }
        // pf-3: throttled once in FailedFindings, imported again within the invocation.
        p.proxy
            .fail_items("BatchImportFindings", "/pf-3\"", "ThrottlingException", 1);
        // pf-5: an internal error in each of the four imports: its message fails after them.
        p.proxy
            .fail_items("BatchImportFindings", "/pf-5\"", "InternalException", 4);
        // pf-7: its event throttled once, sent again; pf-8: its event refused for good.
        p.proxy
            .fail_items("PutEvents", "/pf-7\"", "ThrottlingException", 1);
        p.proxy
            .fail_items("PutEvents", "/pf-8\"", "InvalidArgument", 1);
        let (resp, messages) = p.run_detect_batch(100).await.unwrap();
        assert_eq!(messages.len(), 10);
        let mut failed: Vec<&str> = resp
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        failed.sort();
        let mut expected = vec![ids[5].as_str(), ids[8].as_str()];
        expected.sort();
        assert_eq!(failed, expected);
        // pf-5 was imported four times in all (the first import and three more).
        assert_eq!(p.proxy.requests("BatchImportFindings"), 4);
        assert_eq!(p.proxy.failed_items("BatchImportFindings"), 5);
        assert_eq!(p.proxy.requests("PutEvents"), 2);
        assert_eq!(p.proxy.failed_items("PutEvents"), 2);
        let filed = p.findings(&prod.sdk).await.unwrap();
        assert_eq!(filed.len(), 9, "all but pf-5");
        // SQS redelivers the two failed messages; they file and publish what was missing.
        let retry: Vec<_> = messages
            .iter()
            .filter(|m| failed.contains(&m.message_id().unwrap_or_default()))
            .cloned()
            .collect();
        p.redeliver(&retry).await.unwrap();
        assert!(p.drain(3).await.unwrap().is_empty());
        assert_eq!(p.findings(&prod.sdk).await.unwrap().len(), 10);
        let events = p.finding_events(&p.org.findings_queue_url).await.unwrap();
        let mut published: Vec<&str> = events.iter().map(|e| e.finding_id.as_str()).collect();
        published.sort();
        let n = published.len();
        published.dedup();
        assert_eq!((n, published.len()), (10, 10), "every event once");
    });
}
