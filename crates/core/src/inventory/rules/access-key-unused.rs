//! `access-key-unused`: an active access key nobody uses: last used more than `unused_days`
//! ago, or never used and created more than `grace_days` ago. A key that is not needed is a
//! standing way in that only an attacker will use.

use super::super::report::ReportRow;
use super::{key_name, set_or_user_created, unused, user_key_findings};
use super::{Check, Detection, RuleMeta, TYPES};
use crate::rules::Outcome;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "access-key-unused",
    title: "Access key unused",
    base: 50,
    event_source: IAM,
    event_names: &[],
    outcome: Outcome::Success,
    resolved_by: &[],
    types: TYPES,
    recommendation: "Confirm with the owner that nothing needs the key, deactivate it, wait, \
        then delete it; a workload that still needs AWS access gets a role instead.",
    attack: &["T1078.004"],
};

pub struct Rule;

impl super::HygieneRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, row: &ReportRow, cx: &Check) -> Vec<Detection> {
        user_key_findings(&META, row, |k| {
            unused(cx, &format!("active {}", key_name(k)), k.last_used, || {
                set_or_user_created(row, k.last_rotated, "created", "its user created")
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::report::When;
    use super::super::testing::*;
    use crate::policy::InventoryPolicy;

    fn unused(row: &crate::inventory::report::ReportRow, limits: &InventoryPolicy) -> Vec<String> {
        fired(row, limits)
            .into_iter()
            .filter(|(id, _)| id == "access-key-unused")
            .map(|(_, subject)| subject)
            .collect()
    }

    #[test]
    fn last_used_exactly_unused_days_ago_is_not_unused_one_more_is() {
        let limits = InventoryPolicy::default();
        let mut u = user("ci");
        u.keys[0] = key(1, days_ago(300), days_ago(90));
        assert!(unused(&u, &limits).is_empty(), "90 days: at the limit");
        u.keys[0] = key(1, days_ago(300), days_ago(91));
        assert_eq!(unused(&u, &limits), ["ci/1"]);
        let d = super::super::check_row(&u, &check(&limits));
        let d = d.iter().find(|d| d.rule.id == "access-key-unused").unwrap();
        assert_eq!(
            d.summary,
            "has active access key 1 last used 2026-09-01 (91 days before 2026-12-01), \
             more than unused_days = 90"
        );
        // The threshold is the policy's.
        let thirty = InventoryPolicy {
            unused_days: 30,
            ..InventoryPolicy::default()
        };
        u.keys[0] = key(1, days_ago(300), days_ago(31));
        assert_eq!(unused(&u, &thirty), ["ci/1"]);
        assert!(unused(&u, &limits).is_empty());
    }

    #[test]
    fn never_used_counts_from_creation_after_the_grace() {
        let limits = InventoryPolicy::default();
        let mut u = user("new");
        u.keys[1] = key(2, days_ago(7), When::NotApplicable);
        assert!(unused(&u, &limits).is_empty(), "within grace_days");
        u.keys[1] = key(2, days_ago(8), When::NotApplicable);
        assert_eq!(unused(&u, &limits), ["new/2"]);
        let d = super::super::check_row(&u, &check(&limits));
        let d = d.iter().find(|d| d.rule.id == "access-key-unused").unwrap();
        assert_eq!(
            d.summary,
            "has active access key 2 never used (N/A), created 2026-11-23 \
             (8 days before 2026-12-01), more than grace_days = 7"
        );
        // no_information is never used too.
        u.keys[1] = key(2, days_ago(8), When::NoInformation);
        assert_eq!(unused(&u, &limits), ["new/2"]);
        // No rotation time: the user's creation stands in, and says so.
        u.keys[1] = key(2, When::NotApplicable, When::NotApplicable);
        let d = super::super::check_row(&u, &check(&limits));
        assert!(d
            .iter()
            .any(|d| d.rule.id == "access-key-unused" && d.summary.contains("its user created")));
    }

    #[test]
    fn inactive_keys_and_root_are_not_this_rule() {
        let limits = InventoryPolicy::default();
        let mut u = user("old");
        u.keys[0] = key(1, days_ago(900), days_ago(800));
        u.keys[0].active = false;
        assert!(unused(&u, &limits).is_empty());
        let mut r = root();
        r.keys[0] = key(1, days_ago(900), days_ago(800));
        assert!(unused(&r, &limits).is_empty());
    }

    #[test]
    fn a_known_key_id_is_the_subject() {
        let limits = InventoryPolicy::default();
        let mut u = user("ci");
        u.keys[0] = key(1, days_ago(300), days_ago(200));
        u.keys[0].id = Some("AKIAEXAMPLE1".into());
        assert_eq!(unused(&u, &limits), ["ci/AKIAEXAMPLE1"]);
        let d = super::super::check_row(&u, &check(&limits));
        assert!(d[0]
            .summary
            .starts_with("has active access key 1 (AKIAEXAMPLE1) last used"));
        assert_eq!(d[0].subject.access_key_id(), Some("AKIAEXAMPLE1"));
    }
}
