//! A `moto_server` per test: started on a free port, ready when it answers, killed on drop.

use crate::HarnessError;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The account moto gives plain credentials (the management account of [`crate::org`]).
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// The region of every test.
pub const REGION: &str = "us-east-1";

/// A running `moto_server`.
pub struct MotoServer {
    child: Child,
    pub port: u16,
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A free port never handed out before in this process (the OS may offer a port again once
/// its listener is closed, and two tests of a binary start their servers concurrently).
fn unused_port() -> std::io::Result<u16> {
    static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut handed = HANDED_OUT.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let port = free_port()?;
        if !handed.contains(&port) {
            handed.push(port);
            return Ok(port);
        }
    }
}

/// One HTTP/1.1 request with `Connection: close`; returns the status and the body.
pub fn http_request(
    port: u16,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

impl MotoServer {
    /// Starts `moto_server -H 127.0.0.1 -p <free port>` and waits until it answers (30 s). A
    /// server that exits at start (its port taken meanwhile by another test's server) is
    /// started again on another port, so a test never talks to another test's moto.
    pub fn start() -> Result<MotoServer, HarnessError> {
        for _ in 0..3 {
            if let Some(server) = MotoServer::start_once()? {
                return Ok(server);
            }
        }
        Err(HarnessError::aws(
            "moto_server",
            "exited at start three times (ports taken?)",
        ))
    }

    /// One start; `None` when the process exited before it answered.
    fn start_once() -> Result<Option<MotoServer>, HarnessError> {
        let port = unused_port()?;
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(HarnessError::MotoMissing)?;
        let mut server = MotoServer { child, port };
        let started = Instant::now();
        let limit = Duration::from_secs(30);
        while started.elapsed() < limit {
            if let Ok(Some(_)) = server.child.try_wait() {
                return Ok(None);
            }
            if let Ok((200, _)) = http_request(port, "GET", "/moto-api/data.json", "") {
                // Answered: make sure it was our process (still running), not another one.
                std::thread::sleep(Duration::from_millis(20));
                if let Ok(Some(_)) = server.child.try_wait() {
                    return Ok(None);
                }
                return Ok(Some(server));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(HarnessError::MotoNotReady {
            port,
            secs: limit.as_secs(),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Forgets every resource (`POST /moto-api/reset`).
    pub fn reset(&self) -> Result<(), HarnessError> {
        let (status, body) = http_request(self.port, "POST", "/moto-api/reset", "")?;
        if status != 200 {
            return Err(HarnessError::aws(
                "moto reset",
                format!("HTTP {status}: {body}"),
            ));
        }
        Ok(())
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An SDK configuration for `endpoint` with static credentials (moto maps plain credentials to
/// [`DEFAULT_ACCOUNT`]), fast retries (5 attempts, 10 ms initial backoff).
pub async fn sdk_config(endpoint: &str, credentials: Credentials) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(credentials)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(5)
                .with_initial_backoff(Duration::from_millis(10))
                .with_max_backoff(Duration::from_millis(200)),
        )
        .load()
        .await
}

/// Static test credentials of the management account.
pub fn management_credentials() -> Credentials {
    Credentials::new("testing", "testing", None, None, "iamwatch-e2e")
}

/// `base` pointed at another endpoint (e.g. a [`crate::proxy::FaultProxy`]).
pub fn with_endpoint(base: &SdkConfig, endpoint: &str) -> SdkConfig {
    base.to_builder().endpoint_url(endpoint).build()
}

/// The configuration of a role in another account, assumed with `base` (moto files the calls
/// made with the returned credentials in that account).
pub async fn assume(base: &SdkConfig, role_arn: &str) -> Result<SdkConfig, HarnessError> {
    let out = aws_sdk_sts::Client::new(base)
        .assume_role()
        .role_arn(role_arn)
        .role_session_name("iamwatch-e2e")
        .send()
        .await
        .map_err(|e| {
            HarnessError::aws(
                format!("AssumeRole {role_arn}"),
                aws_sdk_sts::error::DisplayErrorContext(e),
            )
        })?;
    let c = out
        .credentials()
        .ok_or_else(|| HarnessError::aws("AssumeRole", "no credentials"))?;
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "iamwatch-e2e-assumed",
    );
    Ok(base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build())
}
