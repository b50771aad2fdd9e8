//! [`FakeSlack`]: a Slack incoming webhook on a [`RecordingServer`].

use super::server::{Canned, RecordedRequest, RecordingServer};
use serde_json::Value;

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
