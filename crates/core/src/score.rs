//! Scoring: a rule's base score plus the factors that apply, clamped to 0..100. Every factor
//! that applied is kept with its reason, so a finding can say why it scored what it did.

use crate::enrich::Enrichment;
use crate::net::parse_ip;
use crate::observation::{Caller, Observation};
use crate::policy::Policy;
use crate::record::IdentityType;
use crate::rules::Detection;
use crate::Label;

/// A scoring factor's definition.
#[derive(Debug)]
pub struct FactorMeta {
    pub id: &'static str,
    pub delta: i32,
    pub applies_when: &'static str,
}

/// Every factor, in the order they are evaluated and listed.
pub const FACTORS: [FactorMeta; 9] = [
    FactorMeta {
        id: "actor-root",
        delta: 30,
        applies_when: "the caller is the root user",
    },
    FactorMeta {
        id: "actor-iam-user",
        delta: 10,
        applies_when: "the caller is an IAM user (a long-lived identity)",
    },
    FactorMeta {
        id: "no-mfa",
        delta: 10,
        applies_when: "the IAM user or root caller's session was not MFA-authenticated",
    },
    FactorMeta {
        id: "trusted-principal",
        delta: -30,
        applies_when: "the caller (or its role) matches trusted_principals",
    },
    FactorMeta {
        id: "trusted-service",
        delta: -20,
        applies_when: "the call was made by a service in trusted_services",
    },
    FactorMeta {
        id: "untrusted-source-ip",
        delta: 10,
        applies_when: "the source IP is outside every trusted_cidrs block",
    },
    FactorMeta {
        id: "critical-account",
        delta: 15,
        applies_when: "the account is in an OU named in critical_ous",
    },
    FactorMeta {
        id: "sandbox-account",
        delta: -15,
        applies_when: "the account is in an OU named in sandbox_ous",
    },
    FactorMeta {
        id: "target-is-admin",
        delta: 15,
        applies_when: "the target user already has admin access",
    },
];

/// A factor that applied to one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedFactor {
    pub id: &'static str,
    pub delta: i32,
    /// This event's reason, e.g. "caller matches arn:aws:iam::*:role/terraform-*".
    pub why: String,
}

/// A score with its explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    pub base: u8,
    pub value: u8,
    pub label: Label,
    pub factors: Vec<AppliedFactor>,
}

impl Score {
    /// Comma-separated factor ids, or `none`.
    pub fn factor_ids(&self) -> String {
        if self.factors.is_empty() {
            return "none".to_string();
        }
        self.factors
            .iter()
            .map(|f| f.id)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// "base 40 + actor-iam-user +10 (caller is an IAM user) = 50".
    pub fn explain(&self) -> String {
        let mut s = format!("base {}", self.base);
        for f in &self.factors {
            s.push_str(&format!(" {:+} {} ({})", f.delta, f.id, f.why));
        }
        s.push_str(&format!(" = {}", self.value));
        s
    }
}

fn factor(id: &'static str, why: String) -> AppliedFactor {
    let meta = FACTORS
        .iter()
        .find(|f| f.id == id)
        .expect("factor ids are constants");
    AppliedFactor {
        id,
        delta: meta.delta,
        why,
    }
}

/// Scores a detection: its base (the rule's, or the detection's `base_override`) plus the
/// factors that apply, but for those the rule skips ([`crate::rules::Rule::skipped_factors`]).
pub fn score(d: &Detection, o: &dyn Observation, policy: &Policy, e: &Enrichment) -> Score {
    let mut applied = Vec::new();
    if let Some(c) = o.caller() {
        caller_factors(&c, policy, &mut applied);
    }
    let skipped = crate::rules::skipped_factors(d.rule);
    applied.retain(|f| !skipped.contains(&f.id));
    if let Some(account) = &e.account {
        if let Some(ou) = account
            .ou_path
            .iter()
            .find(|ou| policy.critical_ous.contains(ou))
        {
            applied.push(factor("critical-account", format!("account is in OU {ou}")));
        }
        if let Some(ou) = account
            .ou_path
            .iter()
            .find(|ou| policy.sandbox_ous.contains(ou))
        {
            applied.push(factor("sandbox-account", format!("account is in OU {ou}")));
        }
    }
    let grant = d.subject.grant().map(|g| g.to_string());
    if let Some(why) = e
        .target_user
        .as_ref()
        .and_then(|u| u.admin_access(policy, grant.as_deref()))
    {
        applied.push(factor(
            "target-is-admin",
            format!("target user already has admin access: {why}"),
        ));
    }
    let base = d.base();
    let total = base as i32 + applied.iter().map(|f| f.delta).sum::<i32>();
    let value = total.clamp(0, 100) as u8;
    Score {
        base,
        value,
        label: Label::from_score(value),
        factors: applied,
    }
}

/// The factors of who made the call: root or IAM user, MFA, trusted principal or service,
/// source IP.
fn caller_factors(c: &Caller, policy: &Policy, applied: &mut Vec<AppliedFactor>) {
    if c.kind == IdentityType::Root {
        applied.push(factor("actor-root", "caller is the root user".into()));
    }
    if c.kind == IdentityType::IamUser {
        applied.push(factor("actor-iam-user", "caller is an IAM user".into()));
    }
    if matches!(c.kind, IdentityType::Root | IdentityType::IamUser)
        && c.mfa_authenticated == Some(false)
    {
        applied.push(factor("no-mfa", "session not MFA-authenticated".into()));
    }
    let trusted = [c.arn, c.trust_principal]
        .into_iter()
        .flatten()
        .find_map(|arn| policy.trusted_principal(arn).map(|g| (arn, g)));
    if let Some((arn, g)) = trusted {
        applied.push(factor(
            "trusted-principal",
            format!("{arn} matches {}", g.as_str()),
        ));
    }
    if let Some(by) = c.invoked_by {
        if policy.trusted_services.iter().any(|s| s == by) {
            applied.push(factor("trusted-service", format!("invoked by {by}")));
        }
    }
    if !policy.trusted_cidrs.is_empty() {
        if let Some(ip) = c.source_ip.and_then(parse_ip) {
            if !policy.trusted_cidrs.iter().any(|cidr| cidr.contains(&ip)) {
                applied.push(factor(
                    "untrusted-source-ip",
                    format!("{ip} is outside trusted_cidrs"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::score;
    use crate::enrich::Enrichment;
    use crate::rules::{detect, testing::*};
    use crate::Policy;
    use serde_json::json;

    /// A detection's own base replaces its rule's; the factors add to it as usual.
    #[test]
    fn base_override_replaces_the_rule_base() {
        let p = Policy::default();
        let r = record("CreateUser", json!({"userName": "bob"}));
        let mut d = detect(&r, &p).unwrap();
        let s = score(&d, &r, &p, &Enrichment::default());
        assert_eq!((s.base, s.value), (40, 50));
        d.base_override = Some(60);
        let s = score(&d, &r, &p, &Enrichment::default());
        assert_eq!((s.base, s.value), (60, 70));
        assert!(s.explain().starts_with("base 60 "), "{}", s.explain());
    }

    /// `no-mfa` applies to an IAM call without MFA, never to a sign-in rule's finding (its
    /// own condition is MFA), even when the record carries a session without MFA.
    #[test]
    fn sign_in_rules_skip_no_mfa() {
        let p = Policy::default();
        let mut id = alice();
        id["sessionContext"] = json!({"attributes": {"mfaAuthenticated": "false"}});
        let r = with_identity("CreateUser", json!({"userName": "bob"}), id.clone());
        let d = detect(&r, &p).unwrap();
        let s = score(&d, &r, &p, &Enrichment::default());
        assert_eq!(s.factor_ids(), "actor-iam-user,no-mfa");
        let r = sign_in(id, "Success", "No");
        let d = detect(&r, &p).unwrap();
        assert_eq!(d.rule.id, "console-login-without-mfa");
        let s = score(&d, &r, &p, &Enrichment::default());
        assert_eq!((s.factor_ids().as_str(), s.value), ("actor-iam-user", 60));
    }
}
