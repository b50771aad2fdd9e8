//! Replaying history: findings and resolutions from many files, in any order, put in event
//! time order so that a resolving event archives only what came before it, a renamed user's
//! findings follow it to the new name, and a finding seen again (a re-scan, a duplicate record)
//! updates the one finding with its id.

use crate::build::FindingContext;
use crate::engine::{self, Verdict};
use crate::enrich::OrgSnapshot;
use crate::finding::{Finding, RecordState};
use crate::resolve::{Rename, Resolution};
use crate::time::parse_millis;
use crate::{CloudTrailRecord, Policy};
use std::collections::HashMap;

enum Item {
    Finding(Box<Finding>),
    Resolution(Resolution),
    Rename(Rename),
}

/// Collects findings and resolutions, then replays them by event time.
#[derive(Default)]
pub struct Timeline {
    items: Vec<(i64, u64, Item)>,
    seq: u64,
}

impl Timeline {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, at: &str, item: Item) {
        let t = parse_millis(at).unwrap_or(i64::MIN);
        self.items.push((t, self.seq, item));
        self.seq += 1;
    }

    pub fn add_finding(&mut self, f: Finding) {
        let at = f.created_at.clone();
        self.push(&at, Item::Finding(Box::new(f)));
    }

    pub fn add_resolution(&mut self, r: Resolution) {
        let at = r.event_time.clone();
        self.push(&at, Item::Resolution(r));
    }

    /// A user renamed: its active findings filed before are re-filed under the new name
    /// ([`crate::resolve::rename`]).
    pub fn add_rename(&mut self, r: Rename) {
        let at = r.event_time.clone();
        self.push(&at, Item::Rename(r));
    }

    /// Takes the verdict on `record`: a finding (scored under `policy`, enriched from `org`,
    /// filed as `ctx` says) or a resolution goes on the timeline; a suppression is left off and
    /// returned as the line that says it.
    pub fn add_verdict(
        &mut self,
        verdict: Verdict,
        record: &CloudTrailRecord,
        policy: &Policy,
        org: Option<&OrgSnapshot>,
        ctx: &FindingContext,
    ) -> Option<String> {
        match verdict {
            Verdict::OutOfScope | Verdict::NoFinding => None,
            Verdict::Suppressed { detection, reason } => Some(format!(
                "suppressed: {} {} in {} by {} (event {}): {reason}",
                detection.rule.id,
                detection.subject,
                record.account_id(),
                record.actor(),
                record.event_id.as_deref().unwrap_or("-"),
            )),
            Verdict::Resolution(r) => {
                self.add_resolution(r);
                None
            }
            Verdict::Finding(d) => {
                let enrichment = org
                    .map(|org| org.enrichment(record.account_id()))
                    .unwrap_or_default();
                let (finding, _) = engine::finding(&d, record, policy, &enrichment, ctx);
                self.add_finding(finding);
                None
            }
        }
    }

    /// Merges another timeline (from another thread) into this one.
    pub fn extend(&mut self, other: Timeline) {
        for (t, _, item) in other.items {
            self.items.push((t, self.seq, item));
            self.seq += 1;
        }
    }

    /// The final findings, active and archived, in order of first appearance. Events with the
    /// same time keep the order they were added in; a finding precedes a resolution or rename of
    /// the same instant (CloudTrail logs a create and its clean-up within one second).
    pub fn replay(mut self) -> Vec<Finding> {
        self.items
            .sort_by_key(|(t, seq, item)| (*t, !matches!(item, Item::Finding(_)), *seq));
        let mut order: Vec<String> = Vec::new();
        let mut by_id: HashMap<String, Finding> = HashMap::new();
        for (_, _, item) in self.items {
            match item {
                Item::Finding(f) => match by_id.get_mut(&f.id) {
                    Some(existing) => {
                        // Seen again: the same finding, updated and active again.
                        let created = existing.created_at.clone();
                        let first = existing.first_observed_at.clone();
                        *existing = *f;
                        existing.created_at = created;
                        existing.first_observed_at = first;
                    }
                    None => {
                        order.push(f.id.clone());
                        by_id.insert(f.id.clone(), *f);
                    }
                },
                Item::Resolution(r) => {
                    for f in by_id.values_mut() {
                        if f.record_state == RecordState::Active && r.ends(f) {
                            *f = r.archive(f);
                        }
                    }
                }
                Item::Rename(rn) => {
                    // In order of first appearance, so the re-filed ones keep that order.
                    let hit: Vec<String> = order
                        .iter()
                        .filter(|id| by_id.get(*id).is_some_and(|f| rn.applies(f)))
                        .cloned()
                        .collect();
                    for id in hit {
                        let (old, new) = rn.refile(&by_id[&id]);
                        let Some(old) = old else {
                            // Same id, the user updated in place.
                            by_id.insert(id, new);
                            continue;
                        };
                        by_id.insert(id, old);
                        match by_id.get(&new.id) {
                            // The new name already has this finding, active: it stays.
                            Some(f) if f.record_state == RecordState::Active => {}
                            Some(_) => {
                                by_id.insert(new.id.clone(), new);
                            }
                            None => {
                                order.push(new.id.clone());
                                by_id.insert(new.id.clone(), new);
                            }
                        }
                    }
                }
            }
        }
        order
            .into_iter()
            .filter_map(|id| by_id.remove(&id))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Timeline;
    use crate::build::FindingContext;
    use crate::engine::{evaluate, finding, Verdict};
    use crate::enrich::Enrichment;
    use crate::finding::{fields, Finding, RecordState};
    use crate::record::CloudTrailRecord;
    use crate::resolve::renaming;
    use crate::rules::testing::{role, with_response};
    use crate::Policy;
    use serde_json::{json, Value};

    fn at(mut r: CloudTrailRecord, time: &str, id: &str) -> CloudTrailRecord {
        r.event_time = time.into();
        r.event_id = Some(id.into());
        r
    }

    /// Adds a record as the scanner does: its rename, then its finding or resolution.
    fn add(t: &mut Timeline, r: &CloudTrailRecord) {
        if let Some(rn) = renaming(r) {
            t.add_rename(rn);
        }
        let p = Policy::default();
        match evaluate(r, &p) {
            Verdict::Finding(d) => {
                let ctx = FindingContext::default();
                t.add_finding(finding(&d, r, &p, &Enrichment::default(), &ctx).0)
            }
            Verdict::Resolution(res) => t.add_resolution(res),
            v => panic!("{}: {v:?}", r.event_name),
        }
    }

    fn states(fs: &[Finding]) -> Vec<(String, RecordState, Option<String>)> {
        fs.iter()
            .map(|f| {
                (
                    f.id.trim_start_matches("iamwatch/111122223333/")
                        .to_string(),
                    f.record_state,
                    f.field(fields::USER).map(String::from),
                )
            })
            .collect()
    }

    fn replay(records: &[CloudTrailRecord]) -> Vec<Finding> {
        let mut t = Timeline::new();
        for r in records {
            add(&mut t, r);
        }
        t.replay()
    }

    #[test]
    fn a_rename_refiles_the_old_names_findings_and_the_new_name_ends_them() {
        use RecordState::{Active, Archived};
        let key = |p: Value| {
            with_response(
                role("CreateAccessKey", p),
                json!({"accessKey": {"accessKeyId": "AKIABOB"}}),
            )
        };
        let records = [
            at(
                role("CreateUser", json!({"userName": "bob"})),
                "2026-11-01T10:00:00Z",
                "a",
            ),
            at(key(json!({"userName": "bob"})), "2026-11-01T10:01:00Z", "b"),
            at(
                role(
                    "AttachUserPolicy",
                    json!({"userName": "bob",
                    "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
                ),
                "2026-11-01T10:02:00Z",
                "c",
            ),
            at(
                role(
                    "UpdateUser",
                    json!({"userName": "bob", "newUserName": "robert"}),
                ),
                "2026-11-01T10:03:00Z",
                "d",
            ),
        ];
        let bob = |s: &str| Some(s.to_string());
        let got = replay(&records);
        assert_eq!(
            states(&got),
            [
                ("iam-user-created/bob".into(), Archived, bob("bob")),
                (
                    "access-key-created-for-other-user/AKIABOB".into(),
                    Active,
                    bob("robert")
                ),
                (
                    "user-permissions-changed/bob/policy:arn:aws:iam::aws:policy/ReadOnlyAccess"
                        .into(),
                    Archived,
                    bob("bob")
                ),
                ("iam-user-renamed/bob".into(), Active, bob("robert")),
                ("iam-user-created/robert".into(), Active, bob("robert")),
                (
                    "user-permissions-changed/robert/policy:arn:aws:iam::aws:policy/ReadOnlyAccess"
                        .into(),
                    Active,
                    bob("robert")
                ),
            ]
        );
        assert_eq!(
            (got[3].created_at.as_str(), got[3].updated_at.as_str()),
            ("2026-11-01T10:03:00.000Z", "2026-11-01T10:03:00.000Z"),
            "the rename's own finding is not an update"
        );
        let refiled = &got[4];
        assert_eq!(refiled.title, "IAM user created: robert");
        assert_eq!(
            refiled.field(fields::RENAMED_FROM),
            Some("iamwatch/111122223333/iam-user-created/bob")
        );
        assert_eq!(
            refiled.created_at, "2026-11-01T10:00:00.000Z",
            "history is kept"
        );
        assert_eq!(refiled.updated_at, "2026-11-01T10:03:00.000Z");
        let user = refiled.resources[0].details.as_ref().unwrap();
        assert_eq!(user.aws_iam_user.as_ref().unwrap().user_name, "robert");
        assert_eq!(
            refiled.resources[0].id,
            "arn:aws:iam::111122223333:user/robert"
        );
        assert_eq!(got[0].field(fields::RESOLVED_BY), Some("UpdateUser d"));
        assert_eq!(
            got[0].field(fields::REFILED_AS),
            Some("iamwatch/111122223333/iam-user-created/robert")
        );
        let k = got[1].resources[1].details.as_ref().unwrap();
        assert_eq!(
            k.aws_iam_access_key
                .as_ref()
                .unwrap()
                .principal_name
                .as_deref(),
            Some("robert")
        );

        // A later DeleteUser of the new name ends every one of them.
        let mut more = records.to_vec();
        more.push(at(
            role("DeleteUser", json!({"userName": "robert"})),
            "2026-11-02T09:00:00Z",
            "e",
        ));
        let got = replay(&more);
        assert!(
            got.iter().all(|f| f.record_state == Archived),
            "{:?}",
            states(&got)
        );
        // DeleteUser of the old name ends nothing active any more.
        let mut old = records.to_vec();
        old.push(at(
            role("DeleteUser", json!({"userName": "bob"})),
            "2026-11-02T09:00:00Z",
            "e",
        ));
        assert_eq!(states(&replay(&old)), states(&replay(&records)));
    }

    #[test]
    fn renames_chain_and_only_touch_what_came_before() {
        let records = [
            at(
                role(
                    "UpdateUser",
                    json!({"userName": "bob", "newUserName": "carol"}),
                ),
                "2026-11-01T10:00:00Z",
                "a",
            ),
            at(
                role(
                    "UpdateUser",
                    json!({"userName": "carol", "newUserName": "dave"}),
                ),
                "2026-11-01T11:00:00Z",
                "b",
            ),
            // Created after the renames: a new user who took the old name.
            at(
                role("CreateUser", json!({"userName": "bob"})),
                "2026-11-01T12:00:00Z",
                "c",
            ),
        ];
        let got = replay(&records);
        let dave = Some("dave".to_string());
        assert_eq!(
            states(&got),
            [
                (
                    "iam-user-renamed/bob".into(),
                    RecordState::Active,
                    dave.clone()
                ),
                ("iam-user-renamed/carol".into(), RecordState::Active, dave),
                (
                    "iam-user-created/bob".into(),
                    RecordState::Active,
                    Some("bob".into())
                ),
            ]
        );
        // In any input order: the timeline sorts by event time.
        let mut reversed = records.to_vec();
        reversed.reverse();
        let mut got2 = replay(&reversed);
        got2.sort_by(|a, b| a.id.cmp(&b.id));
        let mut got = got;
        got.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(states(&got), states(&got2));
    }
}
