//! The hygiene rules: one rule per file, the file stem is the rule id, as for the real-time
//! rules of [`crate::rules`]. A hygiene rule looks at one credential report row as of one
//! instant and says which findings it makes; scoring, finding ids and the ASFF model are the
//! real-time rules' ([`crate::score`], [`crate::build`]).
//!
//! Ages are whole UTC calendar days between the day of a time in the report and the day of the
//! instant the check runs as of: a key last used on 2026-09-02 is 90 days old on 2026-12-01,
//! which is not more than `unused_days = 90`; on 2026-12-02 it is 91, and unused.

use super::report::{KeySlot, ReportRow, When};
use super::Day;
use crate::policy::InventoryPolicy;
use crate::rules::{Detection, RuleMeta};
use crate::subject::Subject;

#[path = "access-key-not-rotated.rs"]
mod access_key_not_rotated;
#[path = "access-key-unused.rs"]
mod access_key_unused;
#[path = "console-password-unused.rs"]
mod console_password_unused;
#[path = "console-without-mfa.rs"]
mod console_without_mfa;
#[path = "root-access-key-present.rs"]
mod root_access_key_present;
#[path = "root-console-without-mfa.rs"]
mod root_console_without_mfa;

/// The ASFF `Types` of every hygiene finding: a standing credential that breaks practice.
pub(crate) const TYPES: &[&str] =
    &["Software and Configuration Checks/AWS Security Best Practices"];

/// What a hygiene rule is checked against: the thresholds and the instant of the check.
#[derive(Debug, Clone, Copy)]
pub struct Check<'a> {
    pub limits: &'a InventoryPolicy,
    /// Milliseconds since the Unix epoch: the report's generation time (a live sweep) or
    /// `--as-of` (offline).
    pub as_of: i64,
}

impl Check<'_> {
    /// Whole UTC days from the day of `t` to the day of the check (negative for a later `t`).
    pub fn age_days(&self, t: i64) -> i64 {
        Day::from_millis(self.as_of).days() - Day::from_millis(t).days()
    }

    /// The day of the check, `YYYY-MM-DD`.
    pub fn day(&self) -> Day {
        Day::from_millis(self.as_of)
    }
}

/// A hygiene rule.
pub trait HygieneRule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    /// The findings this row makes under this rule (a key rule may make one per key).
    fn check(&self, row: &ReportRow, cx: &Check) -> Vec<Detection>;
}

/// Every hygiene rule, in the order their findings are listed. This is the one list of them:
/// adding a rule is adding its file and one line here.
pub static RULES: &[&dyn HygieneRule] = &[
    &root_access_key_present::Rule,
    &root_console_without_mfa::Rule,
    &console_without_mfa::Rule,
    &access_key_unused::Rule,
    &console_password_unused::Rule,
    &access_key_not_rotated::Rule,
];

/// Every hygiene rule's metadata, in [`RULES`] order.
pub fn metas() -> impl Iterator<Item = &'static RuleMeta> {
    RULES.iter().map(|r| r.meta())
}

/// Every hygiene rule id, in [`RULES`] order.
pub fn ids() -> Vec<&'static str> {
    metas().map(|m| m.id).collect()
}

/// The hygiene rule with this id.
pub fn by_id(id: &str) -> Option<&'static RuleMeta> {
    metas().find(|m| m.id == id)
}

/// Every finding a row makes, in [`RULES`] order.
pub fn check_row(row: &ReportRow, cx: &Check) -> Vec<Detection> {
    RULES.iter().flat_map(|r| r.check(row, cx)).collect()
}

// Helpers shared by the rules.

/// The subject of a finding about one key of a row: `<user>/<id>`, or `<user>/<slot>`.
pub(crate) fn key_subject(row: &ReportRow, key: &KeySlot) -> Subject {
    Subject::UserAccessKey {
        user: row.subject_user().to_string(),
        id: key.id.clone(),
        slot: key.slot,
    }
}

/// "access key 1", or "access key 1 (AKIA...)" when its id is known.
pub(crate) fn key_name(key: &KeySlot) -> String {
    match &key.id {
        Some(id) => format!("access key {} ({id})", key.slot),
        None => format!("access key {}", key.slot),
    }
}

/// "2026-01-01 (334 days ago)".
pub(crate) fn dated(t: i64, cx: &Check) -> String {
    let days = cx.age_days(t);
    format!(
        "{} ({days} day{} before {})",
        When::At(t).describe(),
        if days == 1 { "" } else { "s" },
        cx.day()
    )
}

pub(crate) fn detection(meta: &'static RuleMeta, subject: Subject, summary: String) -> Detection {
    Detection {
        rule: meta,
        subject,
        summary,
        base_override: None,
    }
}

/// The finding of `meta` about the row's user (`root` for the root row).
pub(crate) fn user_finding(
    meta: &'static RuleMeta,
    row: &ReportRow,
    summary: String,
) -> Vec<Detection> {
    vec![detection(
        meta,
        Subject::User(row.subject_user().to_string()),
        summary,
    )]
}

/// A finding of `meta` for each active key of an IAM user's row that `summary` says something
/// about; none for the root row (its keys are `root-access-key-present`'s).
pub(crate) fn user_key_findings(
    meta: &'static RuleMeta,
    row: &ReportRow,
    mut summary: impl FnMut(&KeySlot) -> Option<String>,
) -> Vec<Detection> {
    if row.is_root() {
        return Vec::new();
    }
    row.active_keys()
        .filter_map(|k| Some(detection(meta, key_subject(row, k), summary(k)?)))
        .collect()
}

/// When a credential was set (`set`, said as `what`), else when its user was created (said as
/// `fallback`); `None` when neither is dated.
pub(crate) fn set_or_user_created(
    row: &ReportRow,
    set: When,
    what: &'static str,
    fallback: &'static str,
) -> Option<(i64, &'static str)> {
    match set.at() {
        Some(t) => Some((t, what)),
        None => Some((row.created.at()?, fallback)),
    }
}

/// Why `credential` ("a console password", "active access key 1") is unused as of the check:
/// last used more than `unused_days` ago, or never used and set more than `grace_days` ago
/// (`since`, asked only of a credential never used: when it was set and what that is). `None`:
/// used within `unused_days`, within its grace, or not dated.
pub(crate) fn unused(
    cx: &Check,
    credential: &str,
    last_used: When,
    since: impl FnOnce() -> Option<(i64, &'static str)>,
) -> Option<String> {
    let unused = i64::from(cx.limits.unused_days);
    let grace = i64::from(cx.limits.grace_days);
    match last_used {
        When::At(t) if cx.age_days(t) > unused => Some(format!(
            "has {credential} last used {}, more than unused_days = {unused}",
            dated(t, cx)
        )),
        When::At(_) => None,
        never => {
            let (since, what) = since()?;
            (cx.age_days(since) > grace).then(|| {
                format!(
                    "has {credential} never used ({}), {what} {}, more than grace_days = {grace}",
                    never.describe(),
                    dated(since, cx)
                )
            })
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Rows and checks for the rules' tests.
    use super::super::report::{Flag, KeySlot, ReportRow, When, ROOT_ROW};
    use super::Check;
    use crate::policy::InventoryPolicy;

    /// 2026-12-01T00:00:00Z, the instant the tests check as of.
    pub const AS_OF: &str = "2026-12-01";

    pub fn day(d: &str) -> i64 {
        d.parse::<super::Day>().unwrap().start_millis()
    }

    /// `n` days before [`AS_OF`], at 10:00 UTC.
    pub fn days_ago(n: i64) -> When {
        When::At(day(AS_OF) - n * 86_400_000 + 10 * 3_600_000)
    }

    pub fn check(limits: &InventoryPolicy) -> Check<'_> {
        Check {
            limits,
            as_of: day(AS_OF),
        }
    }

    pub fn no_key(slot: u8) -> KeySlot {
        KeySlot::empty(slot)
    }

    pub fn key(slot: u8, rotated: When, used: When) -> KeySlot {
        KeySlot {
            active: true,
            last_rotated: rotated,
            last_used: used,
            last_used_service: used.at().map(|_| "s3".to_string()),
            ..no_key(slot)
        }
    }

    /// A user created 400 days ago with nothing: no password, no MFA, no key.
    pub fn user(name: &str) -> ReportRow {
        ReportRow {
            line: 2,
            user: name.to_string(),
            arn: format!("arn:aws:iam::111122223333:user/{name}"),
            created: days_ago(400),
            password_enabled: Flag::False,
            password_last_used: When::NotApplicable,
            password_last_changed: When::NotApplicable,
            mfa_active: false,
            keys: [no_key(1), no_key(2)],
        }
    }

    /// The root row as AWS writes it for a root user with MFA and no key.
    pub fn root() -> ReportRow {
        ReportRow {
            user: ROOT_ROW.to_string(),
            arn: "arn:aws:iam::111122223333:root".to_string(),
            password_enabled: Flag::NotSupported,
            password_last_changed: When::NotSupported,
            password_last_used: days_ago(3),
            mfa_active: true,
            ..user("root")
        }
    }

    /// The ids of the rules that fire on a row, with their subjects.
    pub fn fired(row: &ReportRow, limits: &InventoryPolicy) -> Vec<(String, String)> {
        super::check_row(row, &check(limits))
            .into_iter()
            .map(|d| (d.rule.id.to_string(), d.subject.key()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of `src/inventory/rules/` but `mod.rs` is a rule registered in [`RULES`]
    /// under its stem, and no hygiene rule id is a real-time rule id.
    #[test]
    fn every_rule_file_is_registered() {
        crate::rules::assert_rule_files_registered("src/inventory/rules", &ids());
        for id in ids() {
            assert!(
                crate::rules::by_id(id).is_none(),
                "{id} is also a real-time rule"
            );
        }
    }

    #[test]
    fn metadata_is_complete() {
        for m in metas() {
            assert!(
                m.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                m.id
            );
            assert!(!m.title.is_empty() && !m.types.is_empty() && !m.attack.is_empty());
            assert!(
                m.event_names.is_empty() && m.resolved_by.is_empty(),
                "{}",
                m.id
            );
            assert_eq!(m.event_source, crate::sources::IAM);
        }
        let bases: Vec<(&str, u8)> = metas().map(|m| (m.id, m.base)).collect();
        assert_eq!(
            bases,
            [
                ("root-access-key-present", 90),
                ("root-console-without-mfa", 80),
                ("console-without-mfa", 60),
                ("access-key-unused", 50),
                ("console-password-unused", 40),
                ("access-key-not-rotated", 30),
            ]
        );
    }

    #[test]
    fn ages_are_whole_utc_days() {
        let limits = InventoryPolicy::default();
        let cx = testing::check(&limits);
        let t = |s: &str| crate::time::parse_millis(s).unwrap();
        assert_eq!(cx.age_days(t("2026-11-30T23:59:59Z")), 1);
        assert_eq!(cx.age_days(t("2026-12-01T00:00:00Z")), 0);
        assert_eq!(cx.age_days(t("2026-09-02T00:00:00Z")), 90);
        assert_eq!(cx.age_days(t("2026-12-05T00:00:00Z")), -4);
    }
}
