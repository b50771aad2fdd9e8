//! The floor of a scan: every `.json.gz` file under a folder read and inflated in one call
//! (the gzip trailer's size), on N threads, and its records counted with one SIMD substring
//! pass. No JSON is parsed: no scan that reads every byte can be faster than this.
//!
//! `cargo bench -p iamwatch-core --bench inflate_floor -- DIR [THREADS] [RUNS]` prints the
//! wall time of each run (and the median), the files, the bytes inflated and the records.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, out);
        } else if p.to_string_lossy().ends_with(".json.gz") {
            out.push(p);
        }
    }
}

/// (bytes inflated, records) of one pass over `files` on `threads` threads.
fn pass(files: &[PathBuf], threads: usize) -> (u64, u64) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let finder = memchr::memmem::Finder::new(b"{\"eventVersion\":");
                    let (mut raw, mut out) = (Vec::new(), Vec::new());
                    let (mut bytes, mut records) = (0u64, 0u64);
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = files.get(i) else { break };
                        raw.clear();
                        let mut f = std::fs::File::open(path).expect("open");
                        std::io::Read::read_to_end(&mut f, &mut raw).expect("read");
                        let problem =
                            iamwatch_core::input::gzip::inflate_into(&raw, u64::MAX, &mut out);
                        assert!(problem.is_none(), "{}: {problem:?}", path.display());
                        bytes += out.len() as u64;
                        records += finder.find_iter(&out).count() as u64;
                    }
                    (bytes, records)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("worker"))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    })
}

fn main() {
    // `cargo bench` passes `--bench`; the rest are ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: inflate_floor DIR [THREADS] [RUNS]");
        std::process::exit(2);
    };
    let threads: usize = args.get(1).map_or(2, |t| t.parse().expect("THREADS"));
    let runs: usize = args.get(2).map_or(5, |r| r.parse().expect("RUNS"));
    let mut files = Vec::new();
    walk(Path::new(dir), &mut files);
    let mut times = Vec::new();
    let mut totals = (0, 0);
    for _ in 0..runs {
        let t = Instant::now();
        totals = pass(&files, threads);
        times.push(t.elapsed().as_secs_f64());
    }
    let shown: Vec<String> = times.iter().map(|t| format!("{t:.3}")).collect();
    times.sort_by(f64::total_cmp);
    println!(
        "floor: {} files, {} bytes inflated, {} records, {threads} threads; wall (s) of {runs} runs: {}; median {:.3}",
        files.len(),
        totals.0,
        totals.1,
        shown.join(" "),
        times[times.len() / 2]
    );
}
