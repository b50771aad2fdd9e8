//! `console-password-unused`: a console password nobody uses: last used more than
//! `unused_days` ago, or never used and set (else its user created) more than `grace_days` ago.

use super::super::report::{Flag, ReportRow};
use super::{set_or_user_created, unused, user_finding, Check, Detection, RuleMeta, TYPES};
use crate::rules::Outcome;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "console-password-unused",
    title: "Console password unused",
    base: 40,
    event_source: IAM,
    event_names: &[],
    outcome: Outcome::Success,
    resolved_by: &[],
    types: TYPES,
    recommendation: "Delete the unused console password (the login profile); a person who \
        needs the console signs in through IAM Identity Center.",
    attack: &["T1078.004"],
};

pub struct Rule;

impl super::HygieneRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, row: &ReportRow, cx: &Check) -> Vec<Detection> {
        if row.is_root() || row.password_enabled != Flag::True {
            return Vec::new();
        }
        let since =
            || set_or_user_created(row, row.password_last_changed, "set", "its user created");
        match unused(cx, "a console password", row.password_last_used, since) {
            Some(summary) => user_finding(&META, row, summary),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::report::{Flag, When};
    use super::super::testing::*;
    use crate::policy::InventoryPolicy;

    fn fires(row: &crate::inventory::report::ReportRow, limits: &InventoryPolicy) -> bool {
        fired(row, limits)
            .iter()
            .any(|(id, s)| id == "console-password-unused" && *s == row.user)
    }

    fn with_password(used: When) -> crate::inventory::report::ReportRow {
        let mut u = user("bob");
        u.password_enabled = Flag::True;
        u.mfa_active = true;
        u.password_last_used = used;
        u.password_last_changed = days_ago(200);
        u
    }

    #[test]
    fn used_exactly_unused_days_ago_is_not_unused_one_more_is() {
        let limits = InventoryPolicy::default();
        assert!(!fires(&with_password(days_ago(90)), &limits));
        assert!(fires(&with_password(days_ago(91)), &limits));
        let d = super::super::check_row(&with_password(days_ago(91)), &check(&limits));
        assert_eq!(
            d[0].summary,
            "has a console password last used 2026-09-01 (91 days before 2026-12-01), \
             more than unused_days = 90"
        );
    }

    #[test]
    fn never_used_counts_from_the_password_else_the_user() {
        let limits = InventoryPolicy::default();
        for never in [When::NoInformation, When::NotApplicable] {
            let mut u = with_password(never);
            u.password_last_changed = days_ago(7);
            assert!(!fires(&u, &limits), "within grace_days");
            u.password_last_changed = days_ago(8);
            assert!(fires(&u, &limits), "one day past grace_days");
        }
        // No password time: the user's creation (400 days ago) stands in.
        let mut u = with_password(When::NoInformation);
        u.password_last_changed = When::NotApplicable;
        let d = super::super::check_row(&u, &check(&limits));
        assert_eq!(
            d[0].summary,
            "has a console password never used (no_information), its user created 2025-10-27 \
             (400 days before 2026-12-01), more than grace_days = 7"
        );
        u.created = days_ago(3);
        assert!(!fires(&u, &limits), "a new user is in its grace");
    }

    #[test]
    fn no_password_or_root_is_not_this_rule() {
        let limits = InventoryPolicy::default();
        let mut u = with_password(days_ago(500));
        u.password_enabled = Flag::False;
        assert!(!fires(&u, &limits));
        let mut r = root();
        r.password_last_used = days_ago(500);
        r.password_enabled = Flag::True;
        assert!(fired(&r, &limits)
            .iter()
            .all(|(id, _)| id != "console-password-unused"));
    }
}
