//! Per-record cost of the detection core: parse, evaluate, score and build the finding; and the
//! reader's throughput over a CloudTrail log file that is mostly non-IAM traffic.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use iamwatch_core::engine::{evaluate, finding, Verdict};
use iamwatch_core::input::read_document;
use iamwatch_core::record::Envelope;
use iamwatch_core::{CloudTrailRecord, Enrichment, FindingContext, Policy};

const SAMPLE: &str = include_str!("../../../events/access-key-created-for-other-user.json");
const NOISE: &str = include_str!("../../../events/negative/non-iam-run-instances.json");

fn policy() -> Policy {
    Policy::from_toml(
        include_str!("../../../examples/policy.toml"),
        "examples/policy.toml",
    )
    .unwrap()
}

fn per_record(c: &mut Criterion) {
    let policy = policy();
    let ctx = FindingContext::default();
    let enrichment = Enrichment::default();
    let detail = serde_json::from_str::<serde_json::Value>(SAMPLE).unwrap()["detail"].to_string();
    let mut g = c.benchmark_group("per_record");
    g.bench_function("parse_envelope_evaluate_score_build", |b| {
        b.iter(|| {
            let env: Envelope = serde_json::from_str(black_box(SAMPLE)).unwrap();
            let r = env.into_iam_record().unwrap();
            let Verdict::Finding(d) = evaluate(&r, &policy) else {
                panic!()
            };
            black_box(finding(&d, &r, &policy, &enrichment, &ctx));
        })
    });
    g.bench_function("parse_record_evaluate_score_build", |b| {
        b.iter(|| {
            let r: CloudTrailRecord = serde_json::from_str(black_box(&detail)).unwrap();
            let Verdict::Finding(d) = evaluate(&r, &policy) else {
                panic!()
            };
            black_box(finding(&d, &r, &policy, &enrichment, &ctx));
        })
    });
    let r: CloudTrailRecord = serde_json::from_str(&detail).unwrap();
    g.bench_function("evaluate_score_build", |b| {
        b.iter(|| {
            let Verdict::Finding(d) = evaluate(black_box(&r), &policy) else {
                panic!()
            };
            black_box(finding(&d, &r, &policy, &enrichment, &ctx));
        })
    });
    g.finish();
}

fn reader(c: &mut Criterion) {
    // 1000 records, 1% IAM in scope: the shape of an S3 log file.
    let iam = serde_json::from_str::<serde_json::Value>(SAMPLE).unwrap()["detail"].to_string();
    let noise = serde_json::from_str::<serde_json::Value>(NOISE).unwrap()["detail"].to_string();
    let records: Vec<&str> = (0..1000)
        .map(|i| {
            if i % 100 == 7 {
                iam.as_str()
            } else {
                noise.as_str()
            }
        })
        .collect();
    let doc = format!("{{\"Records\":[{}]}}", records.join(","));
    let policy = policy();
    let mut g = c.benchmark_group("reader");
    g.throughput(Throughput::Bytes(doc.len() as u64));
    g.bench_function("s3_log_file_1000_records_1pct_iam", |b| {
        b.iter(|| {
            let mut findings = 0;
            read_document(black_box(doc.as_bytes()), 1, &mut |item| {
                if let Ok(r) = item {
                    if matches!(evaluate(&r, &policy), Verdict::Finding(_)) {
                        findings += 1;
                    }
                }
            })
            .unwrap();
            assert_eq!(findings, 10);
        })
    });
    g.finish();
}

criterion_group!(benches, per_record, reader);
criterion_main!(benches);
