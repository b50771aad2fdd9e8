//! Replaying history: findings and resolutions from many files, in any order, put in event
//! time order so that a resolving event archives only what came before it, and a finding seen
//! again (a re-scan, a duplicate record) updates the one finding with its id.

use crate::finding::{Finding, RecordState};
use crate::resolve::Resolution;
use crate::time::parse_millis;
use std::collections::HashMap;

enum Item {
    Finding(Box<Finding>),
    Resolution(Resolution),
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

    /// Merges another timeline (from another thread) into this one.
    pub fn extend(&mut self, other: Timeline) {
        for (t, _, item) in other.items {
            self.items.push((t, self.seq, item));
            self.seq += 1;
        }
    }

    /// The final findings, active and archived, in order of first appearance. Events with the
    /// same time keep the order they were added in; a finding precedes a resolution of the same
    /// instant (CloudTrail logs a create and its clean-up within one second).
    pub fn replay(mut self) -> Vec<Finding> {
        self.items
            .sort_by_key(|(t, seq, item)| (*t, matches!(item, Item::Resolution(_)), *seq));
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
            }
        }
        order
            .into_iter()
            .filter_map(|id| by_id.remove(&id))
            .collect()
    }
}
