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

/// Everything a reader checks of a record before it is judged: the record's own checks
/// ([`CloudTrailRecord::validate`]) and that iamwatch would not drop it silently
/// ([`unreadable`]). An error names what is wrong; the caller reports it with the record's place.
pub fn check(r: &CloudTrailRecord) -> Result<(), String> {
    r.validate()?;
    match unreadable(r) {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

/// Why a record would be dropped silently, if it would: a successful in-scope call that makes
/// neither a finding nor a resolution because it does not say enough. Such a record is an
/// input error ([`check`] reports it, and the reader names the record), never nothing:
///
/// - a resolving call that names nothing it could end (`DeleteUser` without `userName`);
/// - an IAM call without `requestParameters` that no rule can read;
/// - a call that would be a finding if it had an eventID, the stand-in its subject needs
///   ([`crate::rules::stand_in`]).
///
/// Calls that make no finding by design (an own password change, a failed or MFA sign-in, a
/// rename that only moves the path) are not unreadable. The rules are asked under the default
/// policy: a policy changes which rule fires, not whether one does.
pub fn unreadable(r: &CloudTrailRecord) -> Option<String> {
    let name = r.event_name.as_str();
    if !r.succeeded() || !crate::sources::accepted(&r.event_source) || !rules::in_scope(name) {
        return None;
    }
    let resolving = rules::resolving_event_names().contains(&name);
    let no_params = r.request_parameters.as_ref().is_none_or(|v| v.is_null());
    let no_id = r.event_id.is_none();
    if !(resolving || no_id || (no_params && r.event_source == crate::sources::IAM)) {
        return None;
    }
    if resolution(r).is_some() {
        return None;
    }
    static DEFAULT: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    let policy = DEFAULT.get_or_init(Policy::default);
    let fires = |r: &CloudTrailRecord| rules::detect(r, policy).is_some();
    if fires(r) {
        return None;
    }
    let what = format!("{} ({})", r.describe(), r.event_source);
    if no_id {
        let mut with_id = r.clone();
        with_id.event_id = Some(String::new());
        if fires(&with_id) {
            return Some(format!(
                "{what} names no subject and has no eventID to stand in for it: \
                 not filed as a finding"
            ));
        }
    }
    if resolving {
        return Some(format!(
            "{what} does not name what it ends (requestParameters {}): no finding archived",
            params_json(r)
        ));
    }
    if no_params && r.event_source == crate::sources::IAM {
        return Some(format!(
            "{what} has no requestParameters: cannot tell what it changed"
        ));
    }
    None
}

fn params_json(r: &CloudTrailRecord) -> String {
    r.request_parameters
        .as_ref()
        .map_or("null".to_string(), |v| v.to_string())
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

#[cfg(test)]
mod tests {
    use super::unreadable;
    use crate::rules::testing::*;
    use serde_json::json;

    /// Malformed in-scope calls are named, never dropped; well-formed ones and calls that make
    /// no finding by design pass.
    #[test]
    fn unreadable_records_are_named() {
        // Resolving calls that name nothing.
        let why = unreadable(&record("DeleteUser", json!(null))).unwrap();
        assert!(
            why.starts_with("DeleteUser e-1 at 2026-11-01T10:00:00Z (iam.amazonaws.com)")
                && why.contains("does not name what it ends (requestParameters null)"),
            "{why}"
        );
        assert!(unreadable(&role("DeleteLoginProfile", json!({}))).is_some());
        assert!(unreadable(&record("UpdateAccessKey", json!({"status": "Inactive"}))).is_some());
        assert!(unreadable(&record("UpdateAccessKey", json!(null))).is_some());
        // A finding that needs a stand-in and has no eventID to make one.
        let mut r = record("CreateUser", json!(null));
        assert_eq!(unreadable(&r), None, "a stand-in names the user");
        r.event_id = None;
        assert!(unreadable(&r).unwrap().contains("has no eventID"), "{r:?}");
        // No requestParameters and no rule can tell what happened.
        let why = unreadable(&record("UpdateLoginProfile", json!(null))).unwrap();
        assert!(why.contains("has no requestParameters"), "{why}");
        // Fine: readable, or no finding by design.
        for r in [
            record("DeleteUser", json!({"userName": "bob"})),
            record("CreateUser", json!({"userName": "bob"})),
            record("CreateAccessKey", json!(null)),
            record("UpdateLoginProfile", json!({"userName": "alice"})),
            record("UpdateUser", json!({"userName": "bob", "newPath": "/x/"})),
            failed(record("DeleteUser", json!(null)), "NoSuchEntity"),
            record("GetUser", json!(null)),
            sign_in(alice(), "Failure", "No"),
            sign_in(alice(), "Success", "Yes"),
        ] {
            assert_eq!(
                unreadable(&r),
                None,
                "{} {:?}",
                r.event_name,
                r.request_parameters
            );
        }
    }

    /// A record that would be dropped silently is an input error naming it, for the reader
    /// (`check`) as for the envelope path (`unreadable` after the envelope's own checks).
    #[test]
    fn check_reports_unreadable_calls() {
        use super::check;
        let err = check(&record("DeleteUser", json!(null))).unwrap_err();
        assert!(err.starts_with("DeleteUser e-1 at "), "{err}");
        let mut r = record("AttachUserPolicy", json!(null));
        assert_eq!(check(&r), Ok(()), "filed with stand-ins instead");
        r.event_id = None;
        assert!(check(&r).unwrap_err().contains("no eventID"));
        r.event_time = "yesterday".into();
        assert!(check(&r).unwrap_err().contains("bad eventTime"));
    }
}
