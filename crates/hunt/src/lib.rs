//! Retro-hunts at organization scale: the IAM filter pushed down to Athena over the CloudTrail
//! table, the rows mapped back to CloudTrail records and judged by the same core as a scan.
//!
//! - [`sql`]: the query (pure): in-scope event sources and names, date / account / region
//!   partitions, values checked and quoted.
//! - [`row`]: a result row back into a [`iamwatch_core::CloudTrailRecord`] (pure).
//! - [`athena`]: `StartQueryExecution`, polling, `GetQueryResults` pages.
//! - [`collect`]: records to findings through `engine` and `timeline`.

pub mod athena;
pub mod collect;
pub mod row;
pub mod sql;

pub use athena::{AthenaError, Executed, Run};
pub use collect::{finding_counts, Collector, Counts};
pub use sql::{Bound, DateFormat, Layout, Query, SqlError, Table};

/// Runs `query` in Athena and feeds every row to `collector`; a row that is no record is
/// reported through `note` (with the query id) and counted, and the hunt goes on.
pub async fn hunt(
    client: &aws_sdk_athena::Client,
    query: &Query,
    run: &Run,
    collector: &mut Collector,
    note: &mut dyn FnMut(String),
) -> Result<Executed, HuntError> {
    let sql = query.sql()?;
    let mut n = 0u64;
    let executed = athena::query(client, &sql, run, &mut |cells| {
        n += 1;
        match row::record(&cells) {
            Ok(record) => collector.add(&record, note),
            Err(e) => {
                collector.bad_row();
                note(format!("row {n}: {e}"));
            }
        }
    })
    .await?;
    Ok(executed)
}

/// Why a hunt did not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum HuntError {
    #[error(transparent)]
    Sql(#[from] SqlError),
    #[error(transparent)]
    Athena(#[from] AthenaError),
}
