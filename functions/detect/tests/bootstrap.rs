//! The compiled `bootstrap` binary under a Lambda Runtime API served by this test, against
//! moto: the function as deployed.

use aws_credential_types::provider::ProvideCredentials;
use iamwatch_e2e::events;
use iamwatch_e2e::moto::MotoServer;
use iamwatch_e2e::org::TestOrg;
use iamwatch_e2e::runtime_api::{Answer, RuntimeApi};
use iamwatch_e2e::sqs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BOOTSTRAP: &str = env!("CARGO_BIN_EXE_bootstrap");

fn lambda_env(cmd: &mut Command, api: &str) {
    iamwatch_e2e::runtime_api::lambda_env(cmd, api, "iamwatch-detect", 256);
}

#[test]
fn bootstrap_answers_a_batch_with_its_failed_messages() {
    iamwatch_e2e::run(|| async move {
        let moto = MotoServer::start().unwrap_or_else(|e| panic!("{e}"));
        let org = TestOrg::create(&moto.endpoint())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let api = RuntimeApi::start().await.unwrap();
        // What SQS delivers: one good envelope and one malformed body.
        let env = events::build(
            "admin-access-granted-to-user",
            &org.prod.id,
            "boot-user",
            "AKIA0",
        )
        .unwrap();
        let iam = aws_sdk_iam_client(&org.prod.sdk);
        iam.create_user()
            .user_name("boot-user")
            .send()
            .await
            .unwrap();
        let sec = &org.security.sdk;
        sqs::send(sec, &org.events_queue_url, &env.to_string())
            .await
            .unwrap();
        let bad = sqs::send(sec, &org.events_queue_url, "not an envelope")
            .await
            .unwrap();
        let messages = sqs::receive(sec, &org.events_queue_url, 10).await.unwrap();
        assert_eq!(messages.len(), 2);
        let payload = serde_json::to_string(&sqs::sqs_event(
            &messages,
            "arn:aws:sqs:us-east-1:0:iamwatch-events",
        ))
        .unwrap();

        let creds = sec
            .credentials_provider()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap();
        let mut cmd = Command::new(BOOTSTRAP);
        lambda_env(&mut cmd, &api.address());
        cmd.env("AWS_ENDPOINT_URL", moto.endpoint())
            .env("AWS_ACCESS_KEY_ID", creds.access_key_id())
            .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key())
            .env(
                "AWS_SESSION_TOKEN",
                creds.session_token().unwrap_or_default(),
            )
            .env("IAMWATCH_EVENT_BUS", iamwatch_e2e::org::FINDINGS_BUS)
            .env("IAMWATCH_ORG_ROLE_ARN", org.org_role_arn())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let started = Instant::now();
        let mut child = cmd.spawn().unwrap();
        api.invoke(payload);
        let answer = api.answer(Duration::from_secs(60)).await;
        let cold_start = api.first_poll().map(|t| t.duration_since(started));
        let _ = child.kill();
        let output = child.wait_with_output().unwrap();
        let logs = String::from_utf8_lossy(&output.stdout);
        eprintln!("cold start to first poll: {cold_start:?}");
        let Some(Answer::Response { request_id, body }) = answer else {
            panic!("no response: {answer:?}\n{logs}");
        };
        assert_eq!(request_id, "req-0");
        let resp: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            resp["batchItemFailures"],
            serde_json::json!([{"itemIdentifier": bad}])
        );
        // The finding landed in the member account; logs are JSON, with EMF metrics among them.
        let findings = sh_ids(&org.prod.sdk).await;
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(findings[0].starts_with(&format!(
            "iamwatch/{}/admin-access-granted-to-user/boot-user",
            org.prod.id
        )));
        let lines: Vec<serde_json::Value> = logs
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        assert!(
            lines.iter().any(
                |l| l["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "iamwatch"
                    && l["Events"] == 2
            ),
            "{logs}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l["fields"]["message"] == "rejected envelope"),
            "{logs}"
        );
    });
}

/// Measurement for `docs/benchmarks-pipeline.md`: the binary named by `IAMWATCH_BOOTSTRAP`
/// (default: this build's), cold start to its first poll of the Runtime API, and its peak RSS
/// (`VmHWM`) after a batch of 10 messages against moto. Run with
/// `IAMWATCH_BOOTSTRAP=target/release/bootstrap cargo test -p iamwatch-detect --test bootstrap
/// -- --ignored --nocapture`.
#[test]
#[ignore = "measurement of a release build (IAMWATCH_BOOTSTRAP); scripts/test-all.sh runs it on the debug build with --ignored for its assertions"]
fn measure_cold_start_and_peak_rss() {
    iamwatch_e2e::run(|| async {
        let binary = std::env::var("IAMWATCH_BOOTSTRAP").unwrap_or_else(|_| BOOTSTRAP.to_string());
        let moto = MotoServer::start().unwrap_or_else(|e| panic!("{e}"));
        let org = TestOrg::create(&moto.endpoint())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let sec = &org.security.sdk;
        let rules = [
            "iam-user-created",
            "access-key-created-for-other-user",
            "admin-access-granted-to-user",
            "console-password-created",
            "user-permissions-changed",
        ];
        for i in 0..10 {
            let user = format!("bench-{i}");
            org.create_user(&org.prod, &user).await.unwrap();
            let env = events::build(
                rules[i % rules.len()],
                &org.prod.id,
                &user,
                &format!("AKIABENCH{i:011}"),
            )
            .unwrap();
            sqs::send(sec, &org.events_queue_url, &env.to_string())
                .await
                .unwrap();
        }
        let messages = sqs::receive(sec, &org.events_queue_url, 10).await.unwrap();
        assert_eq!(messages.len(), 10);
        let payload =
            serde_json::to_string(&sqs::sqs_event(&messages, "arn:aws:sqs:us-east-1:0:q")).unwrap();
        let creds = sec
            .credentials_provider()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap();
        let mut cold = Vec::new();
        let mut rss = Vec::new();
        for _ in 0..5 {
            let api = RuntimeApi::start().await.unwrap();
            let mut cmd = Command::new(&binary);
            lambda_env(&mut cmd, &api.address());
            cmd.env("AWS_ENDPOINT_URL", moto.endpoint())
                .env("AWS_ACCESS_KEY_ID", creds.access_key_id())
                .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key())
                .env(
                    "AWS_SESSION_TOKEN",
                    creds.session_token().unwrap_or_default(),
                )
                .env("IAMWATCH_EVENT_BUS", iamwatch_e2e::org::FINDINGS_BUS)
                .env("IAMWATCH_ORG_ROLE_ARN", org.org_role_arn())
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let started = Instant::now();
            let mut child = cmd.spawn().unwrap();
            while api.first_poll().is_none() && started.elapsed() < Duration::from_secs(10) {
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            cold.push(api.first_poll().unwrap().duration_since(started));
            api.invoke(payload.clone());
            let answer = api.answer(Duration::from_secs(60)).await;
            let status =
                std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
            let _ = child.kill();
            let _ = child.wait();
            let Some(Answer::Response { body, .. }) = answer else {
                panic!("no response: {answer:?}")
            };
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&body).unwrap()["batchItemFailures"],
                serde_json::json!([])
            );
            let hwm_kb: u64 = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0);
            rss.push(hwm_kb);
        }
        cold.sort();
        rss.sort();
        let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
        println!("binary {binary}: {:.1} MiB", size as f64 / 1048576.0);
        println!("cold start to first poll (5 runs, sorted): {cold:?}");
        println!("peak RSS after a batch of 10 (kB, sorted): {rss:?}");
    });
}

#[test]
fn bootstrap_without_its_bus_exits_naming_the_variable() {
    let mut cmd = Command::new(BOOTSTRAP);
    lambda_env(&mut cmd, "127.0.0.1:9");
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("IAMWATCH_EVENT_BUS"), "{all}");
}

fn aws_sdk_iam_client(sdk: &aws_config::SdkConfig) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(sdk)
}

async fn sh_ids(sdk: &aws_config::SdkConfig) -> Vec<String> {
    let out = aws_sdk_securityhub::Client::new(sdk)
        .get_findings()
        .send()
        .await
        .unwrap();
    out.findings()
        .iter()
        .filter_map(|f| f.id().map(str::to_string))
        .collect()
}
