//! [`FaultProxy`]: an HTTP proxy between the SDK and moto that answers chosen operations with
//! a fault, a given number of times, in the error shape of the service's protocol:
//!
//! - awsJson (Organizations, EventBridge, SQS: `X-Amz-Target`): `{"__type": code}` with
//!   `x-amzn-ErrorType`;
//! - restJson (Security Hub): `x-amzn-ErrorType` and `{"Code", "Message"}`;
//! - awsQuery (IAM, STS: form bodies with `Action=`): `<ErrorResponse><Error><Code>`.
//!
//! Everything else is forwarded to moto unchanged. The proxy counts the requests and the
//! faults per operation, so tests can assert that a call was retried.

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

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    requests: HashMap<String, usize>,
    faults: HashMap<String, usize>,
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

    /// Requests seen for `operation` (faulted ones included).
    pub fn requests(&self, operation: &str) -> usize {
        lock(&self.state)
            .requests
            .get(operation)
            .copied()
            .unwrap_or(0)
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
}

/// The operation and protocol of a request.
fn operation(req: &hyper::http::request::Parts, body: &[u8]) -> (String, Protocol) {
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
        builder = builder.header(k, v);
    }
    let forwarded = match builder.body(Full::new(body)) {
        Ok(r) => r,
        Err(e) => return Ok(error_response(502, &e.to_string())),
    };
    match client.request(forwarded).await {
        Ok(resp) => {
            let (parts, body) = resp.into_parts();
            let bytes = match body.collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => return Ok(error_response(502, &e.to_string())),
            };
            Ok(Response::from_parts(parts, Full::new(bytes)))
        }
        Err(e) => Ok(error_response(502, &e.to_string())),
    }
}

fn error_response(status: u16, message: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(message.to_string())));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    r
}
