//! The inventory: every IAM user that already exists, read from IAM credential reports, checked
//! by the hygiene rules, and written as dated tables.
//!
//! # Layout
//!
//! - [`day`]: the UTC calendar day of partitions and `--as-of`.
//! - [`report`]: the credential report reader (AWS's CSV as `GetCredentialReport` returns it).
//! - [`rules`]: the hygiene rules, one file per rule id, and [`rules::RULES`], their one list.
//! - [`check`]: a report to scored ASFF findings, with the real-time rules' scoring and model.
//! - [`table`]: the rows of the `users` and `accounts` tables and their object keys.

pub mod check;
pub mod day;
pub mod report;
pub mod rules;
pub mod table;

pub use check::{evaluate, Evaluation};
pub use day::Day;
pub use report::{CredentialReport, ReportRow};
pub use table::{AccessKeyRow, AccountRow, AccountStatus, Table, UserRow};

/// Every rule id a policy may name: the real-time rules' and the hygiene rules'.
pub fn all_rule_ids() -> Vec<&'static str> {
    let mut ids = crate::rules::ids();
    ids.extend(rules::ids());
    ids
}
