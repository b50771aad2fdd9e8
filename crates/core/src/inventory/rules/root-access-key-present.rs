//! `root-access-key-present`: the root user has an active access key, a credential that can do
//! anything in the account and that no policy can limit.

use super::super::report::ReportRow;
use super::{key_name, user_finding, Check, Detection, RuleMeta, TYPES};
use crate::rules::Outcome;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "root-access-key-present",
    title: "Root user has an access key",
    base: 90,
    event_source: IAM,
    event_names: &[],
    outcome: Outcome::Success,
    resolved_by: &[],
    types: TYPES,
    recommendation: "Find what uses the root access key (its last use, CloudTrail), move that to \
        a role, then deactivate and delete the key; the root user needs no access key.",
    attack: &["T1078.004", "T1098.001"],
};

pub struct Rule;

impl super::HygieneRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, row: &ReportRow, _: &Check) -> Vec<Detection> {
        if !row.is_root() {
            return Vec::new();
        }
        let keys: Vec<String> = row
            .active_keys()
            .map(|k| {
                let used = match k.last_used.at() {
                    Some(_) => format!("last used {}", k.last_used.describe()),
                    None => "never used".to_string(),
                };
                format!("{}, {used}", key_name(k))
            })
            .collect();
        if keys.is_empty() {
            return Vec::new();
        }
        let summary = if keys.len() == 1 {
            format!("has an active access key ({})", keys[0])
        } else {
            format!(
                "has {} active access keys ({})",
                keys.len(),
                keys.join("; ")
            )
        };
        user_finding(&META, row, summary)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::policy::InventoryPolicy;

    #[test]
    fn fires_on_an_active_root_key_only() {
        let limits = InventoryPolicy::default();
        let mut r = root();
        assert_eq!(fired(&r, &limits), []);
        r.keys[1] = key(2, days_ago(10), days_ago(1));
        assert_eq!(
            fired(&r, &limits),
            [("root-access-key-present".to_string(), "root".to_string())]
        );
        let d = super::super::check_row(&r, &check(&limits));
        assert_eq!(
            d[0].summary,
            "has an active access key (access key 2, last used 2026-11-30)"
        );
        r.keys[0] = key(1, days_ago(10), days_ago(0));
        r.keys[0].last_used = crate::inventory::report::When::NotApplicable;
        let d = super::super::check_row(&r, &check(&limits));
        assert_eq!(
            d.len(),
            1,
            "one finding for the root user, whatever its keys"
        );
        assert!(d[0]
            .summary
            .starts_with("has 2 active access keys (access key 1, never used;"));
        // An inactive key is not present for this rule.
        r.keys[0].active = false;
        r.keys[1].active = false;
        assert_eq!(fired(&r, &limits), []);
    }

    #[test]
    fn a_user_key_is_not_a_root_key() {
        let limits = InventoryPolicy::default();
        let mut u = user("root-like");
        u.keys[0] = key(1, days_ago(1), days_ago(1));
        assert!(fired(&u, &limits)
            .iter()
            .all(|(id, _)| id != "root-access-key-present"));
    }
}
