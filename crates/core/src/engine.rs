//! One record in, one verdict out: the path every event takes, in the scanner and the Lambda
//! alike. Suppression is decided here, before enrichment, so suppressed events cost no lookups.

use crate::build::{build_finding, FindingContext};
use crate::enrich::Enrichment;
use crate::finding::Finding;
use crate::observation::Observation;
use crate::policy::Policy;
use crate::record::CloudTrailRecord;
use crate::resolve::{resolution, Resolution};
use crate::rules::{self, Context, Detection};
use crate::score::{score, Score};

/// What iamwatch makes of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not an IAM event, or not one of the calls iamwatch watches.
    OutOfScope,
    /// An in-scope call that makes no finding (a failed call, an own password change...).
    NoFinding,
    /// A finding a `[[suppress]]` entry drops; counted and logged, never filed.
    Suppressed {
        detection: Detection,
        reason: String,
    },
    /// A finding to enrich, score and file.
    Finding(Detection),
    /// A resolving event: archive the findings it ends.
    Resolution(Resolution),
}

/// Judges one record under `policy`, not knowing the organization's accounts.
pub fn evaluate(r: &CloudTrailRecord, policy: &Policy) -> Verdict {
    evaluate_in(r, &Context::new(policy))
}

/// Judges one record in a context (the policy, and the organization's accounts when known).
pub fn evaluate_in(r: &CloudTrailRecord, cx: &Context) -> Verdict {
    let policy = cx.policy;
    if !crate::sources::accepted(&r.event_source) {
        return Verdict::OutOfScope;
    }
    if let Some(res) = resolution(r) {
        return Verdict::Resolution(res);
    }
    let in_scope = rules::in_scope(&r.event_name);
    let Some(d) = rules::detect_in(r, cx) else {
        return if in_scope {
            Verdict::NoFinding
        } else {
            Verdict::OutOfScope
        };
    };
    let actors: Vec<&str> = [r.user_identity.arn.as_deref(), r.principal_for_trust()]
        .into_iter()
        .flatten()
        .collect();
    if let Some(s) = policy
        .suppress
        .iter()
        .find(|s| s.matches(r.account_id(), d.rule.id, &actors, d.subject.user()))
    {
        return Verdict::Suppressed {
            detection: d,
            reason: s.reason.clone(),
        };
    }
    Verdict::Finding(d)
}

/// Scores a detection and builds its finding.
pub fn finding(
    d: &Detection,
    r: &dyn Observation,
    policy: &Policy,
    e: &Enrichment,
    ctx: &FindingContext,
) -> (Finding, Score) {
    let s = score(d, r, policy, e);
    (build_finding(d, r, &s, e, ctx), s)
}
