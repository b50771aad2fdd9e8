//! Lambda `inventory`: the daily sweep. This main only wires it up: configuration read once,
//! clients built once, then one sweep per invocation ([`iamwatch_aws::inventory::run_sweep`]).

// The future of the SDK clients and the runtime nests deeply.
#![recursion_limit = "256"]

use iamwatch_aws::config::load_sdk_config;
use iamwatch_sweep::config::SweepConfig;
use iamwatch_sweep::sweep::SweepOptions;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

fn main() -> Result<(), lambda_runtime::Error> {
    // One thread, with a stack that holds the SDK's deserializers.
    iamwatch_aws::runtime::run_single(serve)?
}

async fn serve() -> Result<(), lambda_runtime::Error> {
    iamwatch_lambda::logging::init_json();
    let cfg = SweepConfig::from_env().map_err(|e| {
        tracing::error!(error = %e, "configuration");
        e
    })?;
    let policy = cfg.load_policy().map_err(|e| {
        tracing::error!(error = %e, "configuration");
        e
    })?;
    let sdk = load_sdk_config().await;
    let (cfg, sdk, policy) = (&cfg, &sdk, &policy);
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let mut options = SweepOptions::now();
        options.concurrency = cfg.concurrency;
        options.runbook_base_url = cfg.runbook_base_url.clone();
        options.guardrail_ous = cfg.guardrail_ous.clone();
        let summary = iamwatch_aws::inventory::run_sweep(cfg, sdk, policy, &options)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "sweep");
                e
            })?;
        iamwatch_lambda::emf::print(&iamwatch_inventory::metrics(
            &summary,
            options.now_ms as u64,
        ));
        let out = iamwatch_inventory::result(&summary);
        tracing::info!(summary = %out, "sweep done");
        Ok::<Value, lambda_runtime::Error>(out)
    }))
    .await
}
