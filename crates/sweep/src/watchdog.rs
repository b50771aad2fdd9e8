//! The sweep as the watchdog of the real-time path, and the creator of a user.
//!
//! The real-time `iam-user-created` finding of a user names who created it (its actor). A user
//! the sweep finds that was created since the previous sweep of its account and has no such
//! finding slipped past the live path (a forwarding rule missing in that account, a detect
//! outage, a region gap): the sweep files the `iam-user-created` finding itself, with the note
//! [`FOUND_BY_SWEEP`], and counts it as a coverage gap of the account.

use iamwatch_core::enrich::{AccountInfo, Enrichment, UserDetails};
use iamwatch_core::finding::{fields, Finding};
use iamwatch_core::observation::{ApiCall, Caller, Observation, ResourceFacts};
use iamwatch_core::rules::{self, Detection};
use iamwatch_core::{FindingContext, Policy, Subject};
use std::collections::BTreeMap;

/// The rule the watchdog files under.
pub const RULE: &str = "iam-user-created";
/// The note on a finding the sweep filed for a user the live path missed.
pub const FOUND_BY_SWEEP: &str = "found by the daily sweep";
/// `ProductFields` key marking such a finding; its value is [`FOUND_BY_SWEEP`].
pub const FOUND_BY_FIELD: &str = "iamwatch/FoundBy";

/// Who created each user, from the account's active `iam-user-created` findings: the actor of
/// the real-time finding. Findings the sweep filed itself name no creator.
pub fn creators(findings: &[Finding]) -> BTreeMap<String, Option<String>> {
    findings
        .iter()
        .filter(|f| f.field(fields::RULE_ID) == Some(RULE))
        .filter_map(|f| {
            let user = f.field(fields::USER)?.to_string();
            let actor = if f.field(FOUND_BY_FIELD).is_some() {
                None
            } else {
                f.field(fields::ACTOR).map(str::to_string)
            };
            Some((user, actor))
        })
        .collect()
}

/// A user found by the sweep, as an observation: no API call, no caller; observed at the
/// user's creation time.
struct SweptUser<'a> {
    account: &'a str,
    created: &'a str,
    arn: &'a str,
}

impl Observation for SweptUser<'_> {
    fn account_id(&self) -> &str {
        self.account
    }
    fn observed_at(&self) -> &str {
        self.created
    }
    fn actor(&self) -> String {
        "An unknown principal (no CloudTrail event reached iamwatch)".to_string()
    }
    fn caller(&self) -> Option<Caller<'_>> {
        None
    }
    fn api_call(&self) -> Option<ApiCall<'_>> {
        None
    }
    fn resource_facts(&self, _: &Subject) -> ResourceFacts {
        ResourceFacts {
            user_arn: Some(self.arn.to_string()),
            ..ResourceFacts::default()
        }
    }
}

/// The `iam-user-created` finding of a user the live path missed, scored like the real-time
/// one (`critical-account`, `sandbox-account`, `target-is-admin` where they apply).
pub fn missed_user_finding(
    account: &AccountInfo,
    user: &UserDetails,
    policy: &Policy,
    ctx: &FindingContext,
) -> Option<Finding> {
    let meta = rules::by_id(RULE)?;
    let created = user.created.as_deref().unwrap_or_default();
    let arn = user.arn.clone().unwrap_or_default();
    let o = SweptUser {
        account: &account.id,
        created,
        arn: &arn,
    };
    let d = Detection {
        rule: meta,
        subject: Subject::User(user.user_name.clone()),
        summary: format!(
            "created IAM user {} ({FOUND_BY_SWEEP}: no real-time finding)",
            user.user_name
        ),
        base_override: None,
    };
    let e = Enrichment {
        account: Some(account.clone()),
        target_user: Some(user.clone()),
        gaps: Vec::new(),
    };
    let (mut f, _) = iamwatch_core::engine::finding(&d, &o, policy, &e, ctx);
    f.product_fields
        .insert(FOUND_BY_FIELD.to_string(), FOUND_BY_SWEEP.to_string());
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> AccountInfo {
        AccountInfo {
            id: "111122223333".into(),
            name: Some("payments-prod".into()),
            ou_path: vec!["Prod".into()],
            tags: BTreeMap::new(),
        }
    }

    #[test]
    fn a_missed_user_is_filed_as_iam_user_created_found_by_the_sweep() {
        let user = UserDetails {
            user_name: "ghost".into(),
            arn: Some("arn:aws:iam::111122223333:user/ghost".into()),
            created: Some("2026-12-01T03:00:00Z".into()),
            attached_policies: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
            ..UserDetails::default()
        };
        let policy = Policy {
            critical_ous: vec!["Prod".into()],
            ..Policy::default()
        };
        let f =
            missed_user_finding(&account(), &user, &policy, &FindingContext::default()).unwrap();
        assert_eq!(f.id, "iamwatch/111122223333/iam-user-created/ghost");
        assert_eq!(f.generator_id, "iamwatch/iam-user-created");
        assert_eq!(f.field(FOUND_BY_FIELD), Some(FOUND_BY_SWEEP));
        assert_eq!(
            f.field(fields::FACTORS),
            Some("critical-account,target-is-admin")
        );
        assert_eq!(f.severity.original, "70");
        assert!(f.description.contains(FOUND_BY_SWEEP), "{}", f.description);
        assert_eq!(f.created_at, "2026-12-01T03:00:00.000Z");
        assert_eq!(f.resources[0].id, "arn:aws:iam::111122223333:user/ghost");
        assert!(f.action.is_none());

        // Its actor is no creator; a real-time finding's actor is.
        let mut live = f.clone();
        live.product_fields.remove(FOUND_BY_FIELD);
        live.product_fields.insert(
            fields::ACTOR.into(),
            "arn:aws:iam::111122223333:user/alice".into(),
        );
        live.product_fields
            .insert(fields::USER.into(), "bob".into());
        let c = creators(&[f, live]);
        assert_eq!(c["ghost"], None);
        assert_eq!(
            c["bob"].as_deref(),
            Some("arn:aws:iam::111122223333:user/alice")
        );
    }
}
