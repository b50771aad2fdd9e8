//! End-to-end test support of iamwatch, shared by the tests of this package, the demo and
//! other packages' tests (the ticket function's):
//!
//! - [`moto`]: a `moto_server` per test ([`moto::MotoServer`]), killed on drop, and SDK
//!   configurations pointed at it ([`moto::sdk_config`]).
//! - [`proxy`]: [`proxy::FaultProxy`], an HTTP proxy between the SDK and moto that answers
//!   chosen operations with throttling, 5xx or access denied, in each protocol's error shape.
//! - [`org`]: [`org::TestOrg`], an organization in moto: management account, OUs Prod and
//!   Sandbox (and Security), member accounts, the central bus, queues and rules of the
//!   security account.
//! - [`events`]: CloudTrail-shaped EventBridge envelopes, one per rule, from the rule's sample
//!   in `events/` (moved into a test account, about a given user and key).
//! - [`runtime_api`]: a Lambda Runtime API served by the test, to run a compiled bootstrap.
//!
//! The HTTP servers here (the proxy, the Runtime API) run on the one test-server helper,
//! `iamwatch_notify::testing::server::serve`.
//! - [`sqs`]: SQS messages to the `LambdaEvent<SqsEvent>` a Lambda would get.
//! - [`trail`]: an organization trail's log files in CloudTrail's S3 layout, generated, and
//!   put into moto's S3.

pub mod events;
pub mod moto;
pub mod org;
pub mod pipeline;
pub mod proxy;
pub mod runtime_api;
pub mod sqs;
pub mod trail;

/// Errors of the harness.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("moto_server is not on PATH: install it with `pip install 'moto[server]'` (scripts/requirements-test.txt pins the version; scripts/test-all.sh installs it): {0}")]
    MotoMissing(std::io::Error),
    #[error("moto_server did not become ready on port {port} within {secs} s")]
    MotoNotReady { port: u16, secs: u64 },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{context}: {message}")]
    Aws { context: String, message: String },
}

impl HarnessError {
    pub fn aws(context: impl Into<String>, e: impl std::fmt::Display) -> HarnessError {
        HarnessError::Aws {
            context: context.into(),
            message: e.to_string(),
        }
    }
}

/// Runs an async test body as the programs run theirs ([`iamwatch_aws::runtime::run`]): on a
/// thread and runtime workers whose stacks hold the SDK's deserializers, which overflow a test
/// thread's 2 MiB in debug builds. A panic of the body is the test's panic.
pub fn run<F, Fut>(body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    iamwatch_aws::runtime::run(body).unwrap_or_else(|e| panic!("tokio runtime: {e}"));
}
