//! The inventory: every IAM user that already exists, read from IAM credential reports, checked
//! by the hygiene rules, and written as dated tables.
//!
//! # Layout
//!
//! - [`day`]: the UTC calendar day of partitions and `--as-of`.
//! - [`table`]: the rows of the `users` and `accounts` tables and their object keys.

pub mod day;
pub mod table;

pub use day::Day;
pub use table::{AccessKeyRow, AccountRow, AccountStatus, Table, UserRow};
