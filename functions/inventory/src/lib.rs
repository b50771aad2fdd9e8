//! Lambda `inventory`: the daily sweep (EventBridge Scheduler invokes it; the event's content
//! is not read). The same code as `iamwatch inventory sweep`:
//! [`iamwatch_aws::inventory::run_sweep`] over [`iamwatch_sweep`].
//!
//! Per run it prints the EMF metric `CoverageGaps` (namespace [`METRICS_NAMESPACE`], the detect
//! function's) once in all (dimension `Function` = `inventory`, the one the CDK app's alarm
//! watches, as detect's metrics carry `Function` = `detect`) and once per account with users the
//! live path missed (dimensions `Function` and `AccountId`), and returns the summary as JSON.

use iamwatch_lambda::emf;
use iamwatch_sweep::sweep::SweepSummary;
use serde_json::{json, Value};

/// The `Function` dimension of the metrics.
pub const FUNCTION: &str = "inventory";
/// The CloudWatch namespace of the metrics (the detect function's).
pub const METRICS_NAMESPACE: &str = "iamwatch";
/// The metric of users found by the sweep with no real-time finding.
pub const COVERAGE_GAPS: &str = "CoverageGaps";

/// The EMF documents of a sweep: `CoverageGaps` in all, then per account that has any.
pub fn metrics(summary: &SweepSummary, timestamp_ms: u64) -> Vec<String> {
    let total: usize = summary.coverage_gaps.values().map(Vec::len).sum();
    let mut out = vec![emf::document(
        METRICS_NAMESPACE,
        timestamp_ms,
        &[("Function", FUNCTION)],
        &[(COVERAGE_GAPS, total as u64)],
    )];
    for (account, users) in &summary.coverage_gaps {
        out.push(emf::document(
            METRICS_NAMESPACE,
            timestamp_ms,
            &[("Function", FUNCTION), ("AccountId", account)],
            &[(COVERAGE_GAPS, users.len() as u64)],
        ));
    }
    out
}

/// What the invocation returns (and logs).
pub fn result(summary: &SweepSummary) -> Value {
    json!({
        "day": summary.day.map(|d| d.to_string()),
        "line": summary.line,
        "users": summary.users,
        "risky_users": summary.risky_users,
        "accounts_ok": summary.accounts_ok,
        "accounts_failed": summary.accounts_failed.iter()
            .map(|(a, e)| json!({"account_id": a, "error": e})).collect::<Vec<_>>(),
        "coverage_gaps": summary.coverage_gaps,
        "findings_filed": summary.findings_filed,
        "findings_archived": summary.findings_archived,
        "findings_failed": summary.findings_failed.len(),
        "report": summary.report,
        "report_error": summary.report_error,
        "notes": summary.notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_gaps_are_counted_in_all_and_per_account() {
        let mut s = SweepSummary::default();
        s.coverage_gaps
            .insert("111122223333".into(), vec!["a".into(), "b".into()]);
        let docs = metrics(&s, 5);
        let v: Vec<Value> = docs
            .iter()
            .map(|d| serde_json::from_str(d).unwrap())
            .collect();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0]["CoverageGaps"], 2);
        assert_eq!(
            v[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "iamwatch"
        );
        assert_eq!(
            v[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Function"]])
        );
        assert_eq!(v[0]["Function"], "inventory");
        assert_eq!(v[1]["AccountId"], "111122223333");
        assert_eq!(v[1]["CoverageGaps"], 2);
        // No gaps: a zero, so the alarm sees data every day.
        let docs = metrics(&SweepSummary::default(), 5);
        assert_eq!(docs.len(), 1);
        assert!(docs[0].contains("\"CoverageGaps\":0"), "{}", docs[0]);
        assert_eq!(result(&s)["coverage_gaps"]["111122223333"][1], "b");
    }
}
