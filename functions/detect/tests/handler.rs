//! The detect handler with the Memory doubles: every branch of the per-message pipeline.

use aws_lambda_events::event::sqs::SqsEvent;
use iamwatch_aws::testing::{
    port_error, records, MemoryEnricher, MemoryFindingSink, MemoryPublisher,
};
use iamwatch_core::finding::{fields, RecordState};
use iamwatch_core::{FindingContext, Label, Policy};
use iamwatch_detect::{handler, process_batch, process_batch_within, Budget, Detector, Metrics};
use iamwatch_lambda::testing::{failed_ids, message};
use iamwatch_lambda::DeadlineBudget;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};
use std::time::Duration;

const ACCOUNT: &str = "111122223333";

fn detector(policy: Policy) -> Detector<MemoryEnricher, MemoryFindingSink, MemoryPublisher> {
    Detector {
        enricher: MemoryEnricher::default().with_account(ACCOUNT, "payments-prod", &["Prod"]),
        sink: MemoryFindingSink::default(),
        publisher: MemoryPublisher::default(),
        policy,
        ctx: FindingContext::default(),
    }
}

fn envelope(event_id: &str, event_name: &str, params: Value) -> Value {
    let admin = records::iam_user(ACCOUNT, "it-admin");
    records::envelope(records::record(
        ACCOUNT,
        event_id,
        event_name,
        admin,
        params,
        Value::Null,
    ))
}

#[tokio::test]
async fn finding_is_enriched_filed_and_published() {
    let d = detector(Policy::default());
    let body = envelope("e1", "CreateUser", json!({"userName": "mallory"})).to_string();
    let mut event = SqsEvent::default();
    event.records.push(message("m1", &body));
    let resp = handler(&d, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    assert!(resp.batch_item_failures.is_empty());
    let id = format!("iamwatch/{ACCOUNT}/iam-user-created/mallory");
    let f = d.sink.get(&id).expect("filed");
    assert_eq!(f.field(fields::ACCOUNT_NAME), Some("payments-prod"));
    assert_eq!(f.field(fields::OU_PATH), Some("Prod"));
    let events = d.publisher.published();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].finding_id, id);
    assert_eq!(events[0].account_name.as_deref(), Some("payments-prod"));
    assert_eq!(events[0].record_state, RecordState::Active);
    assert_eq!(events[0].finding, f);
    assert_eq!(
        *d.enricher.calls.lock().unwrap(),
        vec![(ACCOUNT.to_string(), Some("mallory".to_string()))]
    );
}

#[tokio::test]
async fn malformed_and_forged_messages_fail_alone() {
    let d = detector(Policy::default());
    let good = |i: usize| {
        envelope(
            &format!("g{i}"),
            "CreateUser",
            json!({"userName": format!("u{i}")}),
        )
        .to_string()
    };
    let mut forged = envelope("f1", "CreateUser", json!({"userName": "x"}));
    forged["account"] = json!("999999999999");
    let mut wrong_source = envelope("f2", "CreateUser", json!({"userName": "y"}));
    wrong_source["detail"]["eventSource"] = json!("ec2.amazonaws.com");
    let mut out_of_scope = envelope("o1", "RunInstances", json!({}));
    out_of_scope["source"] = json!("aws.ec2");
    out_of_scope["detail"]["eventSource"] = json!("ec2.amazonaws.com");
    let batch = vec![
        message("ok-1", &good(1)),
        message("malformed", "{not json"),
        message("ok-2", &good(2)),
        message("forged", &forged.to_string()),
        message("wrong-source", &wrong_source.to_string()),
        message("out-of-scope", &out_of_scope.to_string()),
        message("ok-3", &good(3)),
    ];
    let (resp, m) = process_batch(&d, &batch).await;
    assert_eq!(
        failed_ids(&resp),
        vec!["malformed", "forged", "wrong-source"]
    );
    assert_eq!(m.rejected_envelopes, 3);
    assert_eq!(m.events, 7);
    assert_eq!(m.failed, 3);
    assert_eq!(d.sink.all().len(), 3);
    assert_eq!(d.publisher.published().len(), 3);
}

#[tokio::test]
async fn same_event_three_times_in_a_batch_is_filed_once() {
    let d = detector(Policy::default());
    let body = envelope("dup", "CreateUser", json!({"userName": "eve"})).to_string();
    let batch = vec![
        message("a", &body),
        message("b", &body),
        message("c", &body),
    ];
    let (resp, m) = process_batch(&d, &batch).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(m.duplicates, 2);
    assert_eq!(*d.sink.file_calls.lock().unwrap(), 1);
    assert_eq!(d.publisher.published().len(), 1);
    // Redelivered in a later batch: the same id, updated in place.
    let (resp, _) = process_batch(&d, &[message("d", &body)]).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(d.sink.all().len(), 1);
}

#[tokio::test]
async fn resolving_event_archives_the_finding_it_ends() {
    let d = detector(Policy::default());
    let create = envelope("c1", "CreateUser", json!({"userName": "temp"})).to_string();
    let other = envelope("c2", "CreateUser", json!({"userName": "keep"})).to_string();
    let delete = envelope("d1", "DeleteUser", json!({"userName": "temp"})).to_string();
    let (resp, m) = process_batch(
        &d,
        &[
            message("1", &create),
            message("2", &other),
            message("3", &delete),
        ],
    )
    .await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(m.archived, 1);
    let temp = d
        .sink
        .get(&format!("iamwatch/{ACCOUNT}/iam-user-created/temp"))
        .unwrap();
    assert_eq!(temp.record_state, RecordState::Archived);
    assert!(temp
        .field(fields::RESOLVED_BY)
        .unwrap()
        .starts_with("DeleteUser d1"));
    let keep = d
        .sink
        .get(&format!("iamwatch/{ACCOUNT}/iam-user-created/keep"))
        .unwrap();
    assert_eq!(keep.record_state, RecordState::Active);
    let last = d.publisher.published().pop().unwrap();
    assert_eq!(last.record_state, RecordState::Archived);
}

#[tokio::test]
async fn failures_fail_only_their_message() {
    let d = detector(Policy::default());
    let bad_id = format!("iamwatch/{ACCOUNT}/iam-user-created/bad");
    d.sink.fail.lock().unwrap().insert(
        bad_id.clone(),
        port_error("securityhub:BatchImportFindings", true),
    );
    let batch = vec![
        message(
            "ok",
            &envelope("e1", "CreateUser", json!({"userName": "ok"})).to_string(),
        ),
        message(
            "bad",
            &envelope("e2", "CreateUser", json!({"userName": "bad"})).to_string(),
        ),
    ];
    let (resp, m) = process_batch(&d, &batch).await;
    assert_eq!(failed_ids(&resp), vec!["bad"]);
    assert_eq!(m.findings.values().sum::<u64>(), 1);
    assert!(d.sink.get(&bad_id).is_none());

    // A publish failure fails the message too; the redelivery files the same id again.
    *d.publisher.fail.lock().unwrap() = Some(port_error("events:PutEvents", true));
    let (resp, _) = process_batch(&d, &batch[..1]).await;
    assert_eq!(failed_ids(&resp), vec!["ok"]);
    *d.publisher.fail.lock().unwrap() = None;
    let (resp, _) = process_batch(&d, &batch[..1]).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(d.sink.all().len(), 1);

    // A resolution whose lookup fails is retried too.
    *d.sink.fail_lookup.lock().unwrap() = Some(port_error("securityhub:GetFindings", true));
    let del = envelope("d9", "DeleteUser", json!({"userName": "ok"})).to_string();
    let (resp, _) = process_batch(&d, &[message("del", &del)]).await;
    assert_eq!(failed_ids(&resp), vec!["del"]);
}

#[tokio::test]
async fn suppressed_and_partially_enriched_events_are_counted() {
    let policy = Policy::from_toml(
        "[[suppress]]\nrule = \"iam-user-created\"\nuser = \"break-glass\"\nreason = \"vending\"\n",
        "policy.toml",
    )
    .unwrap();
    let d = detector(policy);
    let suppressed = envelope("s1", "CreateUser", json!({"userName": "break-glass"})).to_string();
    let mut unknown_account = envelope("u1", "CreateUser", json!({"userName": "zed"}));
    unknown_account["account"] = json!("444455556666");
    unknown_account["detail"]["recipientAccountId"] = json!("444455556666");
    let (resp, m) = process_batch(
        &d,
        &[
            message("s", &suppressed),
            message("u", &unknown_account.to_string()),
        ],
    )
    .await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(m.suppressed, 1);
    assert_eq!(m.enrichment_failures, 1);
    let f = d
        .sink
        .get("iamwatch/444455556666/iam-user-created/zed")
        .expect("filed with gaps");
    assert!(f.field(fields::ENRICHMENT).unwrap().starts_with("partial"));
    assert_eq!(d.sink.all().len(), 1);
}

#[test]
fn emf_lines_declare_their_metrics() {
    let mut m = Metrics {
        events: 3,
        suppressed: 1,
        rejected_envelopes: 1,
        ..Metrics::default()
    };
    m.findings.insert(Label::High, 2);
    let lines = m.emf_lines(1_700_000_000_000);
    assert_eq!(lines.len(), 2);
    let main: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(
        main["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "iamwatch"
    );
    assert_eq!(main["Events"], 3);
    assert_eq!(main["Findings"], 2);
    assert_eq!(main["RejectedEnvelopes"], 1);
    let names: Vec<&str> = main["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    for n in [
        "Events",
        "Findings",
        "Suppressed",
        "EnrichmentFailures",
        "RejectedEnvelopes",
    ] {
        assert!(names.contains(&n), "{n}");
    }
    let by_label: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(by_label["Label"], "HIGH");
    assert_eq!(by_label["Findings"], 2);
    assert_eq!(
        by_label["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0],
        json!(["Function", "Label"])
    );
}

async fn run_one(
    d: &Detector<MemoryEnricher, MemoryFindingSink, MemoryPublisher>,
    id: &str,
    body: &Value,
) -> Vec<String> {
    let mut event = SqsEvent::default();
    event.records.push(message(id, &body.to_string()));
    let resp = handler(d, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    failed_ids(&resp)
}

/// A rename never hides a finding: the old name's finding is archived and re-filed under the
/// new name, which a later DeleteUser of the new name ends.
#[tokio::test]
async fn a_renamed_user_takes_its_findings_along() {
    let d = detector(Policy::default());
    let created = envelope("r1", "CreateUser", json!({"userName": "contractor-jo"}));
    let renamed = envelope(
        "r2",
        "UpdateUser",
        json!({"userName": "contractor-jo", "newUserName": "svc-audit"}),
    );
    let deleted = envelope("r3", "DeleteUser", json!({"userName": "svc-audit"}));
    assert!(run_one(&d, "m1", &created).await.is_empty());
    assert!(run_one(&d, "m2", &renamed).await.is_empty());
    let old = d
        .sink
        .get(&format!(
            "iamwatch/{ACCOUNT}/iam-user-created/contractor-jo"
        ))
        .unwrap();
    assert_eq!(old.record_state, RecordState::Archived);
    let new_id = format!("iamwatch/{ACCOUNT}/iam-user-created/svc-audit");
    let new = d.sink.get(&new_id).expect("re-filed under the new name");
    assert_eq!(new.record_state, RecordState::Active);
    assert_eq!(new.field(fields::USER), Some("svc-audit"));
    assert!(run_one(&d, "m3", &deleted).await.is_empty());
    assert_eq!(
        d.sink.get(&new_id).unwrap().record_state,
        RecordState::Archived,
        "the new name's DeleteUser ends it"
    );
}

/// A successful in-scope call that does not say what it did is a failed message with its
/// reason (to the DLQ), never nothing.
#[tokio::test]
async fn an_unreadable_call_fails_with_its_reason() {
    let d = detector(Policy::default());
    let body = envelope("u1", "DeleteUser", Value::Null);
    assert_eq!(run_one(&d, "m1", &body).await, ["m1"]);
    assert!(d.sink.all().is_empty());
}

/// Sign-in events (source aws.signin) are accepted and filed like IAM calls.
#[tokio::test]
async fn a_console_sign_in_without_mfa_is_filed() {
    let d = detector(Policy::default());
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/console-login-without-mfa.json"
    );
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(sample["source"], "aws.signin");
    assert!(run_one(&d, "m1", &sample).await.is_empty());
    let filed = d.sink.all();
    assert_eq!(filed.len(), 1);
    assert_eq!(
        filed[0].field(fields::RULE_ID),
        Some("console-login-without-mfa")
    );
}

/// "Outside the organization" comes from the organization's accounts that enrichment lists:
/// a role trusting an account of the organization is no finding, an outside one is.
#[tokio::test]
async fn role_trust_is_judged_against_the_organizations_accounts() {
    let mut d = detector(Policy::default());
    d.enricher = d
        .enricher
        .with_account("222233334444", "shared-services", &["Infra"]);
    let trusting = |id: &str, account: &str| {
        let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "sts:AssumeRole"}]});
        envelope(
            id,
            "CreateRole",
            json!({"roleName": format!("r-{account}"), "assumeRolePolicyDocument": doc.to_string()}),
        )
    };
    assert!(run_one(&d, "m1", &trusting("t1", "222233334444"))
        .await
        .is_empty());
    assert!(d.sink.all().is_empty(), "an account of the organization");
    assert!(run_one(&d, "m2", &trusting("t2", "999988887777"))
        .await
        .is_empty());
    let filed = d.sink.all();
    assert_eq!(filed.len(), 1);
    assert_eq!(filed[0].field(fields::RULE_ID), Some("role-trust-opened"));
}

fn create_users(n: usize) -> Vec<aws_lambda_events::event::sqs::SqsMessage> {
    (0..n)
        .map(|i| {
            message(
                &format!("m{i}"),
                &envelope(
                    &format!("e{i}"),
                    "CreateUser",
                    json!({"userName": format!("u{i}")}),
                )
                .to_string(),
            )
        })
        .collect()
}

/// A burst: the findings of a batch are filed in one `file` call and their events published
/// in one `publish` call, not one of each per message.
#[tokio::test]
async fn a_batch_is_filed_and_published_together() {
    let d = detector(Policy::default());
    let (resp, m) = process_batch(&d, &create_users(100)).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(m.findings.values().sum::<u64>(), 100);
    assert_eq!(*d.sink.batches.lock().unwrap(), [100]);
    assert_eq!(*d.publisher.batches.lock().unwrap(), [100]);
    assert_eq!(d.sink.all().len(), 100);
    assert_eq!(d.publisher.published().len(), 100);
}

/// A finding the sink fails, or whose event the publisher fails, fails only the message it
/// came from; the others are done.
#[tokio::test]
async fn partial_failures_fail_only_their_messages() {
    let d = detector(Policy::default());
    let id = |u: &str| format!("iamwatch/{ACCOUNT}/iam-user-created/{u}");
    d.sink.fail.lock().unwrap().insert(
        id("u3"),
        port_error("securityhub:BatchImportFindings", true),
    );
    d.publisher
        .fail_ids
        .lock()
        .unwrap()
        .insert(id("u7"), port_error("events:PutEvents", true));
    let batch = create_users(10);
    let (resp, m) = process_batch(&d, &batch).await;
    assert_eq!(failed_ids(&resp), ["m3", "m7"]);
    assert_eq!(m.failed, 2);
    assert_eq!(m.findings.values().sum::<u64>(), 8);
    assert!(d.sink.get(&id("u3")).is_none());
    assert!(
        d.sink.get(&id("u7")).is_some(),
        "filed, its event not published"
    );
    assert_eq!(d.publisher.published().len(), 8);
    // The redelivery of the failed messages files and publishes them, the same ids.
    d.sink.fail.lock().unwrap().clear();
    d.publisher.fail_ids.lock().unwrap().clear();
    let again = vec![batch[3].clone(), batch[7].clone()];
    let (resp, _) = process_batch(&d, &again).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(d.sink.all().len(), 10);
    assert_eq!(d.publisher.published().len(), 10);
}

/// Order is kept where it matters: a resolution in the batch sees the findings staged before
/// it, and a finding staged twice is filed and published in both states, in order.
#[tokio::test]
async fn a_resolution_sees_the_findings_staged_before_it() {
    let d = detector(Policy::default());
    let mut batch = create_users(3);
    batch.push(message(
        "del",
        &envelope("d1", "DeleteUser", json!({"userName": "u1"})).to_string(),
    ));
    batch.push(message(
        "again",
        &envelope("e9", "CreateUser", json!({"userName": "u1"})).to_string(),
    ));
    let (resp, m) = process_batch(&d, &batch).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(m.archived, 1);
    // Flushed before the resolution's lookup, then the archive, then the re-created user's
    // finding after the archived state of the same id.
    assert_eq!(*d.sink.batches.lock().unwrap(), [3, 1, 1]);
    let u1 = format!("iamwatch/{ACCOUNT}/iam-user-created/u1");
    let states: Vec<RecordState> = d
        .publisher
        .published()
        .iter()
        .filter(|e| e.finding_id == u1)
        .map(|e| e.record_state)
        .collect();
    assert_eq!(
        states,
        [
            RecordState::Active,
            RecordState::Archived,
            RecordState::Active
        ]
    );
    assert_eq!(d.sink.get(&u1).unwrap().record_state, RecordState::Active);
}

fn short_budget() -> Budget {
    Budget {
        deadline: DeadlineBudget {
            message: Duration::from_millis(200),
            margin: Duration::from_millis(100),
        },
        flush_reserve: Duration::from_millis(500),
    }
}

/// Near the deadline no message is started: all are left for redelivery, nothing is filed.
#[tokio::test]
async fn messages_are_not_started_near_the_deadline() {
    let d = detector(Policy::default());
    let batch = create_users(3);
    let deadline = iamwatch_lambda::deadline::now_ms() + 600;
    let (resp, m) = process_batch_within(&d, &batch, deadline, &short_budget()).await;
    assert_eq!(failed_ids(&resp), ["m0", "m1", "m2"]);
    assert_eq!(m.failed, 3);
    assert_eq!(*d.sink.file_calls.lock().unwrap(), 0);
}

/// Filing that does not end before the deadline is cut off the margin before it, and the
/// messages whose findings it held fail (retryable) instead of the invocation timing out.
#[tokio::test]
async fn filing_is_cut_off_before_the_deadline() {
    let d = detector(Policy::default());
    *d.sink.delay.lock().unwrap() = Duration::from_secs(60);
    let batch = create_users(3);
    let started = std::time::Instant::now();
    let deadline = iamwatch_lambda::deadline::now_ms() + 1_500;
    let (resp, m) = process_batch_within(&d, &batch, deadline, &short_budget()).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(failed_ids(&resp), ["m0", "m1", "m2"]);
    assert_eq!(m.findings.values().sum::<u64>(), 0);
    assert!(d.publisher.published().is_empty());
}

/// Each (account, user) of a batch is enriched once, whatever the number of its events.
#[tokio::test]
async fn each_user_of_a_batch_is_enriched_once() {
    let d = detector(Policy::default());
    let mut batch = create_users(5);
    for i in 0..5 {
        batch.push(message(
            &format!("p{i}"),
            &envelope(
                &format!("p{i}"),
                "CreateLoginProfile",
                json!({"userName": format!("u{i}")}),
            )
            .to_string(),
        ));
    }
    let (resp, m) = process_batch(&d, &batch).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(m.findings.values().sum::<u64>(), 10);
    let mut calls = d.enricher.calls.lock().unwrap().clone();
    calls.sort();
    let expected: Vec<(String, Option<String>)> = (0..5)
        .map(|i| (ACCOUNT.to_string(), Some(format!("u{i}"))))
        .collect();
    assert_eq!(calls, expected);
}
