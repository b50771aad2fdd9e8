//! Records in, findings out: each record goes through the same core as a scan's
//! (`engine::evaluate`, `engine::finding`, org enrichment) into a [`Timeline`] replayed in event
//! time order, so a resolving event archives what came before it.

use iamwatch_core::build::FindingContext;
use iamwatch_core::engine;
use iamwatch_core::enrich::OrgSnapshot;
use iamwatch_core::timeline::Timeline;
use iamwatch_core::{CloudTrailRecord, Finding, Policy};

/// Counts of a hunt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Rows read (records and bad rows).
    pub rows: u64,
    /// Rows that were no record.
    pub errors: u64,
    /// Findings a `[[suppress]]` entry dropped.
    pub suppressed: u64,
}

/// Collects the findings of a hunt.
pub struct Collector {
    policy: Policy,
    org: Option<OrgSnapshot>,
    ctx: FindingContext,
    timeline: Timeline,
    pub counts: Counts,
}

impl Collector {
    pub fn new(policy: Policy, org: Option<OrgSnapshot>, ctx: FindingContext) -> Collector {
        Collector {
            policy,
            org,
            ctx,
            timeline: Timeline::new(),
            counts: Counts::default(),
        }
    }

    /// Judges one record; `note` hears of suppressed findings.
    pub fn add(&mut self, record: &CloudTrailRecord, note: &mut dyn FnMut(String)) {
        self.counts.rows += 1;
        let verdict = engine::evaluate(record, &self.policy);
        if let Some(line) =
            self.timeline
                .add_verdict(verdict, record, &self.policy, self.org.as_ref(), &self.ctx)
        {
            self.counts.suppressed += 1;
            note(line);
        }
    }

    /// Counts a row that was no record.
    pub fn bad_row(&mut self) {
        self.counts.rows += 1;
        self.counts.errors += 1;
    }

    /// The findings, active and archived, replayed in event time order.
    pub fn finish(self) -> (Vec<Finding>, Counts) {
        (self.timeline.replay(), self.counts)
    }
}

/// `3 findings (1 critical, 2 high), 1 archived`: the findings of a summary line, worded as a
/// scan's.
pub fn finding_counts(findings: &[Finding]) -> String {
    iamwatch_core::finding::count_phrase(findings)
}
