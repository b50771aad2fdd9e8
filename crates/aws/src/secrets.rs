//! [`SecretsManager`]: the core's [`SecretStore`] over Secrets Manager `GetSecretValue`.
//!
//! Secret values never reach a log or an error message: a secret that does not parse is
//! reported by its ARN and the expected form only.

use crate::error::port_error;
use iamwatch_core::ports::{PortError, SecretStore};
use serde::de::DeserializeOwned;

/// Reads secrets from Secrets Manager. Build once per container.
#[derive(Clone)]
pub struct SecretsManager {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretsManager {
    pub fn new(sdk: &aws_config::SdkConfig) -> SecretsManager {
        SecretsManager {
            client: aws_sdk_secretsmanager::Client::new(sdk),
        }
    }

    /// Over a client of its own (an endpoint override in tests).
    pub fn from_client(client: aws_sdk_secretsmanager::Client) -> SecretsManager {
        SecretsManager { client }
    }
}

impl SecretStore for SecretsManager {
    /// Fetches the secret `id` (its ARN) and parses its string as `T`.
    async fn json<T: DeserializeOwned + Send>(&self, id: &str, form: &str) -> Result<T, PortError> {
        let operation = format!("secretsmanager:GetSecretValue {id}");
        let out = self
            .client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| port_error(operation.clone(), &e))?;
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
}
