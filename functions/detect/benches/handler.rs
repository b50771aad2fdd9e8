//! Handler CPU per message, AWS calls excluded (the Memory doubles stand in for them):
//! `cargo bench -p iamwatch-detect --bench handler`.

use aws_lambda_events::event::sqs::SqsMessage;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iamwatch_aws::testing::{records, MemoryEnricher, MemoryFindingSink, MemoryPublisher};
use iamwatch_core::{FindingContext, Policy};
use iamwatch_detect::{process_batch, Detector};
use iamwatch_lambda::testing::message;
use serde_json::json;

fn batch(n: usize) -> Vec<SqsMessage> {
    const ACCOUNT: &str = "111122223333";
    (0..n)
        .map(|i| {
            let user = format!("svc-{i}");
            let detail = records::record(
                ACCOUNT,
                &format!("evt-{i}"),
                "CreateAccessKey",
                records::iam_user(ACCOUNT, "it-admin"),
                json!({"userName": user}),
                json!({"accessKey": {"userName": user,
                    "accessKeyId": format!("AKIAEXAMPLE{i:09}"), "status": "Active"}}),
            );
            message(&format!("m-{i}"), &records::envelope(detail).to_string())
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let d = Detector {
        enricher: MemoryEnricher::default().with_account(
            "111122223333",
            "payments-prod",
            &["Prod"],
        ),
        sink: MemoryFindingSink::default(),
        publisher: MemoryPublisher::default(),
        policy: Policy::from_toml("critical_ous = [\"Prod\"]\n", "bench.toml").expect("policy"),
        ctx: FindingContext::default(),
    };
    let messages = batch(10);
    let mut g = c.benchmark_group("detect");
    g.throughput(Throughput::Elements(messages.len() as u64));
    g.bench_function("batch_of_10_access_keys_for_other_users", |b| {
        b.iter(|| {
            d.publisher.events.lock().expect("lock").clear();
            rt.block_on(process_batch(&d, &messages))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
