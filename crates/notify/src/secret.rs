//! The credentials of the notifiers, as stored in Secrets Manager. Their `Debug` never shows
//! the secret part, so they can sit in logged structs without leaking.

use serde::Deserialize;
use std::fmt;

/// Jira Cloud basic-auth credentials: secret `{"email": "...", "api_token": "..."}`.
#[derive(Clone, Deserialize)]
pub struct JiraCredentials {
    pub email: String,
    pub api_token: String,
}

impl fmt::Debug for JiraCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JiraCredentials")
            .field("email", &self.email)
            .field("api_token", &"<redacted>")
            .finish()
    }
}

/// A Slack incoming-webhook URL: secret `{"webhook_url": "https://hooks.slack.com/services/..."}`.
/// The URL itself is the credential.
#[derive(Clone, Deserialize)]
pub struct SlackWebhook {
    pub webhook_url: String,
}

impl fmt::Debug for SlackWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlackWebhook")
            .field("webhook_url", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let j: JiraCredentials =
            serde_json::from_str(r#"{"email":"sec@example.com","api_token":"tok-123"}"#).unwrap();
        let s = format!("{j:?}");
        assert!(
            s.contains("sec@example.com") && !s.contains("tok-123"),
            "{s}"
        );
        let w: SlackWebhook =
            serde_json::from_str(r#"{"webhook_url":"https://hooks.slack.com/services/T/B/xyz"}"#)
                .unwrap();
        let s = format!("{w:?}");
        assert!(!s.contains("xyz") && s.contains("redacted"), "{s}");
    }
}
