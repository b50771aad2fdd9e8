//! Lambda `detect`: SQS batch of CloudTrail IAM envelopes -> Security Hub findings and finding
//! events. The handler is [`iamwatch_detect::handler`]; this main only wires it up.

// The future of the SDK clients and the runtime nests deeply.
#![recursion_limit = "256"]

use aws_config::SdkConfig;
use iamwatch_aws::config::load_sdk_config;
use iamwatch_aws::{AccountClients, AwsEnricher, EventBridgePublisher, SecurityHubSink};
use iamwatch_detect::config::Config;
use iamwatch_detect::{handler, Detector};
use lambda_runtime::{service_fn, LambdaEvent};

/// Builds the detector from the configuration and the SDK configuration.
fn detector(
    cfg: &Config,
    sdk: SdkConfig,
) -> anyhow::Result<Detector<AwsEnricher, SecurityHubSink, EventBridgePublisher>> {
    let policy = cfg.load_policy()?;
    let ctx = cfg.finding_context();
    let accounts = AccountClients::new(sdk.clone(), cfg.member_role.clone());
    Ok(Detector {
        enricher: AwsEnricher::new(accounts.clone(), cfg.org_role_arn.clone(), cfg.cache_ttl),
        sink: SecurityHubSink::new(accounts, ctx.region.clone(), ctx.partition.clone()),
        publisher: EventBridgePublisher::new(&sdk, cfg.event_bus.clone()),
        policy,
        ctx,
    })
}

fn main() -> Result<(), lambda_runtime::Error> {
    // One thread, with a stack that holds the SDK's deserializers.
    iamwatch_aws::runtime::run_single(serve)?
}

async fn serve() -> Result<(), lambda_runtime::Error> {
    iamwatch_lambda::logging::init_json();
    let cfg = Config::from_env().map_err(|e| {
        tracing::error!(error = %e, "configuration");
        e
    })?;
    let sdk = load_sdk_config().await;
    let d = detector(&cfg, sdk).map_err(|e| {
        tracing::error!(error = %format!("{e:#}"), "startup");
        e
    })?;
    let d = &d;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        handler(d, event).await
    }))
    .await
}
