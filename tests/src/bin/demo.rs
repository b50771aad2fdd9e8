//! The local demo, no AWS account needed: `scripts/demo.sh` (or `cargo run -p iamwatch-e2e
//! --bin demo`).
//!
//! 1. starts moto and creates a small organization (management account, OUs Prod, Sandbox,
//!    Security; accounts payments-prod, dev-sandbox, security) with the central bus, queues
//!    and rules of the security account;
//! 2. sends the sample events of `events/` (one per rule), moved into the org's accounts,
//!    to the central bus (`PutEvents` -> rule `iam-events` -> queue `iamwatch-events`);
//! 3. runs the detect handler on what the queue delivers, and prints the Security Hub
//!    findings of each account;
//! 4. runs the ticket handler on what reached the tickets queue from the findings bus
//!    `iamwatch-findings` (findings >= HIGH), with its ledger in moto's DynamoDB, against local
//!    stand-ins for Jira and Slack, and prints the tickets and messages.
//!
//! `-v` shows the handlers' JSON logs on stderr.

use anyhow::{anyhow, Context};
use iamwatch_aws::{DynamoDbLedger, SecurityHubWriteBack, SqsDeadLetters};
use iamwatch_core::finding::{fields, Finding};
use iamwatch_core::rules;
use iamwatch_core::Policy;
use iamwatch_e2e::org::{Account, TestOrg, BUS};
use iamwatch_e2e::pipeline::Pipeline;
use iamwatch_e2e::{events, sqs};
use iamwatch_notify::testing::{FakeJira, FakeSlack};
use iamwatch_notify::{JiraConfig, JiraCredentials, JiraTicketSink, SlackNotifier, SlackWebhook};
use iamwatch_ticket::{lambda_retry_policy, Ticketer, DEFAULT_CLAIM_LEASE, DEFAULT_MESSAGE_BUDGET};
use serde_json::Value;

fn main() -> anyhow::Result<()> {
    let verbose = std::env::args().any(|a| a == "-v" || a == "--verbose");
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(if verbose { "info" } else { "off" })
        .init();
    iamwatch_e2e::run(|| async {
        if let Err(e) = demo().await {
            eprintln!("demo failed: {e:#}");
            std::process::exit(1);
        }
    });
    Ok(())
}

fn policy() -> anyhow::Result<Policy> {
    let path = events::events_dir().join("../examples/policy.toml");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Policy::from_toml(&text, "examples/policy.toml")?),
        Err(_) => Ok(iamwatch_e2e::pipeline::test_policy()),
    }
}

/// The org account a sample account id is moved into: the samples' accounts, in order of
/// first appearance, become payments-prod, dev-sandbox and security.
fn account_for<'a>(org: &'a TestOrg, seen: &mut Vec<String>, sample_account: &str) -> &'a Account {
    if !seen.iter().any(|s| s == sample_account) {
        seen.push(sample_account.to_string());
    }
    let i = seen.iter().position(|s| s == sample_account).unwrap_or(0);
    [&org.prod, &org.sandbox, &org.security][i % 3]
}

async fn demo() -> anyhow::Result<()> {
    println!("== starting moto and creating the organization");
    let policy = policy()?;
    let min_score = policy.ticket_min_severity.min_score();
    let p = Pipeline::start(policy).await?;
    println!("   moto at {}", p.moto.endpoint());
    for a in [&p.org.prod, &p.org.sandbox, &p.org.security] {
        println!("   account {} {:<14} OU {}", a.id, a.name, a.ou);
    }

    println!("\n== sending the sample events through EventBridge");
    let bus = aws_sdk_eventbridge::Client::new(&p.org.security.sdk);
    let mut seen = Vec::new();
    let mut sent = 0;
    for rule in rules::ids() {
        let path = events::events_dir().join(format!("{rule}.json"));
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let sample: Value = serde_json::from_str(&text)?;
        let sample_account = sample["detail"]["recipientAccountId"]
            .as_str()
            .unwrap_or_default();
        let account = account_for(&p.org, &mut seen, sample_account);
        let env = events::sample(rule, &account.id).ok_or_else(|| anyhow!("sample {rule}"))?;
        if let Some(u) = events::target_user(&env).filter(|u| u != "root") {
            let _ = aws_sdk_iam::Client::new(&account.sdk)
                .create_user()
                .user_name(u)
                .send()
                .await;
        }
        // moto stamps an envelope's `account` with the PutEvents caller's account, so the
        // events of member accounts (forwarded by their rule in AWS) are queued as the central
        // rule delivers them; the security account's own events go through PutEvents.
        if account.id == p.org.security.id {
            let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .event_bus_name(BUS)
                .source("aws.iam")
                .detail_type("AWS API Call via CloudTrail")
                .detail(env["detail"].to_string())
                .build();
            bus.put_events().entries(entry).send().await?;
            println!(
                "   {rule:<40} {:<14} PutEvents -> iam-events -> SQS",
                account.name
            );
        } else {
            p.send(&env.to_string()).await?;
            println!("   {rule:<40} {:<14} forwarded -> SQS", account.name);
        }
        sent += 1;
    }

    println!("\n== running the detect handler on the events queue");
    let failed = p.drain(5).await?;
    println!("   {sent} events, {} failed messages", failed.len());

    println!("\n== findings in Security Hub");
    for a in [&p.org.prod, &p.org.sandbox, &p.org.security] {
        let mut findings: Vec<Finding> = p.findings(&a.sdk).await?;
        findings.sort_by_key(|f| std::cmp::Reverse(f.score()));
        println!("   {} ({}):", a.name, a.id);
        for f in &findings {
            println!(
                "     {:>3} {:<8} {:<40} factors: {}",
                f.score(),
                f.severity.label.as_str(),
                f.rule_id().unwrap_or("?"),
                f.field(fields::FACTORS)
                    .filter(|s| !s.is_empty())
                    .unwrap_or("-"),
            );
        }
    }

    println!(
        "\n== running the ticket handler on the tickets queue (findings >= score {min_score})"
    );
    let jira = FakeJira::start().await?;
    let slack = FakeSlack::start().await?;
    let ticketer = Ticketer {
        jira: Some(JiraTicketSink::new(JiraConfig::new(
            &jira.url(),
            "SEC",
            JiraCredentials {
                email: "demo@example.com".into(),
                api_token: "demo-token".into(),
            },
        ))?),
        slack: Some(SlackNotifier::new(
            SlackWebhook {
                webhook_url: slack.webhook_url(),
            },
            lambda_retry_policy(),
        )?),
        write_back: SecurityHubWriteBack::new(iamwatch_aws::AccountClients::new(
            p.org.security.sdk.clone(),
            "iamwatch-writeback",
        )),
        ledger: DynamoDbLedger::new(&p.org.security.sdk, iamwatch_e2e::org::LEDGER_TABLE),
        dead_letters: Some(SqsDeadLetters::new(
            &p.org.security.sdk,
            p.org.tickets_dlq_url.clone(),
        )),
        security_account: p.org.security.id.clone(),
        min_score,
        message_budget: DEFAULT_MESSAGE_BUDGET,
        claim_lease: DEFAULT_CLAIM_LEASE,
    };
    let mut messages = sqs::receive(&p.org.security.sdk, &p.org.tickets_queue_url, 100).await?;
    // moto's EventBridge leaves `account` out of the envelopes it delivers; AWS always sets it
    // to the account of the bus the event was put on (here the security account's findings bus),
    // and the ticket function refuses an envelope without it. Set it as AWS would.
    for m in &mut messages {
        if let Some(body) = m.body() {
            let mut v: Value = serde_json::from_str(body)?;
            if v.get("account").is_none() {
                v["account"] = Value::from(p.org.security.id.clone());
                *m = aws_sdk_sqs::types::Message::builder()
                    .set_message_id(m.message_id().map(str::to_string))
                    .set_receipt_handle(m.receipt_handle().map(str::to_string))
                    .body(v.to_string())
                    .build();
            }
        }
    }
    for chunk in messages.chunks(10) {
        let event = sqs::sqs_event(chunk, "arn:aws:sqs:us-east-1:0:iamwatch-tickets");
        let resp = iamwatch_ticket::handler(&ticketer, sqs::lambda_event(event))
            .await
            .map_err(|e| anyhow!("ticket handler: {e}"))?;
        if !resp.batch_item_failures.is_empty() {
            println!(
                "   {} ticket messages failed",
                resp.batch_item_failures.len()
            );
        }
    }
    println!(
        "   {} finding events reached the ticket queue",
        messages.len()
    );
    for issue in jira.issues() {
        println!(
            "   Jira {}  {}",
            issue.key,
            issue.fields["summary"].as_str().unwrap_or("")
        );
    }
    println!("   {} Slack messages posted", slack.messages().len());
    println!(
        "   {} ledger entries in DynamoDB table {}",
        aws_sdk_dynamodb::Client::new(&p.org.security.sdk)
            .scan()
            .table_name(iamwatch_e2e::org::LEDGER_TABLE)
            .send()
            .await?
            .count(),
        iamwatch_e2e::org::LEDGER_TABLE
    );
    println!("\n(moto's Security Hub lacks BatchUpdateFindings: the ticket write-back is logged and skipped)");
    Ok(())
}
