//! The HTTP test server of iamwatch's tests: [`serve`], the one accept loop (every fake HTTP
//! endpoint of the tests is a handler on it: the fault-injecting proxy and the Lambda Runtime
//! API of the end-to-end tests, the fakes here), and [`RecordingServer`], which records every
//! request and answers from routes, so tests assert on the requests that really went over the
//! wire.

use super::lock;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A listener on a free port of `127.0.0.1`, and its address.
pub async fn bind() -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Serves HTTP/1.1 on `listener` on the current tokio runtime: each connection on a task of its
/// own, each request answered by `handle`. Runs until the returned task is aborted (or the
/// runtime ends).
pub fn serve<H, Fut, E>(listener: TcpListener, handle: H) -> JoinHandle<()>
where
    H: Fn(hyper::Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<hyper::Response<Full<Bytes>>, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handle = handle.clone();
            tokio::spawn(async move {
                // A client that goes away mid-request is no concern of the test server.
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(handle))
                    .await;
            });
        }
    })
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
        let (listener, addr) = bind().await?;
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = serve(listener, move |req| answer(shared.clone(), req));
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

async fn answer(
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
