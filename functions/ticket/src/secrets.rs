//! The notifiers built from their secrets on first use, once per container.
//!
//! The secret is fetched (through the core's [`SecretStore`]: Secrets Manager in the Lambda,
//! `iamwatch_aws::SecretsManager`) when the first finding needs it, not at start-up: a Secrets
//! Manager blip then fails that message (retryable, SQS redelivers it) instead of failing the
//! container's init. Once fetched, the notifier is kept for the container's lifetime; Jira's
//! credentials are read again when Jira answers 401 (a rotated token). Secret values never
//! reach a log or an error message.

use crate::config::JiraSettings;
use iamwatch_core::finding_event::FindingEvent;
use iamwatch_core::ports::{Issue, IssueTracker, Notifier, PortError, SecretStore, TicketRef};
use iamwatch_notify::{
    JiraConfig, JiraCredentials, JiraTicketSink, RetryPolicy, SlackNotifier, SlackWebhook,
};
use std::sync::Arc;
use tokio::sync::{OnceCell, RwLock};

/// A [`JiraTicketSink`] whose credentials come from the secret store on first use, and again
/// when Jira answers 401 (the token was rotated): the call is then tried once more with the
/// credentials read anew. A 401 with fresh credentials fails retryably (the secret may be put
/// right before the message's retries run out).
pub struct SecretJira<S> {
    secrets: S,
    settings: JiraSettings,
    retry: RetryPolicy,
    sink: RwLock<Option<Arc<JiraTicketSink>>>,
}

impl<S: SecretStore> SecretJira<S> {
    pub fn new(secrets: S, settings: JiraSettings, retry: RetryPolicy) -> SecretJira<S> {
        SecretJira {
            secrets,
            settings,
            retry,
            sink: RwLock::new(None),
        }
    }

    /// Reads the secret and builds a sink from it.
    async fn build(&self) -> Result<Arc<JiraTicketSink>, PortError> {
        let credentials: JiraCredentials = self
            .secrets
            .json(
                &self.settings.secret_arn,
                r#"{"email": ..., "api_token": ...}"#,
            )
            .await?;
        let config = JiraConfig {
            base_url: self.settings.base_url.clone(),
            project_key: self.settings.project.clone(),
            issue_type: self.settings.issue_type.clone(),
            credentials,
            retry: self.retry,
            close_transition: self.settings.close_transition.clone(),
            reopen_transition: self.settings.reopen_transition.clone(),
        };
        JiraTicketSink::new(config)
            .map(Arc::new)
            .map_err(|e| PortError {
                operation: "jira:configure".to_string(),
                message: e.to_string(),
                retryable: false,
            })
    }

    /// The sink, built on first use.
    async fn sink(&self) -> Result<Arc<JiraTicketSink>, PortError> {
        if let Some(s) = self.sink.read().await.as_ref() {
            return Ok(s.clone());
        }
        let mut slot = self.sink.write().await;
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let s = self.build().await?;
        *slot = Some(s.clone());
        Ok(s)
    }

    /// A sink with the credentials read anew (after a 401).
    async fn refresh(&self) -> Result<Arc<JiraTicketSink>, PortError> {
        tracing::warn!("Jira answered 401: reading its credentials again from the secret");
        let s = self.build().await?;
        *self.sink.write().await = Some(s.clone());
        Ok(s)
    }
}

/// A 401 even with the credentials read anew: retryable, naming the secret (never its value).
fn still_unauthorized(e: PortError, secret_arn: &str) -> PortError {
    if !iamwatch_notify::is_unauthorized(&e) {
        return e;
    }
    PortError {
        message: format!(
            "{} (with the credentials of {secret_arn} read anew: put a valid API token there)",
            e.message
        ),
        retryable: true,
        ..e
    }
}

/// Runs `$call` (an expression using `$sink`) on the sink, and once more on a refreshed sink
/// when Jira answered 401.
macro_rules! with_refresh {
    ($self:ident, $sink:ident => $call:expr) => {{
        let $sink = $self.sink().await?;
        match $call.await {
            Err(e) if iamwatch_notify::is_unauthorized(&e) => {
                let $sink = $self.refresh().await?;
                $call
                    .await
                    .map_err(|e| still_unauthorized(e, &$self.settings.secret_arn))
            }
            other => other,
        }
    }};
}

impl<S: SecretStore> IssueTracker for SecretJira<S> {
    async fn open(
        &self,
        event: &FindingEvent,
        episode: u32,
        known: &[String],
    ) -> Result<(Issue, bool), PortError> {
        with_refresh!(self, sink => sink.open(event, episode, known))
    }

    async fn close(&self, issue: &Issue, event: &FindingEvent) -> Result<(), PortError> {
        with_refresh!(self, sink => sink.close(issue, event))
    }

    async fn recur(&self, issue: &Issue, event: &FindingEvent) -> Result<bool, PortError> {
        with_refresh!(self, sink => sink.recur(issue, event))
    }
}

/// A [`SlackNotifier`] whose webhook comes from the secret store on first use.
pub struct SecretSlack<S> {
    secrets: S,
    secret_arn: String,
    retry: RetryPolicy,
    notifier: OnceCell<SlackNotifier>,
}

impl<S: SecretStore> SecretSlack<S> {
    pub fn new(secrets: S, secret_arn: String, retry: RetryPolicy) -> SecretSlack<S> {
        SecretSlack {
            secrets,
            secret_arn,
            retry,
            notifier: OnceCell::new(),
        }
    }

    async fn notifier(&self) -> Result<&SlackNotifier, PortError> {
        self.notifier
            .get_or_try_init(|| async {
                let webhook: SlackWebhook = self
                    .secrets
                    .json(&self.secret_arn, r#"{"webhook_url": ...}"#)
                    .await?;
                SlackNotifier::new(webhook, self.retry).map_err(|e| PortError {
                    operation: "slack:configure".to_string(),
                    message: e.to_string(),
                    retryable: false,
                })
            })
            .await
    }
}

impl<S: SecretStore> Notifier for SecretSlack<S> {
    async fn notify(
        &self,
        event: &FindingEvent,
        ticket: Option<&TicketRef>,
    ) -> Result<(), PortError> {
        self.notifier().await?.notify(event, ticket).await
    }
}
