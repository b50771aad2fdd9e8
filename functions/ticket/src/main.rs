//! Lambda `ticket`: finding events -> Jira issues, Slack messages, ticket written back on the
//! finding, each recorded in the ticket ledger. The handler is [`iamwatch_ticket::handler`];
//! this main only wires it up.

// The future of the SDK clients and the runtime nests deeply.
#![recursion_limit = "256"]

use iamwatch_aws::config::load_sdk_config;
use iamwatch_aws::{
    AccountClients, DynamoDbLedger, SecretsManager, SecurityHubWriteBack, SqsDeadLetters,
};
use iamwatch_ticket::config::TicketConfig;
use iamwatch_ticket::secrets::{SecretJira, SecretSlack};
use iamwatch_ticket::{
    handler, lambda_retry_policy, Ticketer, DEFAULT_CLAIM_LEASE, DEFAULT_MESSAGE_BUDGET,
};
use lambda_runtime::{service_fn, LambdaEvent};

fn main() -> Result<(), lambda_runtime::Error> {
    // One thread, with a stack that holds the SDK's deserializers.
    iamwatch_aws::runtime::run_single(serve)?
}

async fn serve() -> Result<(), lambda_runtime::Error> {
    iamwatch_lambda::logging::init_json();
    let cfg = TicketConfig::from_env().map_err(|e| {
        tracing::error!(error = %e, "configuration");
        e
    })?;
    let min_score = cfg.min_score().map_err(|e| {
        tracing::error!(error = %e, "configuration");
        e
    })?;
    if cfg.jira.is_none() && cfg.slack_secret_arn.is_none() {
        tracing::warn!("neither Jira nor Slack is configured: findings are only logged");
    }
    let sdk = load_sdk_config().await;
    let accounts = AccountClients::new(sdk.clone(), cfg.writeback_role.clone());
    let security_account = match cfg.security_account.clone() {
        Some(a) => a,
        None => accounts.own_account_id().await.map_err(|e| {
            tracing::error!(error = %e, "the function's own account (IAMWATCH_SECURITY_ACCOUNT is unset)");
            e
        })?,
    };
    let secrets = SecretsManager::new(&sdk);
    let ticketer = Ticketer {
        jira: cfg
            .jira
            .clone()
            .map(|j| SecretJira::new(secrets.clone(), j, lambda_retry_policy())),
        slack: cfg
            .slack_secret_arn
            .clone()
            .map(|arn| SecretSlack::new(secrets.clone(), arn, lambda_retry_policy())),
        write_back: SecurityHubWriteBack::new(accounts),
        ledger: DynamoDbLedger::new(&sdk, cfg.ledger_table.clone()),
        dead_letters: cfg
            .dead_letter_queue_url
            .clone()
            .map(|url| SqsDeadLetters::new(&sdk, url)),
        security_account,
        min_score,
        message_budget: DEFAULT_MESSAGE_BUDGET,
        claim_lease: DEFAULT_CLAIM_LEASE,
    };
    let ticketer = &ticketer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        handler(ticketer, event).await
    }))
    .await
}
