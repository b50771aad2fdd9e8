//! [`SecurityHubWriteBack`]: the core's [`TicketWriteBack`] over Security Hub.
//!
//! Writing the ticket back on the finding: Security Hub `BatchUpdateFindings` with
//! `Workflow.Status = NOTIFIED` and a `Note` naming the ticket, in the account the finding was
//! filed in (the account of its `ProductArn`), through the member role there, or with the
//! function's own credentials when that is the function's own account (findings filed in the
//! security account as a fallback).

use crate::accounts::AccountClients;
use crate::error::port_error;
use iamwatch_core::finding::{truncate, Finding};
use iamwatch_core::ports::{PortError, TicketRef, TicketWriteBack};

/// `Note.UpdatedBy` of the write-back.
pub const UPDATED_BY: &str = "iamwatch";
/// Security Hub's longest `Note.Text`.
const MAX_NOTE: usize = 512;

/// The note written on the finding: `Jira SEC-12 https://.../browse/SEC-12`.
pub fn note_text(ticket: &TicketRef) -> String {
    truncate(&format!("Jira {} {}", ticket.key, ticket.url), MAX_NOTE)
}

/// The account a finding was filed in: the one of its product ARN
/// (`arn:aws:securityhub:<region>:<account>:product/<account>/default`), else `AwsAccountId`.
pub fn filed_in_account(finding: &Finding) -> &str {
    finding
        .product_arn
        .split(':')
        .nth(4)
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or(&finding.aws_account_id)
}

/// [`TicketWriteBack`] over Security Hub.
#[derive(Clone)]
pub struct SecurityHubWriteBack {
    accounts: AccountClients,
    /// Security Hub endpoint override (tests); otherwise the SDK's, which honours
    /// `AWS_ENDPOINT_URL_SECURITYHUB` and `AWS_ENDPOINT_URL`.
    endpoint: Option<String>,
}

impl SecurityHubWriteBack {
    pub fn new(accounts: AccountClients) -> SecurityHubWriteBack {
        SecurityHubWriteBack {
            accounts,
            endpoint: None,
        }
    }

    /// Sends Security Hub calls to `endpoint` (STS calls still go where the SDK config says).
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> SecurityHubWriteBack {
        self.endpoint = Some(endpoint.into());
        self
    }

    async fn client(&self, account: &str) -> Result<aws_sdk_securityhub::Client, PortError> {
        let own = self.accounts.own_account_id().await?;
        let sdk = if own == account {
            self.accounts.base().clone()
        } else {
            self.accounts.for_account(account).await?
        };
        let mut conf = aws_sdk_securityhub::config::Builder::from(&sdk);
        if let Some(endpoint) = &self.endpoint {
            conf = conf.endpoint_url(endpoint);
        }
        Ok(aws_sdk_securityhub::Client::from_conf(conf.build()))
    }
}

impl TicketWriteBack for SecurityHubWriteBack {
    async fn write_back(&self, finding: &Finding, ticket: &TicketRef) -> Result<(), PortError> {
        use aws_sdk_securityhub::types::{
            AwsSecurityFindingIdentifier, NoteUpdate, WorkflowStatus, WorkflowUpdate,
        };
        let account = filed_in_account(finding);
        let operation = format!("securityhub:BatchUpdateFindings in {account}");
        let identifier = AwsSecurityFindingIdentifier::builder()
            .id(&finding.id)
            .product_arn(&finding.product_arn)
            .build();
        let note = NoteUpdate::builder()
            .text(note_text(ticket))
            .updated_by(UPDATED_BY)
            .build();
        let out = self
            .client(account)
            .await?
            .batch_update_findings()
            .finding_identifiers(identifier)
            .workflow(
                WorkflowUpdate::builder()
                    .status(WorkflowStatus::Notified)
                    .build(),
            )
            .note(note)
            .send()
            .await
            .map_err(|e| port_error(operation.clone(), &e))?;
        if let Some(u) = out.unprocessed_findings().first() {
            let code = u.error_code().unwrap_or("Unknown");
            return Err(PortError {
                operation,
                message: format!(
                    "{code}: {} ({})",
                    u.error_message().unwrap_or_default(),
                    finding.id
                ),
                // Security Hub reports throttling and internal failures per finding too.
                retryable: code.contains("Throttl") || code.contains("Internal"),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_the_ticket_within_the_limit() {
        let t = TicketRef {
            key: "SEC-12".into(),
            url: "https://example.atlassian.net/browse/SEC-12".into(),
            created: true,
        };
        assert_eq!(
            note_text(&t),
            "Jira SEC-12 https://example.atlassian.net/browse/SEC-12"
        );
        let long = TicketRef {
            url: "x".repeat(2000),
            ..t
        };
        assert!(note_text(&long).len() <= MAX_NOTE);
    }
}
