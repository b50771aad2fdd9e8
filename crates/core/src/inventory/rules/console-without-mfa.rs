//! `console-without-mfa`: an IAM user can sign in to the console with a password alone.

use super::super::report::{Flag, ReportRow};
use super::{user_finding, Check, Detection, RuleMeta, TYPES};
use crate::rules::Outcome;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "console-without-mfa",
    title: "Console password without MFA",
    base: 60,
    event_source: IAM,
    event_names: &[],
    outcome: Outcome::Success,
    resolved_by: &[],
    types: TYPES,
    recommendation: "Move the person to IAM Identity Center and delete the console password; \
        until then, require an MFA device for the user.",
    attack: &["T1078.004"],
};

pub struct Rule;

impl super::HygieneRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, row: &ReportRow, _: &Check) -> Vec<Detection> {
        if row.is_root() || row.password_enabled != Flag::True || row.mfa_active {
            return Vec::new();
        }
        user_finding(
            &META,
            row,
            "has a console password and no MFA device".to_string(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::report::Flag;
    use super::super::testing::*;
    use crate::policy::InventoryPolicy;

    #[test]
    fn fires_on_a_password_without_mfa() {
        let limits = InventoryPolicy::default();
        let mut u = user("alice");
        u.password_enabled = Flag::True;
        u.password_last_used = days_ago(2);
        assert_eq!(
            fired(&u, &limits),
            [("console-without-mfa".to_string(), "alice".to_string())]
        );
        u.mfa_active = true;
        assert_eq!(fired(&u, &limits), [], "MFA on");
        u.mfa_active = false;
        u.password_enabled = Flag::False;
        assert_eq!(fired(&u, &limits), [], "no password");
    }

    #[test]
    fn the_root_row_is_left_to_the_root_rule() {
        let limits = InventoryPolicy::default();
        let mut r = root();
        r.mfa_active = false;
        r.password_enabled = Flag::True;
        assert!(fired(&r, &limits)
            .iter()
            .all(|(id, _)| id != "console-without-mfa"));
    }
}
