//! `root-console-without-mfa`: the root user can sign in to the console without MFA.

use super::super::report::{Flag, ReportRow};
use super::{user_finding, Check, Detection, RuleMeta, TYPES};
use crate::rules::Outcome;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "root-console-without-mfa",
    title: "Root user without MFA",
    base: 80,
    event_source: IAM,
    event_names: &[],
    outcome: Outcome::Success,
    resolved_by: &[],
    types: TYPES,
    recommendation: "Register an MFA device (a hardware key or passkey) for the root user now; \
        in member accounts, consider removing root credentials with centralized root access.",
    attack: &["T1078.004"],
};

pub struct Rule;

impl super::HygieneRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, row: &ReportRow, _: &Check) -> Vec<Detection> {
        if !row.is_root() || row.mfa_active || row.password_enabled == Flag::False {
            return Vec::new();
        }
        let summary = match row.password_enabled {
            Flag::True => "has a console password and no MFA device".to_string(),
            // AWS writes not_supported for the root row: its password state is not reported,
            // and the root user can always recover one by email.
            _ => "has no MFA device (password_enabled: not_supported, as AWS reports the root \
                  user, who can always recover a password by email)"
                .to_string(),
        };
        user_finding(&META, row, summary)
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::report::Flag;
    use super::super::testing::*;
    use crate::policy::InventoryPolicy;

    #[test]
    fn fires_on_root_without_mfa_unless_the_password_is_off() {
        let limits = InventoryPolicy::default();
        let mut r = root();
        assert_eq!(fired(&r, &limits), [], "MFA on");
        r.mfa_active = false;
        let want = [("root-console-without-mfa".to_string(), "root".to_string())];
        assert_eq!(fired(&r, &limits), want, "not_supported, as AWS writes it");
        r.password_enabled = Flag::True;
        assert_eq!(fired(&r, &limits), want);
        r.password_enabled = Flag::False;
        assert_eq!(fired(&r, &limits), [], "no password");
    }

    #[test]
    fn a_user_without_mfa_is_not_root() {
        let limits = InventoryPolicy::default();
        let mut u = user("admin");
        u.password_enabled = Flag::True;
        u.password_last_used = days_ago(1);
        assert_eq!(
            fired(&u, &limits),
            [("console-without-mfa".to_string(), "admin".to_string())]
        );
    }
}
