//! Test support (feature `test-support`): memory doubles of the ports, a recording HTTP test
//! server, and fakes of Jira Cloud and a Slack webhook built on it, so tests assert on the
//! requests that really went over the wire.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use iamwatch_core::finding::{
    fields, Recommendation, RecordState, Remediation, Resource, Severity,
};
use iamwatch_core::finding_event::FindingEvent;
use iamwatch_core::ports::{Notifier, PortError, TicketRef, TicketSink};
use iamwatch_core::{Finding, Label};
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// Path without the query.
    pub path: String,
    pub query: Option<String>,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A response the server sends.
#[derive(Debug, Clone)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering (timeouts, long polls).
    pub delay: Option<Duration>,
}

impl Canned {
    pub fn status(status: u16) -> Canned {
        Canned {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: None,
        }
    }

    pub fn text(status: u16, body: &str) -> Canned {
        Canned {
            body: body.as_bytes().to_vec(),
            ..Canned::status(status)
        }
        .with_header("content-type", "text/plain")
    }

    pub fn json(status: u16, body: &Value) -> Canned {
        Canned {
            body: body.to_string().into_bytes(),
            ..Canned::status(status)
        }
        .with_header("content-type", "application/json")
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Canned {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn with_delay(mut self, delay: Duration) -> Canned {
        self.delay = Some(delay);
        self
    }
}

type Handler = Arc<dyn Fn(&RecordedRequest) -> Canned + Send + Sync>;

struct Route {
    method: String,
    path_prefix: String,
    handler: Handler,
}

struct Override {
    method: String,
    path_prefix: String,
    responses: VecDeque<Canned>,
}

#[derive(Default)]
struct State {
    requests: Vec<RecordedRequest>,
    routes: Vec<Route>,
    overrides: Vec<Override>,
}

impl State {
    fn respond(&mut self, req: &RecordedRequest) -> Canned {
        let matches = |m: &str, p: &str| m == req.method && req.path.starts_with(p);
        for o in &mut self.overrides {
            if matches(&o.method, &o.path_prefix) {
                if let Some(c) = o.responses.pop_front() {
                    return c;
                }
            }
        }
        self.overrides.retain(|o| !o.responses.is_empty());
        for r in &self.routes {
            if matches(&r.method, &r.path_prefix) {
                return (r.handler)(req);
            }
        }
        Canned::json(
            404,
            &json!({"message": format!("no route for {} {}", req.method, req.path)}),
        )
    }
}

/// An HTTP/1.1 server on `127.0.0.1:0` that records every request and answers from routes
/// (method + path prefix -> handler), with queued responses that take precedence (to inject
/// failures). Stops when dropped.
pub struct RecordingServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl RecordingServer {
    /// Binds and starts serving on the current tokio runtime.
    pub async fn start() -> std::io::Result<RecordingServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| serve(state.clone(), req));
                    // A client that goes away mid-request is no concern of the test server.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(RecordingServer { addr, state, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers `method` requests whose path starts with `path_prefix` with `handler`. Routes
    /// are tried in the order they were added.
    pub fn route(
        &self,
        method: &str,
        path_prefix: &str,
        handler: impl Fn(&RecordedRequest) -> Canned + Send + Sync + 'static,
    ) {
        lock(&self.state).routes.push(Route {
            method: method.to_string(),
            path_prefix: path_prefix.to_string(),
            handler: Arc::new(handler),
        });
    }

    /// The next matching requests get these responses, in order, before the routes answer again.
    pub fn push_responses(&self, method: &str, path_prefix: &str, responses: Vec<Canned>) {
        lock(&self.state).overrides.push(Override {
            method: method.to_string(),
            path_prefix: path_prefix.to_string(),
            responses: responses.into(),
        });
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state).requests.clone()
    }

    /// The requests with this method whose path starts with `path_prefix`.
    pub fn requests_to(&self, method: &str, path_prefix: &str) -> Vec<RecordedRequest> {
        lock(&self.state)
            .requests
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(path_prefix))
            .cloned()
            .collect()
    }
}

impl Drop for RecordingServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    state: Arc<Mutex<State>>,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => Vec::new(),
    };
    let recorded = RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let canned = {
        let mut st = lock(&state);
        st.requests.push(recorded.clone());
        st.respond(&recorded)
    };
    if let Some(d) = canned.delay {
        tokio::time::sleep(d).await;
    }
    let mut resp = hyper::Response::new(Full::new(Bytes::from(canned.body)));
    *resp.status_mut() = hyper::StatusCode::from_u16(canned.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in canned.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(&v),
        ) {
            resp.headers_mut().append(name, value);
        }
    }
    Ok(resp)
}

/// An issue of [`FakeJira`].
#[derive(Debug, Clone, PartialEq)]
pub struct FakeIssue {
    pub key: String,
    /// The `fields` object of the create request.
    pub fields: Value,
    /// The `body` of each comment, in order.
    pub comments: Vec<Value>,
}

impl FakeIssue {
    pub fn labels(&self) -> Vec<String> {
        self.fields["labels"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|l| l.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Jira Cloud's issue create, JQL search (`labels = "..."` only) and comment endpoints, with
/// issues kept in memory (keys `<PROJECT>-1`, `-2`, ...). Requests without basic auth get 401.
pub struct FakeJira {
    pub server: RecordingServer,
    issues: Arc<Mutex<Vec<FakeIssue>>>,
}

impl FakeJira {
    pub async fn start() -> std::io::Result<FakeJira> {
        let server = RecordingServer::start().await?;
        let issues: Arc<Mutex<Vec<FakeIssue>>> = Arc::default();

        let unauthorized = |req: &RecordedRequest| {
            !req.header("authorization")
                .is_some_and(|a| a.starts_with("Basic "))
        };
        let found = issues.clone();
        server.route("POST", "/rest/api/3/search/jql", move |req| {
            if unauthorized(req) {
                return Canned::status(401);
            }
            let jql = req.json()["jql"].as_str().unwrap_or("").to_string();
            let Some(label) = jql
                .strip_prefix("labels = \"")
                .and_then(|s| s.strip_suffix('"'))
            else {
                return Canned::json(400, &json!({"errorMessages": [format!("unsupported JQL {jql}")]}));
            };
            let hits: Vec<Value> = lock(&found)
                .iter()
                .filter(|i| i.labels().iter().any(|l| l == label))
                .map(|i| json!({"id": i.key.trim_start_matches(|c: char| !c.is_ascii_digit()), "key": i.key}))
                .take(1)
                .collect();
            Canned::json(200, &json!({"issues": hits, "isLast": true}))
        });
        let commented = issues.clone();
        server.route("POST", "/rest/api/3/issue/", move |req| {
            if unauthorized(req) {
                return Canned::status(401);
            }
            let key = req
                .path
                .trim_start_matches("/rest/api/3/issue/")
                .trim_end_matches("/comment");
            let mut all = lock(&commented);
            match all.iter_mut().find(|i| i.key == key) {
                Some(issue) => {
                    issue.comments.push(req.json()["body"].clone());
                    Canned::json(201, &json!({"id": issue.comments.len().to_string()}))
                }
                None => Canned::json(404, &json!({"errorMessages": ["Issue does not exist"]})),
            }
        });
        let created = issues.clone();
        server.route("POST", "/rest/api/3/issue", move |req| {
            if unauthorized(req) {
                return Canned::status(401);
            }
            let fields = req.json()["fields"].clone();
            let project = fields["project"]["key"].as_str().unwrap_or("").to_string();
            if project.is_empty() || fields["summary"].as_str().is_none() {
                return Canned::json(400, &json!({"errors": {"project": "project is required"}}));
            }
            let mut all = lock(&created);
            let key = format!("{project}-{}", all.len() + 1);
            all.push(FakeIssue {
                key: key.clone(),
                fields,
                comments: Vec::new(),
            });
            Canned::json(
                201,
                &json!({"id": (10000 + all.len()).to_string(), "key": key, "self": "http://jira/rest/api/3/issue/1"}),
            )
        });
        Ok(FakeJira { server, issues })
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The issues created so far.
    pub fn issues(&self) -> Vec<FakeIssue> {
        lock(&self.issues).clone()
    }
}

/// A Slack incoming webhook at `/services/T000/B000/secret`, answering `ok`.
pub struct FakeSlack {
    pub server: RecordingServer,
}

impl FakeSlack {
    pub const PATH: &'static str = "/services/T000/B000/secret";

    pub async fn start() -> std::io::Result<FakeSlack> {
        let server = RecordingServer::start().await?;
        server.route("POST", Self::PATH, |req| {
            if req.json().get("text").and_then(Value::as_str).is_none() {
                return Canned::text(400, "invalid_payload");
            }
            Canned::text(200, "ok")
        });
        Ok(FakeSlack { server })
    }

    pub fn webhook_url(&self) -> String {
        format!("{}{}", self.server.url(), Self::PATH)
    }

    /// The JSON payloads posted to the webhook (failed attempts included).
    pub fn messages(&self) -> Vec<Value> {
        self.server
            .requests_to("POST", Self::PATH)
            .iter()
            .map(RecordedRequest::json)
            .collect()
    }
}

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
                url: runbook.to_string(),
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

/// A [`TicketSink`] in memory: one ticket per finding id (`MEM-1`, ...), later opens comment.
/// Queued errors are returned first, one per call.
#[derive(Default)]
pub struct MemoryTicketSink {
    tickets: Mutex<Vec<(String, TicketRef)>>,
    comments: Mutex<Vec<String>>,
    errors: Mutex<VecDeque<PortError>>,
}

impl MemoryTicketSink {
    pub fn fail_next(&self, error: PortError) {
        lock(&self.errors).push_back(error);
    }

    /// (finding id, ticket) of each ticket opened.
    pub fn tickets(&self) -> Vec<(String, TicketRef)> {
        lock(&self.tickets).clone()
    }

    /// Finding ids of each comment added to an existing ticket.
    pub fn comments(&self) -> Vec<String> {
        lock(&self.comments).clone()
    }
}

impl TicketSink for MemoryTicketSink {
    async fn open(&self, event: &FindingEvent) -> Result<TicketRef, PortError> {
        if let Some(e) = lock(&self.errors).pop_front() {
            return Err(e);
        }
        let mut tickets = lock(&self.tickets);
        if let Some((_, t)) = tickets.iter().find(|(id, _)| *id == event.finding_id) {
            lock(&self.comments).push(event.finding_id.clone());
            return Ok(TicketRef {
                created: false,
                ..t.clone()
            });
        }
        let key = format!("MEM-{}", tickets.len() + 1);
        let t = TicketRef {
            url: format!("memory://tickets/{key}"),
            key,
            created: true,
        };
        tickets.push((event.finding_id.clone(), t.clone()));
        Ok(t)
    }
}

/// A [`Notifier`] in memory: records (finding id, ticket key) of each message. Queued errors
/// are returned first, one per call.
#[derive(Default)]
pub struct MemoryNotifier {
    sent: Mutex<Vec<(String, Option<String>)>>,
    errors: Mutex<VecDeque<PortError>>,
}

impl MemoryNotifier {
    pub fn fail_next(&self, error: PortError) {
        lock(&self.errors).push_back(error);
    }

    pub fn sent(&self) -> Vec<(String, Option<String>)> {
        lock(&self.sent).clone()
    }
}

impl Notifier for MemoryNotifier {
    async fn notify(
        &self,
        event: &FindingEvent,
        ticket: Option<&TicketRef>,
    ) -> Result<(), PortError> {
        if let Some(e) = lock(&self.errors).pop_front() {
            return Err(e);
        }
        lock(&self.sent).push((event.finding_id.clone(), ticket.map(|t| t.key.clone())));
        Ok(())
    }
}
