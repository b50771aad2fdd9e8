//! What every iamwatch Lambda function needs besides its handler, written once:
//!
//! - [`batch`]: the SQS batch loop: one tracing span per message, per-message failures
//!   reported (`ReportBatchItemFailures`), FIFO order kept per message group, and the
//!   invocation deadline budget (messages not started, or cut off, near the deadline).
//! - [`deadline`]: time left before an invocation's deadline.
//! - [`emf`]: CloudWatch embedded-metric-format documents, printed as JSON lines.
//! - [`logging`]: structured JSON logs for CloudWatch.
//! - [`env`]: the environment, read once through a lookup (errors name the variable), the
//!   member role and the policy file shared by the functions.
//! - `testing` (feature `test-support`): SQS records and batches as Lambda delivers them, and
//!   environments of configuration tests.
//!
//! A function's `main` stays thin: [`logging::init_json`], its configuration read once through
//! [`env::Env`], its clients built once, then `lambda_runtime::run` of a handler that calls
//! [`batch::process`].

pub mod batch;
pub mod deadline;
pub mod emf;
pub mod env;
pub mod logging;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;

pub use batch::{BatchOptions, DeadlineBudget, Disposition};
pub use env::{ConfigError, Env};
