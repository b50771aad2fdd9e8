//! The scan walk of `iamwatch scan`: objects in, findings out, with no AWS SDK and no async
//! runtime. Objects come from a [`Source`] (a folder of files today, S3 objects next) and are
//! read in parallel, one task per object, each parsed only as far as its IAM records; findings
//! and resolutions are then replayed in event-time order. Memory holds one object per worker
//! plus the findings, however large the corpus; JSON Lines are read in chunks, so even one huge
//! object stays flat.
//!
//! # Layout
//!
//! - [`source`]: the [`Source`] and [`Object`] traits a scan reads from.
//! - [`local`]: [`LocalFiles`], files and directories on this machine (regular files only,
//!   each once, links followed without looping).
//! - [`limits`]: the [`Limits`] on what is read (an object's size, a record's), sizes with
//!   units, and the bounded reader every object goes through.
//! - [`read`]: reading one object, as a whole document or as JSON Lines in chunks.
//! - [`scan`] (this file): the parallel walk, org-snapshot enrichment, the [`Totals`].
//!
//! What happens along the way (a bad file, a skipped one, a suppressed finding) is told to a
//! [`Reporter`]; the caller decides how to show it.

pub mod limits;
pub mod local;
pub mod read;
pub mod source;

pub use limits::Limits;
pub use local::{LocalFile, LocalFiles};
pub use source::{Object, Source};

use iamwatch_core::build::FindingContext;
use iamwatch_core::engine;
use iamwatch_core::enrich::OrgSnapshot;
use iamwatch_core::input::{DocStats, ItemResult};
use iamwatch_core::rules::Context;
use iamwatch_core::timeline::Timeline;
use iamwatch_core::{CloudTrailRecord, Finding, Policy};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a scan tells as it goes. Called from worker threads, possibly at the same time.
pub trait Reporter: Sync {
    /// A problem: an object that cannot be listed, opened, read or parsed, a bad record. The
    /// message starts with the object's name. Counted in [`Totals::errors`]; the scan goes on.
    fn error(&self, message: &str);
    /// Something left out on purpose, said so nothing is silently lost: a suppressed finding,
    /// a skipped file. Not an error.
    fn note(&self, message: &str);
    /// The objects are listed: `count` of them will be read.
    fn listed(&self, _count: u64) {}
    /// One more object is read.
    fn object_done(&self) {}
}

/// Totals of a scan.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Objects read (or tried).
    pub files: u64,
    /// Bytes read, as stored.
    pub bytes: u64,
    /// Items and IAM records seen.
    pub stats: DocStats,
    /// Findings suppressed by the policy.
    pub suppressed: u64,
    /// Problems reported ([`Reporter::error`]).
    pub errors: u64,
}

/// What a scan needs besides its source.
pub struct Options {
    pub policy: Policy,
    /// Account names and OU paths for the findings.
    pub org: Option<OrgSnapshot>,
    pub context: FindingContext,
    /// Worker threads (`None`: one per core).
    pub threads: Option<usize>,
    /// What is read at most, per object and per record.
    pub limits: Limits,
}

/// What a scan found.
pub struct Outcome {
    /// Every finding, in event-time order, archived ones included.
    pub findings: Vec<Finding>,
    pub totals: Totals,
}

/// Why a scan could not run at all (a bad object only makes a [`Reporter::error`]).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot start worker threads")]
    Threads(#[source] rayon::ThreadPoolBuildError),
}

/// Counts errors on the way to the caller's reporter.
struct Counting<'a> {
    inner: &'a dyn Reporter,
    errors: AtomicU64,
}

impl Reporter for Counting<'_> {
    fn error(&self, message: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.inner.error(message);
    }

    fn note(&self, message: &str) {
        self.inner.note(message);
    }
}

#[derive(Default)]
struct Acc {
    timeline: Timeline,
    totals: Totals,
}

impl Acc {
    fn merge(mut self, other: Acc) -> Acc {
        self.timeline.extend(other.timeline);
        let (a, b) = (&mut self.totals, other.totals);
        a.files += b.files;
        a.bytes += b.bytes;
        a.stats += b.stats;
        a.suppressed += b.suppressed;
        self
    }
}

/// Scans every object of `source`.
pub fn scan<S: Source>(
    source: &S,
    options: &Options,
    reporter: &dyn Reporter,
) -> Result<Outcome, ScanError> {
    let reporter = Counting {
        inner: reporter,
        errors: AtomicU64::new(0),
    };
    let objects = source.list(&reporter);
    reporter.inner.listed(objects.len() as u64);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads.unwrap_or(0))
        .build()
        .map_err(ScanError::Threads)?;
    // The organization's accounts, for rules that ask whether an account is in it.
    let org_accounts = options.org.as_ref().map(OrgSnapshot::account_ids);
    let cx = Context::with_org(&options.policy, org_accounts.as_ref());
    let acc = pool.install(|| {
        objects
            .par_iter()
            .fold(Acc::default, |mut acc, object| {
                scan_object(source, object, options, &cx, &reporter, &mut acc);
                reporter.inner.object_done();
                acc
            })
            .reduce(Acc::default, Acc::merge)
    });
    let mut totals = acc.totals;
    totals.errors = reporter.errors.load(Ordering::Relaxed);
    Ok(Outcome {
        findings: acc.timeline.replay(),
        totals,
    })
}

fn scan_object<S: Source>(
    source: &S,
    object: &S::Object,
    options: &Options,
    cx: &Context,
    reporter: &dyn Reporter,
    acc: &mut Acc,
) {
    acc.totals.files += 1;
    let shown = object.name();
    let limits = &options.limits;
    let mut suppressed = 0;
    let mut on_item = |item: ItemResult| match item {
        Ok(record) => handle(
            &record,
            options,
            cx,
            reporter,
            &mut acc.timeline,
            &mut suppressed,
        ),
        Err(e) => reporter.error(&format!("{shown}: {e}")),
    };
    let mut read = read::ObjectRead::default();
    let result = match object.size() {
        // Measured before it is opened: no byte of it is read.
        Some(size) if size > limits.max_file_size => Err(limits::LimitError {
            limit: limits::Limit::File,
            bytes: limits.max_file_size,
        }
        .to_string()),
        size => source
            .open(object)
            .map_err(|e| e.to_string())
            .and_then(|mut reader| {
                if read::is_json_lines(shown) {
                    read::read_lines(&mut reader, limits, &mut on_item, &mut read)
                } else {
                    read::read_whole(&mut reader, size, limits, &mut on_item, &mut read)
                }
            }),
    };
    acc.totals.stats += read.stats;
    acc.totals.bytes += read.bytes;
    acc.totals.suppressed += suppressed;
    if let Err(e) = result {
        reporter.error(&format!("{shown}: {e}"));
    }
}

/// Evaluates one record: a finding (enriched from the org snapshot), a resolution, a
/// suppression, or nothing.
fn handle(
    record: &CloudTrailRecord,
    options: &Options,
    cx: &Context,
    reporter: &dyn Reporter,
    timeline: &mut Timeline,
    suppressed: &mut u64,
) {
    // A renamed user's findings follow it, whatever the verdict on the rename itself.
    if let Some(rename) = iamwatch_core::resolve::renaming(record) {
        timeline.add_rename(rename);
    }
    let verdict = engine::evaluate_in(record, cx);
    if let Some(note) = timeline.add_verdict(
        verdict,
        record,
        &options.policy,
        options.org.as_ref(),
        &options.context,
    ) {
        *suppressed += 1;
        reporter.note(&note);
    }
}
