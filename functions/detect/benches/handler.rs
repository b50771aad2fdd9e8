//! Handler CPU per message, AWS calls excluded (the Memory doubles stand in for them):
//! `cargo bench -p iamwatch-detect --bench handler`.

use aws_lambda_events::event::sqs::SqsMessage;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iamwatch_aws::testing::{MemoryEnricher, MemoryFindingSink, MemoryPublisher};
use iamwatch_core::{FindingContext, Policy};
use iamwatch_detect::{process_batch, Detector};
use serde_json::json;

fn batch(n: usize) -> Vec<SqsMessage> {
    (0..n)
        .map(|i| {
            let body = json!({
                "version": "0", "id": format!("env-{i}"),
                "detail-type": "AWS API Call via CloudTrail", "source": "aws.iam",
                "account": "111122223333", "time": "2026-11-02T12:00:00Z", "region": "us-east-1",
                "resources": [],
                "detail": {
                    "eventVersion": "1.09", "eventTime": "2026-11-02T12:00:00Z",
                    "eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey",
                    "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.23",
                    "userAgent": "aws-cli/2.22.0",
                    "userIdentity": {"type": "IAMUser", "userName": "it-admin", "accountId": "111122223333",
                        "arn": "arn:aws:iam::111122223333:user/it-admin", "principalId": "AIDAX",
                        "sessionContext": {"attributes": {"mfaAuthenticated": "false"}}},
                    "requestParameters": {"userName": format!("svc-{i}")},
                    "responseElements": {"accessKey": {"userName": format!("svc-{i}"),
                        "accessKeyId": format!("AKIAEXAMPLE{i:09}"), "status": "Active"}},
                    "eventID": format!("evt-{i}"), "eventType": "AwsApiCall",
                    "recipientAccountId": "111122223333"
                }
            });
            let mut m = SqsMessage::default();
            m.message_id = Some(format!("m-{i}"));
            m.body = Some(body.to_string());
            m
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
