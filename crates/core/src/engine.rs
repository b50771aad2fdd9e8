//! One record in, one verdict out: the path every event takes, in the scanner and the Lambda
//! alike. Suppression is decided here, before enrichment, so suppressed events cost no lookups.

use crate::build::{build_finding, FindingContext};
use crate::enrich::Enrichment;
use crate::finding::Finding;
use crate::policy::Policy;
use crate::record::{CloudTrailRecord, IAM_EVENT_SOURCE};
use crate::resolve::{resolution, Resolution};
use crate::rules::{self, Detection};
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

/// Judges one record under `policy`.
pub fn evaluate(r: &CloudTrailRecord, policy: &Policy) -> Verdict {
    if r.event_source != IAM_EVENT_SOURCE {
        return Verdict::OutOfScope;
    }
    if let Some(res) = resolution(r) {
        return Verdict::Resolution(res);
    }
    let in_scope = rules::FIRING_EVENT_NAMES.contains(&r.event_name.as_str())
        || crate::resolve::RESOLVING_EVENT_NAMES.contains(&r.event_name.as_str());
    let Some(d) = rules::detect(r, policy) else {
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
        .find(|s| s.matches(r.account_id(), d.rule.id, &actors, d.user.as_deref()))
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
    r: &CloudTrailRecord,
    policy: &Policy,
    e: &Enrichment,
    ctx: &FindingContext,
) -> (Finding, Score) {
    let s = score(d, r, policy, e);
    (build_finding(d, r, &s, e, ctx), s)
}
