//! The notifiers built from their secrets on first use, once per container.
//!
//! The secret is fetched (through the core's [`SecretStore`]: Secrets Manager in the Lambda,
//! `iamwatch_aws::SecretsManager`) when the first finding needs it, not at start-up: a Secrets
//! Manager blip then fails that message (retryable, SQS redelivers it) instead of failing the
//! container's init. Once fetched, the notifier is kept for the container's lifetime. Secret
//! values never reach a log or an error message.

use crate::config::JiraSettings;
use iamwatch_core::finding_event::FindingEvent;
use iamwatch_core::ports::{Notifier, PortError, SecretStore, TicketRef, TicketSink};
use iamwatch_notify::{
    JiraConfig, JiraCredentials, JiraTicketSink, RetryPolicy, SlackNotifier, SlackWebhook,
};
use tokio::sync::OnceCell;

/// A [`JiraTicketSink`] whose credentials come from the secret store on first use.
pub struct SecretJira<S> {
    secrets: S,
    settings: JiraSettings,
    retry: RetryPolicy,
    sink: OnceCell<JiraTicketSink>,
}

impl<S: SecretStore> SecretJira<S> {
    pub fn new(secrets: S, settings: JiraSettings, retry: RetryPolicy) -> SecretJira<S> {
        SecretJira {
            secrets,
            settings,
            retry,
            sink: OnceCell::new(),
        }
    }

    async fn sink(&self) -> Result<&JiraTicketSink, PortError> {
        self.sink
            .get_or_try_init(|| async {
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
                };
                JiraTicketSink::new(config).map_err(|e| PortError {
                    operation: "jira:configure".to_string(),
                    message: e.to_string(),
                    retryable: false,
                })
            })
            .await
    }
}

impl<S: SecretStore> TicketSink for SecretJira<S> {
    async fn open(&self, event: &FindingEvent) -> Result<TicketRef, PortError> {
        self.sink().await?.open(event).await
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
