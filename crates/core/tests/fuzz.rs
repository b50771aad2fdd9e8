//! Fuzzing the reader and the envelope parser, seeded with every sample in `events/`, as a
//! bounded property test that runs with the test suite (no nightly toolchain needed).
//! `PROPTEST_CASES=100000 cargo test -p iamwatch-core --test fuzz --release` runs it longer.
//!
//! What must hold for any input: no panic; a document reports at most as many IAM records as
//! items; every bad item names its place; an item over the record limit is reported, never
//! parsed; an envelope is accepted or rejected with a reason, and an accepted one has an
//! accepted source.

use iamwatch_core::engine::{evaluate, finding, Verdict};
use iamwatch_core::input::{inflate, read_document_with, Limits};
use iamwatch_core::record::Envelope;
use iamwatch_core::{Enrichment, FindingContext, Policy};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Every sample of `events/` (rule samples, negatives, sequences), read once.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
        let mut files: Vec<PathBuf> = Vec::new();
        for dir in [root.clone(), root.join("negative"), root.join("sequences")] {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_file() {
                    files.push(p);
                }
            }
        }
        files.sort();
        let seeds: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();
        assert!(seeds.len() >= 10, "the samples of events/ seed the fuzzer");
        seeds
    })
}

fn check(bytes: &[u8], limits: &Limits) {
    let policy = Policy::default();
    let mut records = 0u64;
    let result = read_document_with(bytes, 1, limits, &mut |item| match item {
        Ok(r) => {
            records += 1;
            if let Verdict::Finding(d) = evaluate(&r, &policy) {
                let (f, _) = finding(
                    &d,
                    &r,
                    &policy,
                    &Enrichment::default(),
                    &FindingContext::default(),
                );
                assert!(
                    f.id.starts_with("iamwatch/") && f.id.len() <= 512,
                    "{}",
                    f.id
                );
            }
        }
        Err(e) => {
            assert!(e.location.starts_with("record "), "{e}");
            assert!(!e.reason.is_empty());
        }
    });
    if let Ok(stats) = result {
        assert!(stats.iam_records <= stats.items.max(records), "{stats:?}");
    }
    if let Ok(envelope) = serde_json::from_slice::<Envelope>(bytes) {
        if let Ok(record) = envelope.into_iam_record() {
            assert!(iamwatch_core::sources::accepted(&record.event_source));
        }
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// A mutation of a seed.
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Replace(usize, u8),
    Insert(usize, Vec<u8>),
    Splice(usize, usize, usize),
    Repeat(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::Replace(a, b)),
        (
            any::<usize>(),
            prop_oneof![
                Just(b"{".to_vec()),
                Just(b"}".to_vec()),
                Just(b"\"".to_vec()),
                Just(b"\\".to_vec()),
                Just(b",null".to_vec()),
                Just(b"[]".to_vec()),
                Just("\u{feff}".as_bytes().to_vec()),
                Just(b"\"iam.amazonaws.com\"".to_vec()),
                Just(b"\x1f\x8b".to_vec()),
            ]
        )
            .prop_map(|(a, b)| Mutation::Insert(a, b)),
        (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(a, b, c)| Mutation::Splice(a, b, c)),
        (any::<usize>(), 1usize..4).prop_map(|(a, n)| Mutation::Repeat(a, n)),
    ]
}

fn apply(seed: &[u8], other: &[u8], m: &Mutation) -> Vec<u8> {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
    let mut b = seed.to_vec();
    match m {
        Mutation::Truncate(i) => b.truncate(at(*i, b.len())),
        Mutation::Replace(i, v) => {
            if !b.is_empty() {
                let i = i % b.len();
                b[i] = *v;
            }
        }
        Mutation::Insert(i, bytes) => {
            let i = at(*i, b.len());
            b.splice(i..i, bytes.iter().copied());
        }
        Mutation::Splice(i, j, k) => {
            let i = at(*i, b.len());
            let j = at(*j, other.len());
            let k = at(*k, other.len());
            let (lo, hi) = (j.min(k), j.max(k));
            b.splice(i..i, other[lo..hi].iter().copied());
        }
        Mutation::Repeat(i, n) => {
            let i = at(*i, b.len());
            let tail = b[i..].to_vec();
            for _ in 0..*n {
                b.extend_from_slice(&tail);
            }
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn mutated_samples(seed in any::<usize>(), other in any::<usize>(),
                       ms in proptest::collection::vec(mutation(), 1..4)) {
        let seeds = seeds();
        let mut b = seeds[seed % seeds.len()].clone();
        let other = &seeds[other % seeds.len()];
        for m in &ms {
            b = apply(&b, other, m);
        }
        check(&b, &Limits::default());
        // The same under a small record limit: big items are reported, never parsed.
        check(&b, &Limits { max_record: 700, ..Limits::default() });
    }

    #[test]
    fn mutated_gzip_samples(seed in any::<usize>(), m in mutation()) {
        let seeds = seeds();
        let gz = gzip(&seeds[seed % seeds.len()]);
        let b = apply(&gz, &gz, &m);
        let out = inflate(b, 1 << 20);
        assert!(out.data.len() <= 1 << 20);
        if out.problem.as_ref().is_none_or(|p| p.keeps_data()) {
            check(&out.data, &Limits::default());
        }
    }
}
