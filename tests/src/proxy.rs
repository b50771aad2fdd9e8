//! [`FaultProxy`]: an HTTP proxy between the SDK and moto that answers chosen operations with
//! a fault, a given number of times, in the error shape of the service's protocol:
//!
//! - awsJson (Organizations, EventBridge, SQS: `X-Amz-Target`): `{"__type": code}` with
//!   `x-amzn-ErrorType`;
//! - restJson (Security Hub): `x-amzn-ErrorType` and `{"Code", "Message"}`;
//! - awsQuery (IAM, STS: form bodies with `Action=`): `<ErrorResponse><Error><Code>`;
//! - restXml (S3, told by the `s3` service of the request's signature, path-style addressing):
//!   `<Error><Code>` (throttling is HTTP 503 `SlowDown`, a server error HTTP 500
//!   `InternalError`). S3 operations are named `ListObjectsV2`, `GetObject`, `PutObject`,
//!   `CreateBucket`.
//!
//! It also answers *partial* failures as the services do: a `BatchImportFindings` whose
//! findings' ids contain a marker gets those findings in `FailedFindings` (the others are
//! imported by moto), a `PutEvents` whose entries' details contain a marker gets those
//! entries failed (`ErrorCode`, `FailedEntryCount`) and the others put
//! ([`FaultProxy::fail_items`]).
//!
//! Everything else is forwarded to moto unchanged. The proxy counts the requests and the
//! faults per operation, so tests can assert that a call was retried, keeps the target
//! (path and query) of every request, so tests can assert what was listed and read, the
//! time at least one request was waiting on moto ([`FaultProxy::upstream_busy`]), for benchmarks,
//! and moto's error answers per operation and status ([`FaultProxy::upstream_errors`]), e.g. the
//! 404 of an operation moto lacks.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use iamwatch_notify::testing::server::{bind, serve};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What the proxy answers instead of forwarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 400 `ThrottlingException` (IAM/STS: `Throttling`; Security Hub: HTTP 429
    /// `TooManyRequestsException`).
    Throttle,
    /// HTTP 500 `InternalFailure`.
    ServerError,
    /// HTTP 403 `AccessDenied` / `AccessDeniedException`.
    AccessDenied,
    /// An error of the operation itself: the HTTP status and the code (e.g. 404
    /// `ReportInProgress` of `GetCredentialReport`, 409 `LimitExceeded`).
    Error(u16, &'static str),
}

/// One rule: the operation (e.g. `BatchImportFindings`, `GetUser`, `PutEvents`), optionally
/// only for requests signed for `account_key` (the access key id of an account's
/// credentials), the fault, and how many requests get it.
#[derive(Debug, Clone)]
struct Rule {
    operation: String,
    access_key: Option<String>,
    /// Only requests whose body contains this (URL-encoded as sent, e.g. a role ARN's account).
    body_contains: Option<String>,
    fault: Fault,
    remaining: usize,
}

/// A partial failure: items of `operation` (findings of `BatchImportFindings`, entries of
/// `PutEvents`) whose JSON contains `marker` fail with `code`, in `remaining` requests.
#[derive(Debug, Clone)]
struct ItemRule {
    operation: String,
    marker: String,
    code: String,
    remaining: usize,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    item_rules: Vec<ItemRule>,
    requests: HashMap<String, usize>,
    faults: HashMap<String, usize>,
    /// Every request: its operation and target (path and query, percent-decoded).
    log: Vec<(String, String)>,
    /// Items failed by item rules, per operation.
    failed_items: HashMap<String, usize>,
    /// Requests waiting on upstream now, since when at least one is, and the total so far.
    in_flight: usize,
    busy_since: Option<std::time::Instant>,
    busy: std::time::Duration,
    /// Times the proxy went from no request waiting on upstream to one.
    busy_periods: usize,
    /// Upstream answers with an HTTP status of 400 or more, per operation and status.
    upstream_errors: HashMap<(String, u16), usize>,
}

/// A running fault-injecting proxy in front of `upstream`.
#[derive(Clone)]
pub struct FaultProxy {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

fn lock(s: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

impl FaultProxy {
    /// Starts the proxy on a free port, forwarding to `upstream` (`http://127.0.0.1:PORT`).
    /// Runs on the current tokio runtime until it ends.
    pub async fn start(upstream: &str) -> std::io::Result<FaultProxy> {
        let (listener, addr) = bind().await?;
        let state = Arc::new(Mutex::new(State::default()));
        let client: Client<HttpConnector, Full<Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        let upstream = upstream.trim_end_matches('/').to_string();
        let st = state.clone();
        serve(listener, move |req| {
            handle(st.clone(), client.clone(), upstream.clone(), req)
        });
        Ok(FaultProxy {
            port: addr.port(),
            state,
        })
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The next `count` requests of `operation` get `fault`.
    pub fn inject(&self, operation: &str, fault: Fault, count: usize) {
        lock(&self.state).rules.push(Rule {
            operation: operation.to_string(),
            access_key: None,
            body_contains: None,
            fault,
            remaining: count,
        });
    }

    /// Like [`inject`](Self::inject), only for requests whose body contains `needle` (e.g.
    /// `AssumeRole` of one account's role: its account id).
    pub fn inject_matching(&self, operation: &str, needle: &str, fault: Fault, count: usize) {
        lock(&self.state).rules.push(Rule {
            operation: operation.to_string(),
            access_key: None,
            body_contains: Some(needle.to_string()),
            fault,
            remaining: count,
        });
    }

    /// Requests seen per operation (faulted ones included), by operation name.
    pub fn request_counts(&self) -> std::collections::BTreeMap<String, usize> {
        lock(&self.state)
            .requests
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// Like [`inject`](Self::inject), only for requests signed with `access_key_id`.
    pub fn inject_for_key(&self, operation: &str, access_key_id: &str, fault: Fault, count: usize) {
        lock(&self.state).rules.push(Rule {
            operation: operation.to_string(),
            access_key: Some(access_key_id.to_string()),
            body_contains: None,
            fault,
            remaining: count,
        });
    }

    /// In the next `requests` requests of `operation` (`BatchImportFindings` or `PutEvents`),
    /// the items whose JSON contains `marker` fail with error code `code`; the other items go
    /// to moto.
    pub fn fail_items(&self, operation: &str, marker: &str, code: &str, requests: usize) {
        lock(&self.state).item_rules.push(ItemRule {
            operation: operation.to_string(),
            marker: marker.to_string(),
            code: code.to_string(),
            remaining: requests,
        });
    }

    /// Items failed by [`fail_items`](Self::fail_items) rules for `operation`.
    pub fn failed_items(&self, operation: &str) -> usize {
        lock(&self.state)
            .failed_items
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    /// Every operation seen, with its request count.
    pub fn all_requests(&self) -> HashMap<String, usize> {
        lock(&self.state).requests.clone()
    }

    /// Forgets the counts (requests, faults, failed items, busy time).
    pub fn reset_counts(&self) {
        let mut st = lock(&self.state);
        st.requests.clear();
        st.faults.clear();
        st.failed_items.clear();
        st.upstream_errors.clear();
        st.busy = std::time::Duration::ZERO;
        st.busy_periods = 0;
        st.busy_since = (st.in_flight > 0).then(std::time::Instant::now);
    }

    /// The answers of upstream (moto) with an HTTP status of 400 or more, per operation and
    /// status (faults the proxy answered itself are not in it: see [`faults`](Self::faults)).
    pub fn upstream_errors(&self) -> std::collections::BTreeMap<(String, u16), usize> {
        lock(&self.state)
            .upstream_errors
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// How long at least one request was waiting on upstream (moto).
    pub fn upstream_busy(&self) -> std::time::Duration {
        let st = lock(&self.state);
        st.busy + st.busy_since.map(|t| t.elapsed()).unwrap_or_default()
    }

    /// How many times a request went to upstream while none was waiting there: the number of
    /// round trips on the caller's critical path (concurrent requests count once).
    pub fn busy_periods(&self) -> usize {
        lock(&self.state).busy_periods
    }

    /// Requests seen for `operation` (faulted ones included).
    pub fn requests(&self, operation: &str) -> usize {
        lock(&self.state)
            .requests
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    /// The targets (path and query, percent-decoded) of the requests of `operation`, in the
    /// order they came.
    pub fn targets(&self, operation: &str) -> Vec<String> {
        lock(&self.state)
            .log
            .iter()
            .filter(|(op, _)| op == operation)
            .map(|(_, t)| t.clone())
            .collect()
    }

    /// Faults answered for `operation`.
    pub fn faults(&self, operation: &str) -> usize {
        lock(&self.state)
            .faults
            .get(operation)
            .copied()
            .unwrap_or(0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    AwsJson,
    RestJson,
    Query,
    RestXml,
}

/// The AWS service a request is signed for (`s3`, `iam`, ...).
fn signed_service(req: &hyper::http::request::Parts) -> Option<String> {
    let auth = req.headers.get("authorization")?.to_str().ok()?;
    let cred = auth.split("Credential=").nth(1)?;
    Some(cred.split(['/', ',']).nth(3)?.to_string())
}

/// The S3 operation of a path-style request.
fn s3_operation(req: &hyper::http::request::Parts) -> String {
    let path = req.uri.path().trim_start_matches('/');
    let query = req.uri.query().unwrap_or("");
    let has_key = path.split_once('/').is_some_and(|(_, k)| !k.is_empty());
    let op = match (req.method.as_str(), has_key) {
        ("GET", false) if query.contains("list-type=2") => "ListObjectsV2",
        ("GET", false) => "ListObjects",
        ("GET", true) => "GetObject",
        ("HEAD", true) => "HeadObject",
        ("PUT", true) => "PutObject",
        ("PUT", false) => "CreateBucket",
        ("DELETE", true) => "DeleteObject",
        (m, _) => m,
    };
    op.to_string()
}

/// The operation and protocol of a request.
fn operation(req: &hyper::http::request::Parts, body: &[u8]) -> (String, Protocol) {
    if signed_service(req).as_deref() == Some("s3") {
        return (s3_operation(req), Protocol::RestXml);
    }
    if let Some(target) = req
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
    {
        let op = target.rsplit('.').next().unwrap_or(target);
        return (op.to_string(), Protocol::AwsJson);
    }
    let text = std::str::from_utf8(body).unwrap_or("");
    if let Some(action) = text.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
        return (action.to_string(), Protocol::Query);
    }
    let path = req.uri.path();
    let op = match (req.method.as_str(), path) {
        ("POST", "/findings/import") => "BatchImportFindings",
        ("POST", "/findings") => "GetFindings",
        ("PATCH", "/findings/batchupdate") => "BatchUpdateFindings",
        ("POST", "/accounts") => "EnableSecurityHub",
        _ => path,
    };
    (op.to_string(), Protocol::RestJson)
}

fn access_key(req: &hyper::http::request::Parts) -> Option<String> {
    let auth = req.headers.get("authorization")?.to_str().ok()?;
    let cred = auth.split("Credential=").nth(1)?;
    Some(cred.split('/').next()?.to_string())
}

fn fault_response(fault: Fault, protocol: Protocol) -> Response<Full<Bytes>> {
    let (status, json_code, query_code, message) = match fault {
        Fault::Throttle => (400, "ThrottlingException", "Throttling", "Rate exceeded"),
        Fault::ServerError => (
            500,
            "InternalFailure",
            "InternalFailure",
            "injected server error",
        ),
        Fault::AccessDenied => (
            403,
            "AccessDeniedException",
            "AccessDenied",
            "injected access denied",
        ),
        Fault::Error(status, code) => (status, code, code, "injected error"),
    };
    let b = Response::builder();
    let r = match protocol {
        Protocol::AwsJson => b
            .status(status)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amzn-errortype", json_code)
            .header("x-amzn-requestid", "iamwatch-fault")
            .body(Full::new(Bytes::from(format!(
                r#"{{"__type":"{json_code}","message":"{message}"}}"#
            )))),
        Protocol::RestJson => {
            let (status, code) = match fault {
                Fault::Throttle => (429, "TooManyRequestsException"),
                _ => (status, json_code),
            };
            b.status(status)
                .header("content-type", "application/json")
                .header("x-amzn-errortype", code)
                .header("x-amzn-requestid", "iamwatch-fault")
                .body(Full::new(Bytes::from(format!(
                    r#"{{"Code":"{code}","Message":"{message}"}}"#
                ))))
        }
        Protocol::RestXml => {
            let (status, code) = match fault {
                Fault::Throttle => (503, "SlowDown"),
                Fault::ServerError => (500, "InternalError"),
                Fault::AccessDenied => (403, "AccessDenied"),
                Fault::Error(status, code) => (status, code),
            };
            b.status(status).header("content-type", "application/xml").body(Full::new(Bytes::from(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>iamwatch-fault</RequestId></Error>"
            ))))
        }
        Protocol::Query => {
            let kind = if status >= 500 { "Receiver" } else { "Sender" };
            b.status(status).header("content-type", "text/xml").body(Full::new(Bytes::from(format!(
                "<ErrorResponse><Error><Type>{kind}</Type><Code>{query_code}</Code><Message>{message}</Message></Error><RequestId>iamwatch-fault</RequestId></ErrorResponse>"
            ))))
        }
    };
    r.unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

async fn handle(
    state: Arc<Mutex<State>>,
    client: Client<HttpConnector, Full<Bytes>>,
    upstream: String,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let (op, protocol) = operation(&parts, &body);
    let key = access_key(&parts);
    let text = String::from_utf8_lossy(&body).into_owned();
    let fault = {
        let mut st = lock(&state);
        *st.requests.entry(op.clone()).or_default() += 1;
        let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        st.log.push((
            op.clone(),
            percent_encoding::percent_decode_str(target)
                .decode_utf8_lossy()
                .into_owned(),
        ));
        let hit = st.rules.iter_mut().find(|r| {
            r.remaining > 0
                && r.operation == op
                && r.access_key
                    .as_ref()
                    .is_none_or(|k| Some(k) == key.as_ref())
                && r.body_contains
                    .as_ref()
                    .is_none_or(|n| text.contains(n.as_str()))
        });
        let fault = hit.map(|r| {
            r.remaining -= 1;
            r.fault
        });
        if fault.is_some() {
            *st.faults.entry(op.clone()).or_default() += 1;
        }
        fault
    };
    if let Some(f) = fault {
        return Ok(fault_response(f, protocol));
    }
    let item_rules: Vec<ItemRule> = {
        let mut st = lock(&state);
        st.item_rules
            .iter_mut()
            .filter(|r| r.remaining > 0 && r.operation == op)
            .map(|r| {
                r.remaining -= 1;
                r.clone()
            })
            .collect()
    };
    let (body, held_back) = split_items(&op, &body, &item_rules);
    if !held_back.is_empty() {
        *lock(&state).failed_items.entry(op.clone()).or_default() += held_back.len();
    }
    let resp = forward(&state, &client, &upstream, parts, body).await;
    let status = resp.status().as_u16();
    if status >= 400 {
        *lock(&state)
            .upstream_errors
            .entry((op.clone(), status))
            .or_default() += 1;
    }
    if held_back.is_empty() {
        return Ok(resp);
    }
    Ok(merge_failed(&op, resp, &held_back).await)
}

/// The items of a request (`Findings` of `BatchImportFindings`, `Entries` of `PutEvents`).
fn items_key(op: &str) -> &'static str {
    if op == "PutEvents" {
        "Entries"
    } else {
        "Findings"
    }
}

/// The request body without the items the rules fail, and those items' positions, ids and
/// error codes.
fn split_items(
    op: &str,
    body: &Bytes,
    rules: &[ItemRule],
) -> (Bytes, Vec<(usize, String, String)>) {
    if rules.is_empty() {
        return (body.clone(), Vec::new());
    }
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (body.clone(), Vec::new());
    };
    let key = items_key(op);
    let Some(items) = v.get_mut(key).and_then(|i| i.as_array_mut()) else {
        return (body.clone(), Vec::new());
    };
    let mut held = Vec::new();
    let mut kept = Vec::new();
    for (i, item) in items.drain(..).enumerate() {
        let text = item.to_string();
        match rules.iter().find(|r| text.contains(&r.marker)) {
            Some(rule) => {
                let id = item["Id"].as_str().unwrap_or_default().to_string();
                held.push((i, id, rule.code.clone()));
            }
            None => kept.push(item),
        }
    }
    *items = kept;
    (Bytes::from(v.to_string()), held)
}

/// The upstream's answer with the held-back items failed, as the service reports them.
async fn merge_failed(
    op: &str,
    resp: Response<Full<Bytes>>,
    held: &[(usize, String, String)],
) -> Response<Full<Bytes>> {
    let (mut parts, body) = resp.into_parts();
    let bytes = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return error_response(502, &e.to_string()),
    };
    let mut v: serde_json::Value =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| serde_json::json!({}));
    let message = "injected partial failure";
    if op == "PutEvents" {
        let mut entries: Vec<serde_json::Value> =
            v["Entries"].as_array().cloned().unwrap_or_default();
        for (pos, _, code) in held {
            let failed = serde_json::json!({"ErrorCode": code, "ErrorMessage": message});
            entries.insert((*pos).min(entries.len()), failed);
        }
        let count = entries
            .iter()
            .filter(|e| e.get("ErrorCode").is_some())
            .count();
        v["Entries"] = serde_json::Value::from(entries);
        v["FailedEntryCount"] = serde_json::Value::from(count);
    } else {
        let mut failed: Vec<serde_json::Value> =
            v["FailedFindings"].as_array().cloned().unwrap_or_default();
        for (_, id, code) in held {
            failed.push(serde_json::json!({"Id": id, "ErrorCode": code, "ErrorMessage": message}));
        }
        v["FailedCount"] = serde_json::Value::from(failed.len());
        v["FailedFindings"] = serde_json::Value::from(failed);
    }
    parts.headers.remove("content-length");
    Response::from_parts(parts, Full::new(Bytes::from(v.to_string())))
}

/// Sends the request to upstream, counting the time spent waiting on it.
async fn forward(
    state: &Arc<Mutex<State>>,
    client: &Client<HttpConnector, Full<Bytes>>,
    upstream: &str,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Response<Full<Bytes>> {
    {
        let mut st = lock(state);
        st.in_flight += 1;
        if st.in_flight == 1 {
            st.busy_since = Some(std::time::Instant::now());
            st.busy_periods += 1;
        }
    }
    let resp = forward_inner(client, upstream, parts, body).await;
    {
        let mut st = lock(state);
        st.in_flight -= 1;
        if st.in_flight == 0 {
            if let Some(t) = st.busy_since.take() {
                st.busy += t.elapsed();
            }
        }
    }
    resp
}

async fn forward_inner(
    client: &Client<HttpConnector, Full<Bytes>>,
    upstream: &str,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let uri = format!(
        "{upstream}{}",
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    let mut builder = Request::builder().method(parts.method.clone()).uri(uri);
    for (k, v) in &parts.headers {
        // The body may have been rewritten (items held back): its length is recomputed.
        if k == "content-length" || is_hop_by_hop(k) {
            continue;
        }
        builder = builder.header(k, v);
    }
    let forwarded = match builder.body(Full::new(body)) {
        Ok(r) => r,
        Err(e) => return error_response(502, &e.to_string()),
    };
    match client.request(forwarded).await {
        Ok(resp) => {
            let (mut parts, body) = resp.into_parts();
            let bytes = match body.collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => return error_response(502, &e.to_string()),
            };
            // moto's server answers `Connection: close`; passed on, it would make the caller
            // open a connection per request, which AWS's endpoints do not.
            let hop: Vec<_> = parts
                .headers
                .keys()
                .filter(|k| is_hop_by_hop(k))
                .cloned()
                .collect();
            for k in hop {
                parts.headers.remove(k);
            }
            Response::from_parts(parts, Full::new(bytes))
        }
        Err(e) => error_response(502, &e.to_string()),
    }
}

/// The headers of one connection (RFC 9110, 7.6.1), which a proxy does not pass on.
fn is_hop_by_hop(name: &hyper::header::HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

fn error_response(status: u16, message: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(message.to_string())));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    r
}
