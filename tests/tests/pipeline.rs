//! End-to-end: CloudTrail-shaped envelopes -> (EventBridge ->) SQS -> detect handler ->
//! Security Hub findings in the member account and finding events on the bus, against moto.

use iamwatch_core::finding::{fields, Finding, RecordState};
use iamwatch_core::rules;
use iamwatch_core::Label;
use iamwatch_e2e::events;
use iamwatch_e2e::org::{Account, TICKET_MIN_SCORE};
use iamwatch_e2e::pipeline::{test_policy, Pipeline};
use iamwatch_e2e::proxy::Fault;
use serde_json::Value;

async fn pipeline() -> Pipeline {
    Pipeline::start(test_policy())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Creates the envelope's target user (and the caller's user) in the account, as the event
/// says happened; ignores users that exist.
async fn prepare_users(account: &Account, envelope: &Value) {
    let iam = aws_sdk_iam::Client::new(&account.sdk);
    if let Some(u) = events::target_user(envelope) {
        if u != "root" {
            let _ = iam.create_user().user_name(&u).send().await;
        }
    }
}

fn find<'a>(findings: &'a [Finding], rule: &str) -> Option<&'a Finding> {
    findings.iter().find(|f| f.rule_id() == Some(rule))
}

fn factors(f: &Finding) -> Vec<&str> {
    f.field(fields::FACTORS)
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn every_rule_through_sqs_and_eventbridge() {
    iamwatch_e2e::run(|| async move {
        let p = pipeline().await;
        let sec = &p.org.security;
        // Direct SQS: every rule in the Prod account, the user-created rule also in Sandbox.
        let mut sent = 0;
        for rule in rules::ids() {
            let env = events::for_rule(rule, &p.org.prod.id).expect("envelope");
            prepare_users(&p.org.prod, &env).await;
            p.send(&env.to_string()).await.unwrap();
            sent += 1;
        }
        let sandbox_env = events::build(
            "iam-user-created",
            &p.org.sandbox.id,
            "sandbox-user",
            "AKIA0",
        )
        .unwrap();
        prepare_users(&p.org.sandbox, &sandbox_env).await;
        p.send(&sandbox_env.to_string()).await.unwrap();
        sent += 1;
        // EventBridge: every rule in the security account itself, PutEvents -> rule -> queue.
        // (moto stamps the envelope's `account` with the PutEvents caller's account, so events
        // put by the security account are consistent only when they happened there.)
        let bus = aws_sdk_eventbridge::Client::new(&sec.sdk);
        for rule in rules::ids() {
            let env = events::for_rule(rule, &sec.id).expect("envelope");
            prepare_users(sec, &env).await;
            let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .event_bus_name(iamwatch_e2e::org::BUS)
                .source(env["source"].as_str().unwrap())
                .detail_type(env["detail-type"].as_str().unwrap())
                .detail(env["detail"].to_string())
                .build();
            let out = bus.put_events().entries(entry).send().await.unwrap();
            assert_eq!(out.failed_entry_count(), 0);
            sent += 1;
        }
        let failed = p.drain(10).await.unwrap();
        assert!(failed.is_empty(), "failed messages: {failed:?}");

        let prod = p.findings(&p.org.prod.sdk).await.unwrap();
        let sandbox = p.findings(&p.org.sandbox.sdk).await.unwrap();
        let security = p.findings(&sec.sdk).await.unwrap();
        assert_eq!(
            prod.len() + sandbox.len() + security.len(),
            sent,
            "one finding per event"
        );
        for (findings, account) in [(&prod, &p.org.prod), (&security, sec)] {
            for rule in rules::ids() {
                let f = find(findings, rule)
                    .unwrap_or_else(|| panic!("{rule} missing in {}", account.name));
                assert_eq!(f.generator_id, format!("iamwatch/{rule}"));
                assert_eq!(f.aws_account_id, account.id);
                assert!(f
                    .id
                    .starts_with(&format!("iamwatch/{}/{rule}/", account.id)));
                assert_eq!(
                    f.field(fields::ACCOUNT_NAME),
                    Some(account.name.as_str()),
                    "{rule}"
                );
                assert_eq!(
                    f.field(fields::OU_PATH),
                    Some(account.ou.as_str()),
                    "{rule}"
                );
                assert_eq!(
                    f.field(fields::ENRICHMENT),
                    Some("complete"),
                    "{rule}: {:?}",
                    f.field(fields::ENRICHMENT)
                );
                let score = f.score();
                assert_eq!(f.field(fields::SCORE), Some(score.to_string().as_str()));
                assert_eq!(f.severity.label, Label::from_score(score), "{rule}");
                assert_eq!(f.record_state, RecordState::Active);
                if account.ou == "Prod" {
                    assert!(
                        factors(f).contains(&"critical-account"),
                        "{rule}: {:?}",
                        factors(f)
                    );
                }
            }
        }
        let sb = find(&sandbox, "iam-user-created").expect("sandbox finding");
        assert!(factors(sb).contains(&"sandbox-account"));
        assert_eq!(sb.field(fields::ACCOUNT_NAME), Some("dev-sandbox"));

        // Finding events: every finding on the all-findings queue, the urgent ones on the ticket queue.
        let all = p.finding_events(&p.org.findings_queue_url).await.unwrap();
        // The rename sample also moves the renamed user's other findings, if any: the old one
        // archived (RefiledAs) and the new one filed (RenamedFrom).
        let moved = |e: &&iamwatch_core::finding_event::FindingEvent| {
            e.finding.field(fields::REFILED_AS).is_some()
                || e.finding.field(fields::RENAMED_FROM).is_some()
        };
        assert_eq!(all.iter().filter(|e| !moved(e)).count(), sent);
        // The ticket queue gets the urgent active findings (and archives, which end tickets).
        let tickets: Vec<_> = p
            .finding_events(&p.org.tickets_queue_url)
            .await
            .unwrap()
            .into_iter()
            .filter(|t| t.record_state == RecordState::Active)
            .collect();
        let urgent: Vec<&Finding> = prod
            .iter()
            .chain(&sandbox)
            .chain(&security)
            .filter(|f| f.score() >= TICKET_MIN_SCORE)
            .collect();
        assert!(!urgent.is_empty());
        assert_eq!(tickets.len(), urgent.len());
        for t in &tickets {
            assert!(t.score >= TICKET_MIN_SCORE);
            assert_eq!(t.record_state, RecordState::Active);
            let f = urgent
                .iter()
                .find(|f| f.id == t.finding_id)
                .expect("ticketed finding is filed");
            assert_eq!(t.finding, **f);
            assert_eq!(
                t.runbook_url,
                format!(
                    "{}/{}.md",
                    iamwatch_e2e::pipeline::RUNBOOK_BASE_URL,
                    t.rule_id
                )
            );
            assert!(t.account_name.is_some());
        }
    });
}

#[test]
fn resolving_event_archives_its_finding() {
    iamwatch_e2e::run(|| async move {
        let p = pipeline().await;
        let prod = &p.org.prod;
        let create = events::build("iam-user-created", &prod.id, "temp-user", "AKIA0").unwrap();
        let keep = events::build("console-password-created", &prod.id, "keeper", "AKIA0").unwrap();
        prepare_users(prod, &create).await;
        prepare_users(prod, &keep).await;
        for e in [&create, &keep] {
            p.send(&e.to_string()).await.unwrap();
        }
        assert!(p.drain(5).await.unwrap().is_empty());
        let delete = events::delete_user(&prod.id, "temp-user", "evt-delete-temp");
        p.send(&delete.to_string()).await.unwrap();
        assert!(p.drain(5).await.unwrap().is_empty());

        let findings = p.findings(&prod.sdk).await.unwrap();
        let temp = find(&findings, "iam-user-created").unwrap();
        assert_eq!(temp.record_state, RecordState::Archived);
        assert_eq!(
            temp.field(fields::RESOLVED_BY),
            Some("DeleteUser evt-delete-temp")
        );
        assert!(temp.updated_at > temp.created_at || temp.updated_at != temp.created_at);
        let kept = find(&findings, "console-password-created").unwrap();
        assert_eq!(kept.record_state, RecordState::Active);
        let events = p.finding_events(&p.org.findings_queue_url).await.unwrap();
        let archived: Vec<_> = events
            .iter()
            .filter(|e| e.record_state == RecordState::Archived)
            .collect();
        assert_eq!(archived.len(), 1);
        assert_eq!(archived[0].finding_id, temp.id);
    });
}

#[test]
fn same_message_three_times_makes_one_finding_and_one_ticket() {
    iamwatch_e2e::run(|| async move {
        let p = pipeline().await;
        let prod = &p.org.prod;
        let env = events::build(
            "root-access-key-created",
            &prod.id,
            "root",
            "AKIAROOTKEY000000001",
        )
        .unwrap();
        for _ in 0..3 {
            p.send(&env.to_string()).await.unwrap();
        }
        let (resp, messages) = p.run_detect().await.unwrap();
        assert_eq!(messages.len(), 3);
        assert!(resp.batch_item_failures.is_empty());
        let findings = p.findings(&prod.sdk).await.unwrap();
        assert_eq!(findings.len(), 1);
        let tickets = p.finding_events(&p.org.tickets_queue_url).await.unwrap();
        assert_eq!(tickets.len(), 1, "one ticket event");
        assert_eq!(tickets[0].finding_id, findings[0].id);
        assert_eq!(tickets[0].label, Label::Critical);

        // Redelivered later, in another batch: the same finding is updated, not duplicated.
        p.send(&env.to_string()).await.unwrap();
        assert!(p.drain(3).await.unwrap().is_empty());
        assert_eq!(p.findings(&prod.sdk).await.unwrap().len(), 1);
    });
}

#[test]
fn malformed_and_forged_messages_fail_alone() {
    iamwatch_e2e::run(|| async move {
        let p = pipeline().await;
        let prod = &p.org.prod;
        let mut ids = Vec::new();
        for (i, rule) in [
            "iam-user-created",
            "console-password-created",
            "user-permissions-changed",
        ]
        .iter()
        .enumerate()
        {
            let env = events::build(rule, &prod.id, &format!("good-{i}"), "AKIA0").unwrap();
            prepare_users(prod, &env).await;
            ids.push(p.send(&env.to_string()).await.unwrap());
        }
        let malformed = p.send("{\"version\": \"0\", \"detail\": ").await.unwrap();
        let mut forged = events::build("iam-user-created", &prod.id, "forged", "AKIA0").unwrap();
        forged["account"] = serde_json::json!(p.org.sandbox.id);
        let forged = p.send(&forged.to_string()).await.unwrap();
        let (resp, messages) = p.run_detect().await.unwrap();
        assert_eq!(messages.len(), 5);
        let mut failed: Vec<String> = resp
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        failed.sort();
        let mut expected = vec![malformed, forged];
        expected.sort();
        assert_eq!(failed, expected);
        assert_eq!(p.findings(&prod.sdk).await.unwrap().len(), 3);
        assert!(p.findings(&p.org.sandbox.sdk).await.unwrap().is_empty());
    });
}

#[test]
fn throttling_and_server_errors_are_retried() {
    iamwatch_e2e::run(|| async move {
        let p = pipeline().await;
        let prod = &p.org.prod;
        for (op, fault) in [
            ("BatchImportFindings", Fault::Throttle),
            ("GetUser", Fault::Throttle),
            ("ListParents", Fault::ServerError),
            ("DescribeAccount", Fault::Throttle),
            ("AssumeRole", Fault::ServerError),
            ("PutEvents", Fault::ServerError),
        ] {
            p.proxy.inject(op, fault, 2);
        }
        let env = events::build(
            "admin-access-granted-to-user",
            &prod.id,
            "escalated",
            "AKIA0",
        )
        .unwrap();
        prepare_users(prod, &env).await;
        p.send(&env.to_string()).await.unwrap();
        let failed = p.drain(3).await.unwrap();
        assert!(failed.is_empty(), "{failed:?}");
        for op in [
            "BatchImportFindings",
            "GetUser",
            "ListParents",
            "DescribeAccount",
            "AssumeRole",
            "PutEvents",
        ] {
            assert_eq!(p.proxy.faults(op), 2, "{op}");
            assert!(p.proxy.requests(op) > 2, "{op} retried");
        }
        let findings = p.findings(&prod.sdk).await.unwrap();
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].field(fields::ENRICHMENT), Some("complete"));
        assert_eq!(
            p.finding_events(&p.org.findings_queue_url)
                .await
                .unwrap()
                .len(),
            1
        );
    });
}

#[test]
fn outage_fails_the_message_and_the_redelivery_files_it() {
    iamwatch_e2e::run(|| async move {
        let p = pipeline().await;
        let prod = &p.org.prod;
        // More throttling than the SDK's 5 attempts: the first invocation fails the message.
        p.proxy.inject("BatchImportFindings", Fault::Throttle, 5);
        let env = events::build(
            "access-key-created-for-other-user",
            &prod.id,
            "svc",
            "AKIASVC0000000000001",
        )
        .unwrap();
        prepare_users(prod, &env).await;
        let id = p.send(&env.to_string()).await.unwrap();
        let (resp, messages) = p.run_detect().await.unwrap();
        assert_eq!(resp.batch_item_failures.len(), 1);
        assert_eq!(resp.batch_item_failures[0].item_identifier, id);
        assert!(p.findings(&prod.sdk).await.unwrap().is_empty());
        p.redeliver(&messages).await.unwrap();
        assert!(p.drain(3).await.unwrap().is_empty());
        assert_eq!(p.findings(&prod.sdk).await.unwrap().len(), 1);
        assert_eq!(
            p.finding_events(&p.org.findings_queue_url)
                .await
                .unwrap()
                .len(),
            1
        );
    });
}

#[test]
fn access_denied_degrades_enrichment_and_falls_back_to_the_security_account() {
    iamwatch_e2e::run(|| async move {
        let p = pipeline().await;
        let prod = &p.org.prod;
        p.proxy.inject("GetUser", Fault::AccessDenied, 1);
        p.proxy.inject("DescribeAccount", Fault::AccessDenied, 1);
        p.proxy
            .inject("BatchImportFindings", Fault::AccessDenied, 1);
        let env =
            events::build("console-password-created", &prod.id, "denied-user", "AKIA0").unwrap();
        prepare_users(prod, &env).await;
        p.send(&env.to_string()).await.unwrap();
        assert!(p.drain(3).await.unwrap().is_empty());
        // Denied calls are not retried.
        assert_eq!(p.proxy.requests("GetUser"), 1);
        assert!(p.findings(&prod.sdk).await.unwrap().is_empty());
        let sec = p.findings(&p.org.security.sdk).await.unwrap();
        assert_eq!(sec.len(), 1);
        let f = &sec[0];
        assert!(
            f.id.starts_with(&format!("iamwatch/{}/", prod.id)),
            "the id keeps the member account"
        );
        assert_eq!(f.aws_account_id, p.org.security.id);
        assert_eq!(
            f.product_arn,
            format!(
                "arn:aws:securityhub:us-east-1:{0}:product/{0}/default",
                p.org.security.id
            )
        );
        assert_eq!(f.field(fields::FILED_IN), Some(p.org.security.id.as_str()));
        let enrichment = f.field(fields::ENRICHMENT).unwrap();
        assert!(enrichment.starts_with("partial"), "{enrichment}");
        assert!(enrichment.contains("AccessDenied"), "{enrichment}");
        let events = p.finding_events(&p.org.findings_queue_url).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].account_id, prod.id);
        assert_eq!(
            events[0].finding, *f,
            "the event carries the finding as filed"
        );

        // Deleting the user archives the fallback finding in the security account.
        let mut delete = events::delete_user(&prod.id, "denied-user", "evt-del");
        // After the sample's creation time: a resolving event ends what came before it.
        delete["detail"]["eventTime"] = serde_json::json!("2026-11-30T00:00:00Z");
        p.send(&delete.to_string()).await.unwrap();
        assert!(p.drain(3).await.unwrap().is_empty());
        let sec = p.findings(&p.org.security.sdk).await.unwrap();
        assert_eq!(sec[0].record_state, RecordState::Archived);
    });
}
