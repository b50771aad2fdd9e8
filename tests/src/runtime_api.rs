//! A Lambda Runtime API served by the test (`AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT`), to run a
//! compiled bootstrap as Lambda would: `GET /2018-06-01/runtime/invocation/next` hands out the
//! queued events (with the `Lambda-Runtime-*` headers), `POST .../{id}/response` and
//! `.../{id}/error` are recorded. When no event is queued, `next` waits.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use iamwatch_notify::testing::server::{bind, serve};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, Mutex};

/// The environment Lambda gives a function's process, and nothing else (`PATH` aside): the
/// function `name` with `memory_mb`, polling the Runtime API at `api`, in us-east-1.
pub fn lambda_env<'c>(
    cmd: &'c mut std::process::Command,
    api: &str,
    name: &str,
    memory_mb: u32,
) -> &'c mut std::process::Command {
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", api)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string())
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_REGION", "us-east-1")
        .stdin(std::process::Stdio::null())
}

/// What the function answered to one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Response { request_id: String, body: String },
    Error { request_id: String, body: String },
    InitError { body: String },
}

/// The running API.
pub struct RuntimeApi {
    pub port: u16,
    events: mpsc::UnboundedSender<String>,
    answers: Mutex<mpsc::UnboundedReceiver<Answer>>,
    /// When the first `next` poll arrived.
    first_poll: Arc<std::sync::Mutex<Option<Instant>>>,
}

struct Shared {
    events: Mutex<mpsc::UnboundedReceiver<String>>,
    answers: mpsc::UnboundedSender<Answer>,
    first_poll: Arc<std::sync::Mutex<Option<Instant>>>,
    counter: std::sync::atomic::AtomicU64,
}

impl RuntimeApi {
    /// Serves on a free port of 127.0.0.1 on the current runtime.
    pub async fn start() -> std::io::Result<RuntimeApi> {
        let (listener, addr) = bind().await?;
        let port = addr.port();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let (ans_tx, ans_rx) = mpsc::unbounded_channel();
        let first_poll = Arc::new(std::sync::Mutex::new(None));
        let shared = Arc::new(Shared {
            events: Mutex::new(ev_rx),
            answers: ans_tx,
            first_poll: first_poll.clone(),
            counter: std::sync::atomic::AtomicU64::new(0),
        });
        serve(listener, move |req| answer(shared.clone(), req));
        Ok(RuntimeApi {
            port,
            events: ev_tx,
            answers: Mutex::new(ans_rx),
            first_poll,
        })
    }

    /// `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Queues an invocation with this payload.
    pub fn invoke(&self, payload: String) {
        let _ = self.events.send(payload);
    }

    /// The next answer of the function, waiting at most `timeout`.
    pub async fn answer(&self, timeout: Duration) -> Option<Answer> {
        tokio::time::timeout(timeout, self.answers.lock().await.recv())
            .await
            .ok()
            .flatten()
    }

    /// When the function first polled for an invocation.
    pub fn first_poll(&self) -> Option<Instant> {
        *self.first_poll.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn text(status: u16, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    r
}

async fn answer(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let body = req.into_body().collect().await?.to_bytes();
    let body = String::from_utf8_lossy(&body).to_string();
    let prefix = "/2018-06-01/runtime";
    if method == hyper::Method::GET && path == format!("{prefix}/invocation/next") {
        {
            let mut first = shared.first_poll.lock().unwrap_or_else(|p| p.into_inner());
            first.get_or_insert_with(Instant::now);
        }
        let Some(payload) = shared.events.lock().await.recv().await else {
            return Ok(text(500, "no more events".into()));
        };
        let n = shared
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let deadline = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() + 60_000)
            .unwrap_or(0);
        let r = Response::builder()
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", format!("req-{n}"))
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:iamwatch-detect",
            )
            .header(
                "lambda-runtime-trace-id",
                format!("Root=1-00000000-{n:024x};Sampled=0"),
            )
            .body(Full::new(Bytes::from(payload)))
            .unwrap_or_else(|_| text(500, "bad response".into()));
        return Ok(r);
    }
    if method == hyper::Method::POST && path == format!("{prefix}/init/error") {
        let _ = shared.answers.send(Answer::InitError { body });
        return Ok(text(202, "{}".into()));
    }
    if method == hyper::Method::POST {
        if let Some(rest) = path.strip_prefix(&format!("{prefix}/invocation/")) {
            if let Some(id) = rest.strip_suffix("/response") {
                let _ = shared.answers.send(Answer::Response {
                    request_id: id.to_string(),
                    body,
                });
                return Ok(text(202, "{}".into()));
            }
            if let Some(id) = rest.strip_suffix("/error") {
                let _ = shared.answers.send(Answer::Error {
                    request_id: id.to_string(),
                    body,
                });
                return Ok(text(202, "{}".into()));
            }
        }
    }
    Ok(text(404, format!("unknown {method} {path}")))
}
