//! What a ticket or a message says about a finding, shared by Jira and Slack.

use iamwatch_core::finding::fields;
use iamwatch_core::finding_event::FindingEvent;
use iamwatch_core::score::FACTORS;

/// The account as people know it: `payments-prod (111122223333)` or the bare id.
pub(crate) fn account(event: &FindingEvent) -> String {
    match &event.account_name {
        Some(name) if !name.is_empty() => format!("{name} ({})", event.account_id),
        _ => event.account_id.clone(),
    }
}

/// The OU path from the root down, `Workloads / Prod`, or `unknown`.
pub(crate) fn ou_path(event: &FindingEvent) -> String {
    if event.ou_path.is_empty() {
        "unknown".to_string()
    } else {
        event.ou_path.join(" / ")
    }
}

/// The actor, or `unknown` when the event had none.
pub(crate) fn actor(event: &FindingEvent) -> &str {
    if event.actor.is_empty() {
        "unknown"
    } else {
        &event.actor
    }
}

/// The factor ids that made the score, each with its delta: `actor-iam-user +10, no-mfa +10`,
/// or `none`.
pub(crate) fn factors(event: &FindingEvent) -> String {
    let ids: Vec<&str> = event
        .finding
        .field(fields::FACTORS)
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty() && *id != "none")
        .collect();
    if ids.is_empty() {
        return "none".to_string();
    }
    ids.iter()
        .map(|id| match FACTORS.iter().find(|f| f.id == *id) {
            Some(f) => format!("{id} {:+}", f.delta),
            None => id.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `score 80 (HIGH)`.
pub(crate) fn score(event: &FindingEvent) -> String {
    format!("{} ({})", event.score, event.label.as_str())
}
