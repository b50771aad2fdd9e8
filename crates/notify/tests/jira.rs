//! JiraTicketSink against a fake Jira Cloud served in the test process: the requests that went
//! over the wire (paths, methods, auth, JQL, labels, ADF) and the retry behaviour.

use iamwatch_core::ports::TicketSink;
use iamwatch_notify::testing::{sample_event, Canned, FakeJira};
use iamwatch_notify::{finding_label, JiraConfig, JiraCredentials, JiraTicketSink, RetryPolicy};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const FINDING: &str = "iamwatch/111122223333/iam-user-created/backdoor";
/// base64("sec@example.com:tok-123")
const AUTH: &str = "Basic c2VjQGV4YW1wbGUuY29tOnRvay0xMjM=";

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(2),
        timeout: Duration::from_millis(500),
    }
}

fn sink(jira: &FakeJira) -> JiraTicketSink {
    let mut config = JiraConfig::new(
        &jira.url(),
        "SEC",
        JiraCredentials {
            email: "sec@example.com".into(),
            api_token: "tok-123".into(),
        },
    );
    config.retry = fast_retry();
    JiraTicketSink::new(config).expect("valid config")
}

/// Every `text` node of an ADF tree, depth first.
fn texts(node: &Value, out: &mut Vec<String>) {
    if let Some(t) = node["text"].as_str() {
        out.push(t.to_string());
    }
    if let Some(children) = node["content"].as_array() {
        for c in children {
            texts(c, out);
        }
    }
}

/// Every node of an ADF tree with this type.
fn nodes<'a>(node: &'a Value, kind: &str, out: &mut Vec<&'a Value>) {
    if node["type"] == kind {
        out.push(node);
    }
    if let Some(children) = node["content"].as_array() {
        for c in children {
            nodes(c, kind, out);
        }
    }
}

#[tokio::test]
async fn creates_an_issue_with_labels_and_an_adf_description() {
    let jira = FakeJira::start().await.unwrap();
    let event = sample_event(FINDING, 85);
    let ticket = sink(&jira).open(&event).await.unwrap();

    assert_eq!(ticket.key, "SEC-1");
    assert!(ticket.created);
    assert_eq!(ticket.url, format!("{}/browse/SEC-1", jira.url()));

    let requests = jira.server.requests();
    let paths: Vec<_> = requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        paths,
        ["POST /rest/api/3/search/jql", "POST /rest/api/3/issue"]
    );
    let label = finding_label(FINDING);
    for r in &requests {
        assert_eq!(r.header("authorization"), Some(AUTH));
        assert!(r
            .header("content-type")
            .unwrap()
            .starts_with("application/json"));
    }
    assert_eq!(
        requests[0].json(),
        json!({"jql": format!("labels = \"{label}\""), "fields": ["key"], "maxResults": 1})
    );

    let fields = &requests[1].json()["fields"];
    assert_eq!(fields["project"], json!({"key": "SEC"}));
    assert_eq!(fields["issuetype"], json!({"name": "Task"}));
    assert_eq!(
        fields["summary"],
        "IAM user backdoor created in payments-prod"
    );
    assert_eq!(fields["labels"], json!(["iamwatch", label]));

    let doc = &fields["description"];
    assert_eq!(doc["type"], "doc");
    assert_eq!(doc["version"], 1);
    let kinds: Vec<_> = doc["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "heading",
            "paragraph",
            "heading",
            "bulletList",
            "paragraph",
            "paragraph",
            "heading",
            "orderedList",
            "codeBlock"
        ]
    );
    let mut all = Vec::new();
    texts(doc, &mut all);
    let joined = all.join("");
    for expected in [
        "created IAM user backdoor",
        "HIGH (score 85)",
        "actor-iam-user +10, no-mfa +10, critical-account +15",
        "payments-prod (111122223333)",
        "Workloads / Prod",
        "arn:aws:iam::111122223333:user/mallory",
        "backdoor",
        FINDING,
    ] {
        assert!(joined.contains(expected), "{expected:?} not in {joined}");
    }
    let mut links = Vec::new();
    nodes(doc, "text", &mut links);
    let linked: Vec<_> = links
        .iter()
        .filter(|n| n["marks"][0]["type"] == "link")
        .collect();
    // The runbook, then the console pages: the finding in Security Hub and the IAM user.
    assert_eq!(
        linked
            .iter()
            .map(|n| n["text"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["iam-user-created", "Security Hub", "IAM user"]
    );
    let runbook = &linked[..1];
    assert_eq!(runbook[0]["text"], "iam-user-created");
    assert_eq!(
        runbook[0]["marks"][0]["attrs"]["href"],
        event.runbook_url.as_str()
    );
    // The runbook's first steps: three triage questions and the containment command.
    let first_steps = &doc["content"][6];
    assert_eq!(first_steps["content"][0]["text"], "First steps");
    let mut steps = Vec::new();
    nodes(&doc["content"][7], "listItem", &mut steps);
    assert_eq!(steps.len(), 3);
    let code = &doc["content"][8];
    assert_eq!(code["attrs"]["language"], "bash");
    assert!(code["content"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("aws "));
    // Each list item is a paragraph; no empty text nodes (Jira rejects them).
    let mut items = Vec::new();
    nodes(doc, "listItem", &mut items);
    assert_eq!(items.len(), 8 + 3);
    assert!(all.iter().all(|t| !t.is_empty()));

    let issues = jira.issues();
    assert_eq!(issues.len(), 1);
}

#[tokio::test]
async fn a_finding_with_an_issue_gets_a_comment_not_a_second_issue() {
    let jira = FakeJira::start().await.unwrap();
    let s = sink(&jira);
    let event = sample_event(FINDING, 85);
    let first = s.open(&event).await.unwrap();
    let again = s.open(&event).await.unwrap();

    assert!(first.created);
    assert!(!again.created);
    assert_eq!(again.key, first.key);
    assert_eq!(again.url, first.url);
    let issues = jira.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].comments.len(), 1);

    let comments = jira
        .server
        .requests_to("POST", "/rest/api/3/issue/SEC-1/comment");
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].header("authorization"), Some(AUTH));
    let body = &comments[0].json()["body"];
    assert_eq!(body["type"], "doc");
    assert_eq!(body["version"], 1);
    let mut all = Vec::new();
    texts(body, &mut all);
    assert!(all.join("").contains("saw this finding again"));
    assert_eq!(
        jira.server.requests_to("POST", "/rest/api/3/issue").len(),
        2
    );

    // Another finding gets its own issue.
    let other = s
        .open(&sample_event(
            "iamwatch/111122223333/iam-user-created/eve",
            85,
        ))
        .await
        .unwrap();
    assert_eq!(other.key, "SEC-2");
    assert!(other.created);
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_and_gives_one_issue() {
    let jira = FakeJira::start().await.unwrap();
    jira.server.push_responses(
        "POST",
        "/rest/api/3/issue",
        vec![
            Canned::json(429, &json!({"errorMessages": ["Rate limit exceeded"]}))
                .with_header("Retry-After", "1"),
        ],
    );
    let started = Instant::now();
    let ticket = sink(&jira).open(&sample_event(FINDING, 85)).await.unwrap();

    assert!(ticket.created);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured: {:?}",
        started.elapsed()
    );
    assert_eq!(jira.issues().len(), 1);
    assert_eq!(
        jira.server.requests_to("POST", "/rest/api/3/issue").len(),
        2
    );
}

#[tokio::test]
async fn a_retry_after_longer_than_allowed_fails_retryable_at_once() {
    let jira = FakeJira::start().await.unwrap();
    jira.server.push_responses(
        "POST",
        "/rest/api/3/search/jql",
        vec![Canned::status(429).with_header("Retry-After", "3600")],
    );
    let err = sink(&jira)
        .open(&sample_event(FINDING, 85))
        .await
        .unwrap_err();
    assert!(err.retryable, "{err}");
    assert!(err.message.contains("429"), "{err}");
    assert_eq!(jira.server.requests().len(), 1);
}

#[tokio::test]
async fn server_errors_exhaust_the_attempts_then_a_later_call_succeeds_without_duplicate() {
    let jira = FakeJira::start().await.unwrap();
    let s = sink(&jira);
    let event = sample_event(FINDING, 85);
    // Jira answers 500 to every attempt of one call (an outage), then recovers: the next call
    // creates the issue, and the one after finds it instead of creating a second.
    jira.server.push_responses(
        "POST",
        "/rest/api/3/search/jql",
        vec![Canned::status(500); 3],
    );
    let err = s.open(&event).await.unwrap_err();
    assert!(err.retryable, "{err}");
    assert_eq!(err.operation, "jira:search/jql");
    assert!(
        err.message.contains("HTTP 500") && err.message.contains("3 attempts"),
        "{err}"
    );
    assert!(jira.issues().is_empty());
    assert_eq!(jira.server.requests().len(), 3);

    let first = s.open(&event).await.unwrap();
    let second = s.open(&event).await.unwrap();
    assert!(first.created && !second.created);
    assert_eq!(jira.issues().len(), 1);
}

#[tokio::test]
async fn a_client_error_is_not_retried() {
    let jira = FakeJira::start().await.unwrap();
    jira.server.push_responses(
        "POST",
        "/rest/api/3/issue",
        vec![Canned::json(
            400,
            &json!({"errors": {"issuetype": "Specify a valid issue type"}}),
        )],
    );
    let err = sink(&jira)
        .open(&sample_event(FINDING, 85))
        .await
        .unwrap_err();
    assert!(!err.retryable, "{err}");
    assert!(err.message.contains("Specify a valid issue type"), "{err}");
    assert_eq!(
        jira.server.requests_to("POST", "/rest/api/3/issue").len(),
        1
    );

    let jira = FakeJira::start().await.unwrap();
    let mut config = JiraConfig::new(
        &jira.url(),
        "SEC",
        JiraCredentials {
            email: "sec@example.com".into(),
            api_token: "tok-123".into(),
        },
    );
    config.retry = fast_retry();
    jira.server
        .push_responses("POST", "/rest/api/3/search/jql", vec![Canned::status(401)]);
    let err = JiraTicketSink::new(config)
        .unwrap()
        .open(&sample_event(FINDING, 85))
        .await
        .unwrap_err();
    assert!(!err.retryable);
    assert!(!err.to_string().contains("tok-123"));
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let jira = FakeJira::start().await.unwrap();
    jira.server.push_responses(
        "POST",
        "/rest/api/3/search/jql",
        vec![Canned::status(200).with_delay(Duration::from_secs(3))],
    );
    let ticket = sink(&jira).open(&sample_event(FINDING, 85)).await.unwrap();
    assert!(ticket.created);
    assert_eq!(
        jira.server
            .requests_to("POST", "/rest/api/3/search/jql")
            .len(),
        2
    );
    assert_eq!(jira.issues().len(), 1);
}

#[tokio::test]
async fn the_issue_type_is_configurable() {
    let jira = FakeJira::start().await.unwrap();
    let mut config = JiraConfig::new(
        &format!("{}/", jira.url()),
        "OPS",
        JiraCredentials {
            email: "sec@example.com".into(),
            api_token: "tok-123".into(),
        },
    );
    config.issue_type = "Security Incident".into();
    let ticket = JiraTicketSink::new(config)
        .unwrap()
        .open(&sample_event(FINDING, 95))
        .await
        .unwrap();
    assert_eq!(ticket.key, "OPS-1");
    let create = &jira.server.requests_to("POST", "/rest/api/3/issue")[0];
    assert_eq!(
        create.json()["fields"]["issuetype"]["name"],
        "Security Incident"
    );
}
