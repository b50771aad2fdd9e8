//! The notifiers built from their Secrets Manager secrets on first use, once per container.
//!
//! The secret is fetched when the first finding needs it, not at start-up: a Secrets Manager
//! blip then fails that message (retryable, SQS redelivers it) instead of failing the
//! container's init. Once fetched, the notifier is kept for the container's lifetime. Secret
//! values never reach a log or an error message: a secret that does not parse is reported by
//! its ARN and the expected form only.

use crate::config::JiraSettings;
use iamwatch_core::finding_event::FindingEvent;
use iamwatch_core::ports::{Notifier, PortError, TicketRef, TicketSink};
use iamwatch_notify::{
    JiraConfig, JiraCredentials, JiraTicketSink, RetryPolicy, SlackNotifier, SlackWebhook,
};
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;

/// Fetches the secret `arn` and parses its string as `T`. `form` describes the expected JSON
/// for the error message.
pub async fn fetch_secret<T: DeserializeOwned>(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
    form: &str,
) -> Result<T, PortError> {
    let operation = format!("secretsmanager:GetSecretValue {arn}");
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| iamwatch_aws::error::port_error(operation.clone(), &e))?;
    let Some(text) = out.secret_string() else {
        return Err(PortError {
            operation,
            message: format!("the secret has no string value; expected {form}"),
            retryable: false,
        });
    };
    // serde's messages can quote the value: only its category and position are kept.
    serde_json::from_str(text).map_err(|e| PortError {
        operation,
        message: format!(
            "the secret is not {form} ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ),
        retryable: false,
    })
}

/// A [`JiraTicketSink`] whose credentials come from Secrets Manager on first use.
pub struct SecretJira {
    secrets: aws_sdk_secretsmanager::Client,
    settings: JiraSettings,
    retry: RetryPolicy,
    sink: OnceCell<JiraTicketSink>,
}

impl SecretJira {
    pub fn new(
        secrets: aws_sdk_secretsmanager::Client,
        settings: JiraSettings,
        retry: RetryPolicy,
    ) -> SecretJira {
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
                let credentials: JiraCredentials = fetch_secret(
                    &self.secrets,
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

impl TicketSink for SecretJira {
    async fn open(&self, event: &FindingEvent) -> Result<TicketRef, PortError> {
        self.sink().await?.open(event).await
    }
}

/// A [`SlackNotifier`] whose webhook comes from Secrets Manager on first use.
pub struct SecretSlack {
    secrets: aws_sdk_secretsmanager::Client,
    secret_arn: String,
    retry: RetryPolicy,
    notifier: OnceCell<SlackNotifier>,
}

impl SecretSlack {
    pub fn new(
        secrets: aws_sdk_secretsmanager::Client,
        secret_arn: String,
        retry: RetryPolicy,
    ) -> SecretSlack {
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
                let webhook: SlackWebhook =
                    fetch_secret(&self.secrets, &self.secret_arn, r#"{"webhook_url": ...}"#)
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

impl Notifier for SecretSlack {
    async fn notify(
        &self,
        event: &FindingEvent,
        ticket: Option<&TicketRef>,
    ) -> Result<(), PortError> {
        self.notifier().await?.notify(event, ticket).await
    }
}
