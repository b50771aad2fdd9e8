//! `access-key-quarantined-by-aws`: AWS attached its `AWSCompromisedKeyQuarantine` policy
//! (V2, V3, ...) to a user because one of the user's access keys was found exposed in
//! public. The key is in an attacker's reach; the quarantine denies only some actions.

use super::{stand_in, succeeded, Context, Detection, Outcome, RuleMeta, Subject};
use crate::record::CloudTrailRecord;
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "access-key-quarantined-by-aws",
    title: "Access key quarantined by AWS",
    base: 90,
    event_source: IAM,
    event_names: &["AttachUserPolicy"],
    outcome: Outcome::Success,
    // Detaching the quarantine policy is the last step of AWS's remediation (after the
    // exposed key is deleted); it ends this finding, as deleting the user does.
    resolved_by: &["DetachUserPolicy", "DeleteUser"],
    types: &[
        "TTPs/Credential Access/Unsecured Credentials",
        "Effects/Data Exposure",
    ],
    recommendation: "AWS found an access key of this user exposed in public: delete the \
        exposed key now, review everything it did since it was made (CloudTrail), then \
        detach the quarantine policy.",
    attack: &["T1552.001", "T1078.004"],
};

/// Whether `arn` is AWS's quarantine managed policy, any version and partition:
/// `arn:<partition>:iam::aws:policy/AWSCompromisedKeyQuarantine[V2|V3|...]`.
pub fn is_quarantine_policy(arn: &str) -> bool {
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _, "iam", "", "aws", resource] = fields.as_slice() else {
        return false;
    };
    let Some(version) = resource.strip_prefix("policy/AWSCompromisedKeyQuarantine") else {
        return false;
    };
    version.is_empty()
        || version
            .strip_prefix('V')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn detect(&self, r: &CloudTrailRecord, _: &Context) -> Option<Detection> {
        if !succeeded(r, META.event_names) {
            return None;
        }
        let policy = r.param("policyArn").filter(|a| is_quarantine_policy(a))?;
        let user = match r.param("userName") {
            Some(u) => u.to_string(),
            None => stand_in(r, "user")?,
        };
        Some(Detection {
            rule: &META,
            summary: format!(
                "attached {policy} to IAM user {user}: AWS found one of its access keys exposed"
            ),
            subject: Subject::User(user),
            base_override: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::is_quarantine_policy;
    use crate::resolve::resolution;
    use crate::rules::{detect, testing::*};
    use crate::Policy;
    use serde_json::json;

    #[test]
    fn quarantine_policies() {
        for arn in [
            "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantine",
            "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2",
            "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3",
            "arn:aws-cn:iam::aws:policy/AWSCompromisedKeyQuarantineV2",
        ] {
            assert!(is_quarantine_policy(arn), "{arn}");
        }
        for arn in [
            "arn:aws:iam::111122223333:policy/AWSCompromisedKeyQuarantineV2",
            "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2Extra",
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "AWSCompromisedKeyQuarantineV2",
        ] {
            assert!(!is_quarantine_policy(arn), "{arn}");
        }
    }

    #[test]
    fn replaces_user_permissions_changed() {
        let p = Policy::default();
        let r = role(
            "AttachUserPolicy",
            json!({"userName": "bob",
                   "policyArn": "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"}),
        );
        let d = detect(&r, &p).unwrap();
        assert_eq!(d.rule.id, "access-key-quarantined-by-aws");
        assert_eq!(
            (d.subject.key().as_str(), d.subject.user()),
            ("bob", Some("bob"))
        );
        // Even when a policy file calls it admin, it is the quarantine.
        let p = Policy::from_toml(
            "admin_policies = [\"arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3\"]",
            "p.toml",
        )
        .unwrap();
        assert_eq!(
            detect(&r, &p).unwrap().rule.id,
            "access-key-quarantined-by-aws"
        );
        // Another customer-managed policy of the same name is a plain grant.
        let r = record(
            "AttachUserPolicy",
            json!({"userName": "bob",
                   "policyArn": "arn:aws:iam::111122223333:policy/AWSCompromisedKeyQuarantineV3"}),
        );
        assert_eq!(
            detect(&r, &Policy::default()).unwrap().rule.id,
            "user-permissions-changed"
        );
    }

    #[test]
    fn detaching_the_quarantine_ends_it_and_nothing_else_does() {
        use crate::build::FindingContext;
        use crate::engine::{evaluate, finding, Verdict};
        use crate::enrich::Enrichment;
        let p = Policy::default();
        let arn = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2";
        let r = role(
            "AttachUserPolicy",
            json!({"userName": "bob", "policyArn": arn}),
        );
        let Verdict::Finding(d) = evaluate(&r, &p) else {
            panic!("no finding")
        };
        let (f, s) = finding(
            &d,
            &r,
            &p,
            &Enrichment::default(),
            &FindingContext::default(),
        );
        assert_eq!(
            (s.value, f.id.as_str()),
            (
                90,
                "iamwatch/111122223333/access-key-quarantined-by-aws/bob"
            )
        );
        let mut later = role(
            "DetachUserPolicy",
            json!({"userName": "bob", "policyArn": arn}),
        );
        later.event_time = "2026-11-02T10:00:00Z".into();
        assert!(resolution(&later).unwrap().ends(&f));
        let other = role(
            "DetachUserPolicy",
            json!({"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
        );
        assert!(!resolution(&other).unwrap().ends(&f));
        let other_user = role(
            "DetachUserPolicy",
            json!({"userName": "eve", "policyArn": arn}),
        );
        assert!(!resolution(&other_user).unwrap().ends(&f));
        assert!(resolution(&role("DeleteUser", json!({"userName": "bob"})))
            .unwrap()
            .ends(&f));
    }
}
