//! Running the hunt's query in Athena: `StartQueryExecution` in a workgroup, `GetQueryExecution`
//! polled with backoff until the query ends, then `GetQueryResults` page by page, each row
//! handed on as it comes (memory holds one page, whatever the number of rows).

use crate::sql::COLUMNS;
use aws_sdk_athena::error::DisplayErrorContext;
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};
use aws_sdk_athena::Client;
use std::time::Duration;

/// Why a query gave no rows.
#[derive(Debug, thiserror::Error)]
pub enum AthenaError {
    #[error("Athena {operation}: {message}")]
    Call {
        operation: &'static str,
        message: String,
    },
    #[error("Athena query {id} {state}: {reason}")]
    Ended {
        id: String,
        state: String,
        reason: String,
    },
    #[error("Athena query {id}: {problem}")]
    Result { id: String, problem: String },
}

/// Where and how the query runs.
#[derive(Debug, Clone)]
pub struct Run {
    /// The database of the table (the query names it too).
    pub database: String,
    /// The workgroup (its settings, output location and limits apply).
    pub workgroup: String,
    /// `s3://...` for the results, when the workgroup sets none.
    pub output_location: Option<String>,
    /// The first wait between two polls; it doubles up to `max_poll`.
    pub first_poll: Duration,
    pub max_poll: Duration,
    /// Rows asked per `GetQueryResults` page (at most 1000).
    pub page_size: i32,
}

impl Run {
    /// Polls from 200 ms up to 5 s apart, pages of 1000 rows.
    pub fn new(database: &str, workgroup: &str, output_location: Option<String>) -> Run {
        Run {
            database: database.to_string(),
            workgroup: workgroup.to_string(),
            output_location,
            first_poll: Duration::from_millis(200),
            max_poll: Duration::from_secs(5),
            page_size: 1000,
        }
    }
}

/// What Athena said of a finished query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Executed {
    pub id: String,
    /// Data rows (the header row not counted).
    pub rows: u64,
    pub scanned_bytes: i64,
}

fn call<E: std::error::Error>(operation: &'static str, e: E) -> AthenaError {
    AthenaError::Call {
        operation,
        message: DisplayErrorContext(e).to_string(),
    }
}

/// Runs `sql` and hands each data row on, its cells in the order of [`COLUMNS`] (`None` is
/// NULL). The first row of the first page is the header row Athena puts before the data of a
/// `SELECT`; it must name the selected columns.
pub async fn query(
    client: &Client,
    sql: &str,
    run: &Run,
    on_row: &mut dyn FnMut(Vec<Option<String>>),
) -> Result<Executed, AthenaError> {
    let out = client
        .start_query_execution()
        .query_string(sql)
        .query_execution_context(
            QueryExecutionContext::builder()
                .database(&run.database)
                .build(),
        )
        .work_group(&run.workgroup)
        .set_result_configuration(
            run.output_location
                .as_ref()
                .map(|o| ResultConfiguration::builder().output_location(o).build()),
        )
        .send()
        .await
        .map_err(|e| call("StartQueryExecution", e))?;
    let id = out
        .query_execution_id()
        .ok_or_else(|| AthenaError::Call {
            operation: "StartQueryExecution",
            message: "no QueryExecutionId in the answer".to_string(),
        })?
        .to_string();
    let scanned_bytes = wait(client, &id, run).await?;
    let mut executed = Executed {
        id: id.clone(),
        rows: 0,
        scanned_bytes,
    };
    let mut token: Option<String> = None;
    let mut first = true;
    loop {
        let page = client
            .get_query_results()
            .query_execution_id(&id)
            .max_results(run.page_size)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| call("GetQueryResults", e))?;
        let rows = page.result_set().map(|r| r.rows()).unwrap_or_default();
        for (i, row) in rows.iter().enumerate() {
            let cells: Vec<Option<String>> = row
                .data()
                .iter()
                .map(|d| d.var_char_value().map(str::to_string))
                .collect();
            if first && i == 0 {
                let names: Vec<&str> = cells.iter().map(|c| c.as_deref().unwrap_or("")).collect();
                let wanted: Vec<&str> = COLUMNS.iter().map(|(n, _)| *n).collect();
                if names != wanted {
                    return Err(AthenaError::Result {
                        id,
                        problem: format!(
                            "the first row is not the header of the selected columns: {names:?}"
                        ),
                    });
                }
                continue;
            }
            executed.rows += 1;
            on_row(cells);
        }
        first = false;
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(executed)
}

/// Polls until the query succeeds (its bytes scanned) or ends otherwise (an error with
/// Athena's reason).
async fn wait(client: &Client, id: &str, run: &Run) -> Result<i64, AthenaError> {
    let mut pause = run.first_poll;
    loop {
        let out = client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| call("GetQueryExecution", e))?;
        let execution = out.query_execution();
        let status = execution.and_then(|q| q.status());
        match status.and_then(|s| s.state()) {
            Some(QueryExecutionState::Succeeded) => {
                return Ok(execution
                    .and_then(|q| q.statistics())
                    .and_then(|s| s.data_scanned_in_bytes())
                    .unwrap_or(0));
            }
            Some(state @ (QueryExecutionState::Failed | QueryExecutionState::Cancelled)) => {
                let reason = status
                    .and_then(|s| {
                        s.athena_error()
                            .and_then(|e| e.error_message())
                            .or(s.state_change_reason())
                    })
                    .unwrap_or("no reason given")
                    .to_string();
                return Err(AthenaError::Ended {
                    id: id.to_string(),
                    state: state.as_str().to_string(),
                    reason,
                });
            }
            _ => {}
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(run.max_poll);
    }
}
