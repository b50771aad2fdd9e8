//! A credential report in, scored ASFF findings out: the hygiene rules over every row, with the
//! real-time rules' scoring, suppressions, finding ids and ASFF model. The same code serves
//! `iamwatch inventory check` (offline, `--as-of`) and the daily sweep (the report's time).

use super::report::{CredentialReport, ReportRow};
use super::rules::{self, Check};
use crate::build::FindingContext;
use crate::enrich::{Enrichment, UserDetails};
use crate::finding::Finding;
use crate::observation::{ApiCall, Caller, Observation, ResourceFacts};
use crate::policy::Policy;
use crate::rules::Detection;
use crate::score::Score;
use crate::subject::Subject;
use std::collections::BTreeMap;

/// `ProductFields` key of a hygiene finding about an access key: the key's slot in the
/// credential report (`1` or `2`), beside `iamwatch/AccessKeyId` when the id is known.
pub const ACCESS_KEY_SLOT: &str = "iamwatch/AccessKeySlot";

/// A credential report row as the observation a finding is built from: the user (its ARN is
/// the finding's actor), seen at the instant of the check. No API call, no caller.
pub struct RowObservation<'a> {
    pub account_id: &'a str,
    pub row: &'a ReportRow,
    /// The instant of the check, RFC 3339.
    pub at: &'a str,
}

impl Observation for RowObservation<'_> {
    fn account_id(&self) -> &str {
        self.account_id
    }

    fn observed_at(&self) -> &str {
        self.at
    }

    fn actor(&self) -> String {
        self.row.arn.clone()
    }

    fn caller(&self) -> Option<Caller<'_>> {
        None
    }

    fn api_call(&self) -> Option<ApiCall<'_>> {
        None
    }

    fn resource_facts(&self, subject: &Subject) -> ResourceFacts {
        let mut facts = ResourceFacts::default();
        if !self.row.is_root() && subject.user() == Some(self.row.user.as_str()) {
            facts.user_arn = Some(self.row.arn.clone());
        }
        if let Subject::UserAccessKey { slot, .. } = subject {
            if let Some(k) = self.row.keys.iter().find(|k| k.slot == *slot) {
                facts.key_status = Some(if k.active { "Active" } else { "Inactive" }.to_string());
                facts.key_created_at = k.last_rotated.iso();
            }
        }
        facts
    }
}

/// A detection that a `[[suppress]]` entry dropped, with the entry's reason.
#[derive(Debug, Clone)]
pub struct SuppressedFinding {
    pub account_id: String,
    pub detection: Detection,
    pub reason: String,
}

/// What the hygiene rules made of a report.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// The findings with their scores, in row order, then rule order.
    pub findings: Vec<(Finding, Score)>,
    pub suppressed: Vec<SuppressedFinding>,
}

impl Evaluation {
    /// Per user (`root` for the root user): the highest score and the ids of the rules that
    /// fired, as the users table keeps them.
    pub fn by_user(&self) -> BTreeMap<String, (u8, Vec<String>)> {
        let mut out: BTreeMap<String, (u8, Vec<String>)> = BTreeMap::new();
        for (f, s) in &self.findings {
            let (Some(user), Some(rule)) = (
                f.field(crate::finding::fields::USER),
                f.field(crate::finding::fields::RULE_ID),
            ) else {
                continue;
            };
            let e = out.entry(user.to_string()).or_default();
            e.0 = e.0.max(s.value);
            if !e.1.iter().any(|r| r == rule) {
                e.1.push(rule.to_string());
            }
        }
        out
    }
}

/// The hygiene findings of a report as of `as_of` (milliseconds since the Unix epoch).
/// `account` is the account's enrichment (name, OU path for the account factors); `users`
/// what live reads know of each user (for `target-is-admin`), by user name, empty offline.
pub fn evaluate(
    report: &CredentialReport,
    policy: &Policy,
    as_of: i64,
    account: &Enrichment,
    users: &BTreeMap<String, UserDetails>,
    ctx: &FindingContext,
) -> Evaluation {
    let cx = Check {
        limits: &policy.inventory,
        as_of,
    };
    let at = crate::time::format_millis(as_of);
    let mut out = Evaluation::default();
    for row in &report.rows {
        for d in rules::check_row(row, &cx) {
            if let Some(s) = policy
                .suppress
                .iter()
                .find(|s| s.matches(&report.account_id, d.rule.id, &[&row.arn], d.subject.user()))
            {
                out.suppressed.push(SuppressedFinding {
                    account_id: report.account_id.clone(),
                    detection: d,
                    reason: s.reason.clone(),
                });
                continue;
            }
            let o = RowObservation {
                account_id: &report.account_id,
                row,
                at: &at,
            };
            let e = Enrichment {
                target_user: users.get(&row.user).cloned(),
                ..account.clone()
            };
            let (mut f, score) = crate::engine::finding(&d, &o, policy, &e, ctx);
            if let Subject::UserAccessKey { slot, .. } = &d.subject {
                f.product_fields
                    .insert(ACCESS_KEY_SLOT.to_string(), slot.to_string());
            }
            out.findings.push((f, score));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::AccountInfo;
    use crate::finding::{fields, RecordState};
    use crate::inventory::report::{parse, tests::HEADER, tests::ROOT};
    use crate::Label;

    const AS_OF: &str = "2026-12-01T00:00:00Z";

    fn report() -> CredentialReport {
        let text = format!(
            "{HEADER}\n{}\n\
             ci,arn:aws:iam::111122223333:user/ci,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2024-01-01T00:00:00+00:00,2026-11-30T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n",
            ROOT.replace(",true,false,N/A,N/A", ",false,false,N/A,N/A")
        );
        parse(text.as_bytes()).unwrap()
    }

    fn as_of() -> i64 {
        crate::time::parse_millis(AS_OF).unwrap()
    }

    #[test]
    fn findings_have_the_real_time_ids_scores_and_model() {
        let policy = Policy {
            critical_ous: vec!["Prod".into()],
            ..Policy::default()
        };
        let account = Enrichment {
            account: Some(AccountInfo {
                id: "111122223333".into(),
                name: Some("payments-prod".into()),
                ou_path: vec!["Workloads".into(), "Prod".into()],
                ..AccountInfo::default()
            }),
            ..Enrichment::default()
        };
        let admin = UserDetails {
            user_name: "ci".into(),
            attached_policies: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
            ..UserDetails::default()
        };
        let users = BTreeMap::from([("ci".to_string(), admin)]);
        let ev = evaluate(
            &report(),
            &policy,
            as_of(),
            &account,
            &users,
            &FindingContext::default(),
        );
        let ids: Vec<&str> = ev.findings.iter().map(|(f, _)| f.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "iamwatch/111122223333/root-console-without-mfa/root",
                "iamwatch/111122223333/access-key-not-rotated/ci/1",
            ]
        );
        let (root, s) = &ev.findings[0];
        assert_eq!(s.value, 95, "80 + critical-account 15");
        assert_eq!(root.severity.label, Label::Critical);
        assert_eq!(root.generator_id, "iamwatch/root-console-without-mfa");
        assert_eq!(root.resources[0].id, "arn:aws:iam::111122223333:root");
        assert_eq!(root.created_at, "2026-12-01T00:00:00.000Z");
        assert!(root.action.is_none());
        assert_eq!(root.record_state, RecordState::Active);
        assert_eq!(
            root.field(fields::ACTOR),
            Some("arn:aws:iam::111122223333:root")
        );
        let (key, s) = &ev.findings[1];
        assert_eq!(key.field(ACCESS_KEY_SLOT), Some("1"));
        assert_eq!(root.field(ACCESS_KEY_SLOT), None);
        assert_eq!(s.factor_ids(), "critical-account,target-is-admin");
        assert_eq!(s.value, 60);
        assert_eq!(key.resources[0].kind, "AwsIamUser");
        assert_eq!(key.resources[0].id, "arn:aws:iam::111122223333:user/ci");
        assert!(
            key.description.starts_with(
                "arn:aws:iam::111122223333:user/ci has active access key 1 last rotated \
                 2024-01-01 (1065 days before 2026-12-01), more than key_max_age_days = 90 \
                 in account payments-prod (111122223333, OU Workloads/Prod) at 2026-12-01T00:00:00.000Z. \
                 Score 60: base 30 +15 critical-account"
            ),
            "{}",
            key.description
        );
        let by_user = ev.by_user();
        assert_eq!(
            by_user["root"],
            (95, vec!["root-console-without-mfa".to_string()])
        );
        assert_eq!(
            by_user["ci"],
            (60, vec!["access-key-not-rotated".to_string()])
        );
    }

    #[test]
    fn admin_read_from_a_policy_document_scores_target_is_admin() {
        let by_document = UserDetails {
            user_name: "ci".into(),
            inline_policies: vec!["everything".into()],
            admin_documents: vec!["inline everything".into()],
            ..UserDetails::default()
        };
        let named_only = UserDetails {
            admin_documents: vec![],
            ..by_document.clone()
        };
        let scored = |d: UserDetails| {
            let users = BTreeMap::from([("ci".to_string(), d)]);
            let ev = evaluate(
                &report(),
                &Policy::default(),
                as_of(),
                &Enrichment::default(),
                &users,
                &FindingContext::default(),
            );
            let (key, s) = ev
                .findings
                .into_iter()
                .find(|(f, _)| f.id.ends_with("/access-key-not-rotated/ci/1"))
                .expect("the key finding");
            (key.description, s)
        };
        let (description, s) = scored(by_document);
        assert_eq!(s.factor_ids(), "target-is-admin");
        assert_eq!(s.value, 45, "30 + target-is-admin 15");
        assert!(
            description.contains("inline everything allows every action"),
            "{description}"
        );
        let (_, s) = scored(named_only);
        assert_eq!(s.factor_ids(), "none");
        assert_eq!(s.value, 30);
    }

    #[test]
    fn suppressions_drop_hygiene_findings_by_rule_and_user() {
        let policy = Policy::from_toml(
            "[[suppress]]\nrule = \"access-key-not-rotated\"\nuser = \"c*\"\nreason = \"CI key, rotated by its vault\"\n",
            "p.toml",
        )
        .unwrap();
        let ev = evaluate(
            &report(),
            &policy,
            as_of(),
            &Enrichment::default(),
            &BTreeMap::new(),
            &FindingContext::default(),
        );
        assert_eq!(ev.findings.len(), 1);
        assert_eq!(ev.suppressed.len(), 1);
        assert_eq!(ev.suppressed[0].reason, "CI key, rotated by its vault");
        assert_eq!(ev.suppressed[0].detection.subject.key(), "ci/1");
    }
}
