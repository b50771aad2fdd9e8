//! SlackNotifier against a fake incoming webhook served in the test process: the Block Kit
//! payload that went over the wire and the retry behaviour.

use iamwatch_core::ports::{Notifier, TicketRef};
use iamwatch_notify::testing::{sample_event, Canned, FakeSlack};
use iamwatch_notify::{RetryPolicy, SlackNotifier, SlackWebhook};
use serde_json::Value;
use std::time::Duration;

const FINDING: &str = "iamwatch/111122223333/iam-user-created/backdoor";

fn notifier(slack: &FakeSlack) -> SlackNotifier {
    SlackNotifier::new(
        SlackWebhook {
            webhook_url: slack.webhook_url(),
        },
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(2),
            timeout: Duration::from_millis(500),
        },
    )
    .expect("valid webhook")
}

fn ticket() -> TicketRef {
    TicketRef {
        key: "SEC-7".into(),
        url: "https://example.atlassian.net/browse/SEC-7".into(),
        created: true,
    }
}

fn field_texts(block: &Value) -> Vec<String> {
    block["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|x| x["text"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn posts_block_kit_with_severity_account_actor_why_and_links() {
    let slack = FakeSlack::start().await.unwrap();
    let event = sample_event(FINDING, 85);
    notifier(&slack)
        .notify(&event, Some(&ticket()))
        .await
        .unwrap();

    let requests = slack.server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, FakeSlack::PATH);
    assert!(requests[0]
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));

    let msg = requests[0].json();
    let text = msg["text"].as_str().unwrap();
    assert!(
        text.starts_with("[HIGH 85] IAM user backdoor created in payments-prod"),
        "{text}"
    );
    assert!(text.contains("(SEC-7)"), "{text}");

    let blocks = msg["blocks"].as_array().unwrap();
    let kinds: Vec<_> = blocks.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["header", "section", "section", "section", "section", "context"]
    );

    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert_eq!(
        blocks[0]["text"]["text"],
        "HIGH 85: IAM user backdoor created in payments-prod"
    );
    assert!(blocks[1]["text"]["text"]
        .as_str()
        .unwrap()
        .contains("created IAM user backdoor"));

    let fields = field_texts(&blocks[2]);
    assert_eq!(
        fields,
        [
            "*Account*\npayments-prod (111122223333)",
            "*OU*\nWorkloads / Prod",
            "*Actor*\n`arn:aws:iam::111122223333:user/mallory`",
            "*Target*\n`backdoor`",
            "*Score*\n85 (HIGH)",
            "*Why*\nactor-iam-user +10, no-mfa +10, critical-account +15",
        ]
    );
    assert!(blocks[2]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["type"] == "mrkdwn"));

    let links = blocks[3]["text"]["text"].as_str().unwrap();
    assert!(
        links.contains(&format!("<{}|iam-user-created>", event.runbook_url)),
        "{links}"
    );
    assert!(
        links.contains("<https://example.atlassian.net/browse/SEC-7|SEC-7>"),
        "{links}"
    );
    // The runbook's first steps: three numbered triage questions and the containment command.
    let steps = blocks[4]["text"]["text"].as_str().unwrap();
    assert_eq!(blocks[4]["text"]["verbatim"], true);
    assert!(steps.starts_with("*First steps*\n1. "), "{steps}");
    assert!(
        steps.contains("\n2. ") && steps.contains("\n3. "),
        "{steps}"
    );
    assert!(!steps.contains("\n4. "), "{steps}");
    assert!(
        steps.contains("\n```\naws ") && steps.ends_with("\n```"),
        "{steps}"
    );
    assert!(blocks[5]["elements"][0]["text"]
        .as_str()
        .unwrap()
        .contains(FINDING));
}

#[tokio::test]
async fn without_a_ticket_there_is_no_ticket_link() {
    let slack = FakeSlack::start().await.unwrap();
    notifier(&slack)
        .notify(&sample_event(FINDING, 95), None)
        .await
        .unwrap();
    let msg = &slack.messages()[0];
    assert_eq!(
        msg["blocks"][0]["text"]["text"],
        "CRITICAL 95: IAM user backdoor created in payments-prod"
    );
    let links = msg["blocks"][3]["text"]["text"].as_str().unwrap();
    assert!(
        links.contains("Runbook") && !links.contains("Ticket"),
        "{links}"
    );
}

#[tokio::test]
async fn a_server_error_or_rate_limit_is_retried() {
    let slack = FakeSlack::start().await.unwrap();
    slack.server.push_responses(
        "POST",
        FakeSlack::PATH,
        vec![
            Canned::text(500, "rollup_error"),
            Canned::text(429, "rate_limited").with_header("Retry-After", "0"),
        ],
    );
    notifier(&slack)
        .notify(&sample_event(FINDING, 85), None)
        .await
        .unwrap();
    let messages = slack.messages();
    assert_eq!(messages.len(), 3);
    assert!(
        messages.iter().all(|m| *m == messages[0]),
        "each attempt sends the same payload"
    );
}

#[tokio::test]
async fn an_outage_fails_retryable_without_showing_the_webhook() {
    let slack = FakeSlack::start().await.unwrap();
    slack.server.push_responses(
        "POST",
        FakeSlack::PATH,
        vec![Canned::text(503, "service unavailable"); 3],
    );
    let err = notifier(&slack)
        .notify(&sample_event(FINDING, 85), None)
        .await
        .unwrap_err();
    assert!(err.retryable, "{err}");
    assert!(err.message.contains("503"), "{err}");
    assert!(!err.to_string().contains("secret"), "{err}");
    assert_eq!(slack.messages().len(), 3);
}

#[tokio::test]
async fn a_refused_webhook_is_not_retried() {
    let slack = FakeSlack::start().await.unwrap();
    slack.server.push_responses(
        "POST",
        FakeSlack::PATH,
        vec![Canned::text(404, "no_service")],
    );
    let err = notifier(&slack)
        .notify(&sample_event(FINDING, 85), None)
        .await
        .unwrap_err();
    assert!(!err.retryable, "{err}");
    assert!(err.message.contains("no_service"), "{err}");
    assert_eq!(slack.messages().len(), 1);
}

#[tokio::test]
async fn a_connection_failure_is_retryable_and_hides_the_url() {
    // A port nothing listens on: bind, take the port, drop the listener.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let n = SlackNotifier::new(
        SlackWebhook {
            webhook_url: format!("http://127.0.0.1:{port}/services/T/B/topsecret"),
        },
        RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            timeout: Duration::from_millis(500),
        },
    )
    .unwrap();
    let err = n
        .notify(&sample_event(FINDING, 85), None)
        .await
        .unwrap_err();
    assert!(err.retryable, "{err}");
    assert!(!err.to_string().contains("topsecret"), "{err}");
}
