//! AWS adapters of iamwatch: the implementations of the core's [`iamwatch_core::ports`] that
//! talk to AWS, used by the Lambda functions and the CLI (no Lambda runtime concern here: that
//! is `iamwatch-lambda`).
//!
//! # Layout
//!
//! - [`config`]: the SDK configuration (`AWS_ENDPOINT_URL` honoured, retries with exponential
//!   backoff and jitter on throttling and 5xx) and the partition of a region.
//! - [`accounts`]: [`accounts::AccountClients`], an SDK configuration per member account through
//!   `sts:AssumeRole` of the member role, with the credentials cached until shortly before
//!   they expire. The detect and ticket functions share it.
//! - [`enrich`]: [`enrich::AwsEnricher`], the core's `Enricher` over Organizations and IAM, with a
//!   TTL cache across warm invocations; failures become enrichment gaps, never errors.
//! - [`org`]: reading the organization: one account's name, OU path and tags, and
//!   [`org::snapshot`] for `iamwatch org snapshot`.
//! - [`securityhub`]: [`securityhub::SecurityHubSink`], the core's `FindingSink`:
//!   `BatchImportFindings` in the finding's account (fallback: the security account), and
//!   `GetFindings` for the findings a resolving event ends.
//! - [`writeback`]: [`writeback::SecurityHubWriteBack`], the core's `TicketWriteBack`:
//!   `BatchUpdateFindings` (workflow NOTIFIED and a note naming the ticket) in the account the
//!   finding was filed in.
//! - [`inventory`]: the ports of the inventory sweep (`iamwatch-sweep`): the organization's
//!   accounts, IAM per account (credential report, authorization details, keys, MFA devices)
//!   and [`inventory::S3Store`], the tables in S3.
//! - [`secrets`]: [`secrets::SecretsManager`], the core's `SecretStore`: `GetSecretValue`,
//!   parsed without the value ever reaching an error.
//! - [`ledger`]: [`ledger::DynamoDbLedger`], the core's `TicketLedger`: the ticket ledger in
//!   DynamoDB with conditional writes (and `MemoryLedger`, its double, with `test-support`).
//! - [`deadletter`]: [`deadletter::SqsDeadLetters`], the core's `DeadLetters`: a message that
//!   can never succeed sent to its dead-letter queue with its reason.
//! - [`asff`]: the core's ASFF [`iamwatch_core::Finding`] to and from the SDK's
//!   `AwsSecurityFinding`.
//! - [`eventbridge`]: [`eventbridge::EventBridgePublisher`], the core's `FindingPublisher`.
//! - [`runtime`]: the async runtime the CLI's AWS commands and the Lambda mains run on, with
//!   stacks that hold the SDK's deserializers of large shapes.
//! - [`error`]: SDK errors to the core's `PortError`, with `retryable` set for throttling,
//!   5xx, timeouts and connection failures.
//! - `testing` (feature `test-support`): `Memory*` doubles of the ports for handler tests, and
//!   sample CloudTrail records.

pub mod accounts;
pub mod asff;
mod cache;
pub mod config;
pub mod deadletter;
pub mod enrich;
pub mod error;
pub mod eventbridge;
pub mod inventory;
pub mod ledger;
pub mod org;
pub mod runtime;
pub mod secrets;
pub mod securityhub;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod writeback;

pub use accounts::AccountClients;
pub use deadletter::SqsDeadLetters;
pub use enrich::AwsEnricher;
pub use eventbridge::EventBridgePublisher;
pub use ledger::DynamoDbLedger;
pub use secrets::SecretsManager;
pub use securityhub::SecurityHubSink;
pub use writeback::SecurityHubWriteBack;
