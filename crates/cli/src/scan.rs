//! `iamwatch scan`: files in, findings out. Files are read in parallel (one task per file),
//! each parsed only as far as its IAM records; findings and resolutions are then replayed in
//! event-time order. Memory holds one file per worker plus the findings, however large the
//! corpus; JSON Lines files are read in chunks, so even one huge file stays flat.

use crate::output;
use crate::{Format, ScanArgs};
use anyhow::Context;
use iamwatch_core::build::FindingContext;
use iamwatch_core::engine::{self, Verdict};
use iamwatch_core::enrich::{Enrichment, OrgSnapshot};
use iamwatch_core::input::{self, DocStats, ItemError, ItemResult};
use iamwatch_core::timeline::Timeline;
use iamwatch_core::{Finding, Policy};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Extensions read inside directories.
const EXTENSIONS: [&str; 3] = [".json", ".jsonl", ".ndjson"];
/// Size of the chunks JSON Lines files are read in.
const CHUNK: usize = 8 << 20;

/// Totals of a scan.
#[derive(Default, Clone, Copy)]
pub struct Totals {
    pub files: u64,
    pub bytes: u64,
    pub stats: DocStats,
    pub suppressed: u64,
    pub errors: u64,
}

struct Shared<'a> {
    policy: Policy,
    org: Option<OrgSnapshot>,
    ctx: FindingContext,
    progress: Option<ProgressBar>,
    errors: &'a AtomicU64,
}

impl Shared<'_> {
    /// Reports a problem on stderr (above the progress bar) and counts it.
    fn report(&self, msg: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.note(msg);
    }

    fn note(&self, msg: String) {
        match &self.progress {
            Some(pb) => pb.suspend(|| eprintln!("{msg}")),
            None => eprintln!("{msg}"),
        }
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

/// Runs a scan; returns the exit status.
pub fn run(args: &ScanArgs) -> anyhow::Result<u8> {
    let policy = match &args.policy {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read policy file {}", p.display()))?;
            Policy::from_toml(&text, &p.display().to_string())?
        }
        None => Policy::default(),
    };
    let org = match &args.org {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read org snapshot {}", p.display()))?;
            Some(OrgSnapshot::from_json(&text, &p.display().to_string())?)
        }
        None => None,
    };
    let errors = AtomicU64::new(0);
    let mut files = Vec::new();
    for path in &args.paths {
        collect(path, true, &mut files, &mut |msg| {
            errors.fetch_add(1, Ordering::Relaxed);
            eprintln!("{msg}");
        });
    }
    let progress = (!args.no_progress && std::io::stderr().is_terminal()).then(|| {
        let pb = ProgressBar::new(files.len() as u64);
        pb.set_style(
            ProgressStyle::with_template(
                "{spinner} {pos}/{len} files {bar:30} {elapsed} eta {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb
    });
    let shared = Shared {
        policy,
        org,
        ctx: FindingContext {
            region: args.region.clone(),
            partition: "aws".to_string(),
            runbook_base_url: args.runbook_base_url.clone(),
        },
        progress,
        errors: &errors,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let acc = pool.install(|| {
        files
            .par_iter()
            .fold(Acc::default, |mut acc, path| {
                scan_file(path, &shared, &mut acc);
                if let Some(pb) = &shared.progress {
                    pb.inc(1);
                }
                acc
            })
            .reduce(Acc::default, Acc::merge)
    });
    if let Some(pb) = &shared.progress {
        pb.finish_and_clear();
    }
    let mut totals = acc.totals;
    totals.errors = errors.load(Ordering::Relaxed);
    let mut findings: Vec<Finding> = acc.timeline.replay();
    // --fail-on looks at every finding, printed or not, archived or not: it happened.
    let failed = args
        .fail_on
        .is_some_and(|level| findings.iter().any(|f| f.severity.label >= level));
    if let Some(min) = args.min_severity {
        findings.retain(|f| f.severity.label >= min);
    }
    output::findings(args.format, &mut findings)?;
    if args.format == Format::Table || std::io::stderr().is_terminal() {
        eprintln!("{}", output::summary(&findings, &totals));
    }
    Ok(if totals.errors > 0 {
        2
    } else if failed {
        1
    } else {
        0
    })
}

/// Adds `path` (a file, or a directory walked recursively) to `out`, sorted for a stable order.
fn collect(path: &Path, named: bool, out: &mut Vec<PathBuf>, report: &mut dyn FnMut(String)) {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return report(format!("{}: {e}", path.display())),
    };
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => return report(format!("{}: cannot read directory: {e}", path.display())),
        };
        entries.sort();
        for e in entries {
            collect(&e, false, out, report);
        }
    } else if named || wanted(path) {
        out.push(path.to_path_buf());
    }
}

fn wanted(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let name = name.strip_suffix(".gz").unwrap_or(name);
    EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}

fn is_json_lines(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let name = name.strip_suffix(".gz").unwrap_or(name);
    name.ends_with(".jsonl") || name.ends_with(".ndjson")
}

fn scan_file(path: &Path, shared: &Shared, acc: &mut Acc) {
    acc.totals.files += 1;
    let shown = path.display();
    let mut on_item = |item: ItemResult| match item {
        Ok(record) => handle(&record, shared, acc),
        Err(e) => shared.report(format!("{shown}: {e}")),
    };
    let result = if is_json_lines(path) {
        read_lines(path, &mut on_item)
    } else {
        std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|raw| {
                let bytes = raw.len() as u64;
                let data = input::decompress(raw).map_err(|e| format!("cannot decompress: {e}"))?;
                input::read_document(&data, 1, &mut on_item)
                    .map(|s| (s, bytes))
                    .map_err(|e| e.to_string())
            })
    };
    match result {
        Ok((stats, bytes)) => {
            acc.totals.stats += stats;
            acc.totals.bytes += bytes;
        }
        Err(e) => shared.report(format!("{shown}: {e}")),
    }
}

/// Reads a JSON Lines file (plain or gzip) in chunks that end at a line break.
fn read_lines(path: &Path, on_item: &mut dyn FnMut(ItemResult)) -> Result<(DocStats, u64), String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = BufReader::new(file);
    let gz = reader
        .fill_buf()
        .map_err(|e| e.to_string())?
        .starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn BufRead> = if gz {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(reader)))
    } else {
        Box::new(reader)
    };
    let mut stats = DocStats::default();
    let mut line = 1;
    let mut chunk = Vec::with_capacity(CHUNK + 4096);
    loop {
        chunk.clear();
        (&mut reader)
            .take(CHUNK as u64)
            .read_to_end(&mut chunk)
            .map_err(|e| format!("line {line}: {e}"))?;
        if chunk.is_empty() {
            break;
        }
        // Finish the last line of the chunk.
        reader
            .read_until(b'\n', &mut chunk)
            .map_err(|e| format!("line {line}: {e}"))?;
        // Line by line: a bad line is reported and the next one is read as usual.
        for text in chunk.split(|b| *b == b'\n') {
            if !text.trim_ascii().is_empty() {
                match input::read_document(text, line, on_item) {
                    Ok(s) => stats += s,
                    Err(e) => {
                        stats.items += 1;
                        on_item(Err(ItemError {
                            location: format!("line {line}"),
                            reason: e.reason,
                        }));
                    }
                }
            }
            line += 1;
        }
        // `split` yields one piece after the final line break: it is no line.
        line -= usize::from(chunk.ends_with(b"\n"));
    }
    Ok((stats, bytes))
}

fn handle(record: &iamwatch_core::CloudTrailRecord, shared: &Shared, acc: &mut Acc) {
    // A renamed user's findings follow it, whatever the verdict on the rename itself.
    if let Some(rn) = iamwatch_core::resolve::renaming(record) {
        acc.timeline.add_rename(rn);
    }
    match engine::evaluate(record, &shared.policy) {
        Verdict::OutOfScope | Verdict::NoFinding => {}
        Verdict::Suppressed { detection, reason } => {
            acc.totals.suppressed += 1;
            shared.note(format!(
                "suppressed: {} {} in {} by {} (event {}): {reason}",
                detection.rule.id,
                detection.subject,
                record.account_id(),
                record.actor(),
                record.event_id.as_deref().unwrap_or("-"),
            ));
        }
        Verdict::Resolution(r) => acc.timeline.add_resolution(r),
        Verdict::Finding(d) => {
            let enrichment = match &shared.org {
                None => Enrichment::default(),
                Some(org) => match org.account(record.account_id()) {
                    Some(a) => Enrichment {
                        account: Some(a.clone()),
                        ..Enrichment::default()
                    },
                    None => Enrichment {
                        gaps: vec![format!(
                            "account {} is not in the org snapshot",
                            record.account_id()
                        )],
                        ..Enrichment::default()
                    },
                },
            };
            let (finding, _) =
                engine::finding(&d, record, &shared.policy, &enrichment, &shared.ctx);
            acc.timeline.add_finding(finding);
        }
    }
}
