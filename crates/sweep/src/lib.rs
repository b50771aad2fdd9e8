//! The inventory sweep of iamwatch: every IAM user of every account of the organization, once
//! a day, into dated tables, hygiene findings, a watchdog of the real-time path and a summary
//! line. No AWS SDK here: the adapters implement [`ports`] (`iamwatch-aws`: Organizations, IAM,
//! S3), so `iamwatch inventory sweep` and the `inventory` Lambda run this same code.
//!
//! # Layout
//!
//! - [`config`]: the environment of a sweep (`IAMWATCH_INVENTORY_OUT`, ...).
//! - [`ports`]: the narrow traits the sweep drives (org source, IAM per account, table store,
//!   summary notifier) and their data.
//! - [`report`]: the credential report, generated and fetched with backoff.
//! - [`admin`]: whether a user is admin, and through which policies or groups.
//! - [`watchdog`]: creators from real-time findings, and the finding of a user the live path
//!   missed.
//! - [`account`]: one account's sweep: report, live reads, rules, owners, creators, watchdog,
//!   archiving.
//! - [`sweep`]: the whole sweep ([`sweep::Sweeper`]): accounts with bounded concurrency, the
//!   day's tables, findings, the report ([`sweep::publish_report`]) and the summary line.
//! - [`store`]: reading the tables through a store, [`store::FolderStore`], and the view the
//!   report reads.

pub mod account;
pub mod admin;
pub mod config;
pub mod ports;
pub mod report;
pub mod store;
pub mod sweep;
pub mod watchdog;
