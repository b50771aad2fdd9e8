//! `access-key-not-rotated`: an active access key older than `key_max_age_days`. The older a
//! key, the more places it has been copied to.

use super::super::report::ReportRow;
use super::{dated, key_name, set_or_user_created, user_key_findings};
use super::{Check, Detection, RuleMeta, TYPES};
use crate::rules::Outcome;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "access-key-not-rotated",
    title: "Access key not rotated",
    base: 30,
    event_source: IAM,
    event_names: &[],
    outcome: Outcome::Success,
    resolved_by: &[],
    types: TYPES,
    recommendation: "Replace the key's workload credentials with a role; until then rotate \
        the key: create a second key, move every user of the old one, deactivate, then delete it.",
    attack: &["T1078.004", "T1552.001"],
};

pub struct Rule;

impl super::HygieneRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, row: &ReportRow, cx: &Check) -> Vec<Detection> {
        let max = i64::from(cx.limits.key_max_age_days);
        user_key_findings(&META, row, |k| {
            let (rotated, what) = set_or_user_created(
                row,
                k.last_rotated,
                "last rotated",
                "not dated; its user created",
            )?;
            (cx.age_days(rotated) > max).then(|| {
                format!(
                    "has active {} {what} {}, more than key_max_age_days = {max}",
                    key_name(k),
                    dated(rotated, cx)
                )
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::policy::InventoryPolicy;

    fn not_rotated(
        row: &crate::inventory::report::ReportRow,
        limits: &InventoryPolicy,
    ) -> Vec<String> {
        fired(row, limits)
            .into_iter()
            .filter(|(id, _)| id == "access-key-not-rotated")
            .map(|(_, s)| s)
            .collect()
    }

    #[test]
    fn rotated_exactly_key_max_age_days_ago_is_fine_one_more_is_not() {
        let limits = InventoryPolicy::default();
        let mut u = user("svc");
        u.keys[0] = key(1, days_ago(90), days_ago(1));
        assert!(not_rotated(&u, &limits).is_empty());
        u.keys[0] = key(1, days_ago(91), days_ago(1));
        u.keys[1] = key(2, days_ago(400), days_ago(1));
        assert_eq!(not_rotated(&u, &limits), ["svc/1", "svc/2"]);
        let d = super::super::check_row(&u, &check(&limits));
        assert_eq!(
            d[0].summary,
            "has active access key 1 last rotated 2026-09-01 (91 days before 2026-12-01), \
             more than key_max_age_days = 90"
        );
        let year = InventoryPolicy {
            key_max_age_days: 365,
            ..InventoryPolicy::default()
        };
        assert_eq!(not_rotated(&u, &year), ["svc/2"]);
    }

    #[test]
    fn inactive_keys_and_root_are_not_this_rule() {
        let limits = InventoryPolicy::default();
        let mut u = user("svc");
        u.keys[0] = key(1, days_ago(900), days_ago(1));
        u.keys[0].active = false;
        assert!(not_rotated(&u, &limits).is_empty());
        let mut r = root();
        r.keys[0] = key(1, days_ago(900), days_ago(1));
        assert!(not_rotated(&r, &limits).is_empty());
    }
}
