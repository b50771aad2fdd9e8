//! The burst benchmark of the detect and ticket functions: the release `bootstrap` of
//! `functions/detect`, then the release binary of `functions/ticket`, each run as Lambda runs it
//! (the Runtime API of [`iamwatch_e2e::runtime_api`]) against moto, with a counting proxy
//! ([`iamwatch_e2e::proxy::FaultProxy`]) between it and moto, on a burst of CreateUser +
//! CreateAccessKey events in one account and one spread over 20 accounts.
//!
//! The driver plays the Lambda service: it receives up to `--batch` messages from the events
//! queue (straight from moto, so its own calls are not counted), invokes the function, deletes
//! what succeeded, makes the failed messages visible again, and moves a message that failed
//! 5 times to the dead letters. It reports, per run: findings filed vs expected, finding
//! events and urgent (ticketed) finding events vs expected, duplicates, dead letters, AWS
//! calls per finding for each operation, the function's CPU per event and peak RSS (from
//! `/proc`), the share of wall time some request was waiting on moto, and the drain time of
//! a 10,000-event burst under AWS's published quotas computed from the measured calls.
//!
//! Once detect has drained the events queue, the ticket phase: the driver feeds what reached
//! the tickets queue (the finding events scoring at least the ticket threshold) to the ticket
//! function the same way, in batches of [`TICKET_BATCH_SIZE`] as the CDK app's event source
//! mapping delivers them, with `account` set on each envelope as EventBridge sets it (moto's
//! envelopes lack it, and the function refuses an envelope without it). The ticket function
//! runs in the security account against Jira and Slack test servers
//! ([`iamwatch_notify::testing`]), its Jira and Slack secrets in moto's Secrets Manager, its
//! ledger table and DLQ as [`TestOrg`] makes them, and the write-back role in each account. The
//! proxy's counts are reset between the phases, so the detect figures are detect's alone. The
//! ticket figures: Jira issues vs the distinct urgent findings, duplicate issues (one finding's
//! label, or one summary, twice), Slack messages vs expected, ticket dead letters (sent to the
//! tickets DLQ by the function, or failed 5 times), invocations, write-backs attempted and
//! failed, CPU per ticket event, peak RSS, AWS calls per ticket for each operation and wall
//! time. moto has no `BatchUpdateFindings` (HTTP 404): the function logs the write-back as
//! failed and keeps the ticket, and the table shows those attempts and failures as they are.
//!
//! `scripts/bench-burst.sh` builds both release binaries and runs this.

use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use iamwatch_e2e::events;
use iamwatch_e2e::moto::{assume, MotoServer};
use iamwatch_e2e::org::{Account, TestOrg, LEDGER_TABLE, MEMBER_ROLE, TICKET_MIN_SCORE};
use iamwatch_e2e::proxy::FaultProxy;
use iamwatch_e2e::runtime_api::{Answer, RuntimeApi};
use iamwatch_e2e::sqs;
use iamwatch_notify::testing::{FakeJira, FakeSlack};
use iamwatch_ticket::config::DEFAULT_WRITEBACK_ROLE;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Receives before a message is a dead letter (the queue's maxReceiveCount).
const MAX_RECEIVES: u32 = 5;

/// The ticket event source mapping's BatchSize (cdk/lib/constructs/ticketing.ts).
const TICKET_BATCH_SIZE: usize = 5;

/// What the ticket function logs when a write-back succeeded, and when it failed for good and
/// the ticket stands (functions/ticket/src/lib.rs).
const LOG_WRITTEN_BACK: &str = "ticket written back on the finding";
const LOG_NOT_WRITTEN_BACK: &str =
    "could not write the ticket back on the finding; the ticket stands";

struct Args {
    detect: String,
    ticket: String,
    events: usize,
    batch: usize,
    runs: Vec<usize>,
}

fn args() -> Args {
    let mut a = Args {
        detect: "target/release/bootstrap".to_string(),
        ticket: "target/release/iamwatch-ticket".to_string(),
        events: 1000,
        batch: 100,
        runs: vec![1, 20],
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--detect" => a.detect = v,
            "--ticket" => a.ticket = v,
            "--events" => a.events = v.parse().expect("--events N"),
            "--batch" => a.batch = v.parse().expect("--batch N"),
            "--accounts" => {
                a.runs = v
                    .split(',')
                    .map(|n| n.parse().expect("--accounts N[,N]"))
                    .collect()
            }
            other => panic!(
                "unknown argument {other}: --detect PATH --ticket PATH --events N --batch N --accounts N[,N]"
            ),
        }
    }
    a
}

/// What one run measured.
struct Run {
    accounts: usize,
    events: usize,
    findings_expected: usize,
    findings_filed: usize,
    events_published: usize,
    events_distinct: usize,
    urgent_expected: usize,
    urgent_events: usize,
    dead_letters: usize,
    invocations: usize,
    failed_reports: usize,
    calls: BTreeMap<String, usize>,
    cpu: Duration,
    cpu_init: Duration,
    peak_rss_kb: u64,
    wall: Duration,
    moto_busy: Duration,
    busy_periods: usize,
    ticket: TicketRun,
}

/// What the ticket phase of a run measured.
struct TicketRun {
    /// Finding events received from the tickets queue (distinct messages).
    events: usize,
    /// Jira issues created.
    issues: usize,
    /// Issues beyond the first with one finding's label, and with one summary.
    duplicate_labels: usize,
    duplicate_summaries: usize,
    /// Urgent findings without an issue.
    missing: usize,
    slack_messages: usize,
    /// Messages the function sent to the tickets DLQ.
    dlq_sent: usize,
    /// Messages that failed [`MAX_RECEIVES`] times.
    dead_letters: usize,
    invocations: usize,
    failed_reports: usize,
    calls: BTreeMap<String, usize>,
    /// moto's error answers in the phase, per operation and HTTP status.
    errors: BTreeMap<(String, u16), usize>,
    /// Write-backs the function logged as done, and as failed with the ticket kept.
    written_back: usize,
    not_written_back: usize,
    /// The first write-back failure the function logged.
    write_back_error: Option<String>,
    cpu: Duration,
    cpu_init: Duration,
    peak_rss_kb: u64,
    wall: Duration,
}

fn main() {
    let a = args();
    let binary = |path: &str, package: &str| {
        let p = std::fs::canonicalize(path).unwrap_or_else(|e| {
            panic!("{path}: {e} (build it: cargo build --release -p {package})")
        });
        p.to_string_lossy().to_string()
    };
    let detect = binary(&a.detect, "iamwatch-detect");
    let ticket = binary(&a.ticket, "iamwatch-ticket");
    let (events, batch, runs_wanted) = (a.events, a.batch, a.runs.clone());
    let results = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let out = results.clone();
    iamwatch_e2e::run(move || async move {
        for accounts in runs_wanted {
            let r = run(&detect, &ticket, accounts, events, batch).await;
            print_run(&r);
            out.lock().unwrap_or_else(|p| p.into_inner()).push(r);
        }
    });
    let runs = results.lock().unwrap_or_else(|p| p.into_inner());
    print_quota_table(&runs);
}

/// The accounts of the run: prod, sandbox, then new accounts with the member role.
async fn accounts(org: &TestOrg, n: usize) -> Vec<Account> {
    let mut out = vec![org.prod.clone(), org.sandbox.clone()];
    out.truncate(n);
    let client = aws_sdk_organizations::Client::new(&org.management);
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]
    })
    .to_string();
    while out.len() < n {
        let name = format!("burst-{}", out.len());
        let created = client
            .create_account()
            .email(format!("{name}@example.com"))
            .account_name(&name)
            .send()
            .await
            .expect("CreateAccount");
        let id = created
            .create_account_status()
            .and_then(|s| s.account_id())
            .expect("account id")
            .to_string();
        let sdk = assume(
            &org.management,
            &format!("arn:aws:iam::{id}:role/OrganizationAccountAccessRole"),
        )
        .await
        .expect("assume");
        aws_sdk_iam::Client::new(&sdk)
            .create_role()
            .role_name(MEMBER_ROLE)
            .assume_role_policy_document(&trust)
            .send()
            .await
            .expect("CreateRole");
        out.push(Account {
            id,
            name,
            ou: String::new(),
            sdk,
        });
    }
    out
}

/// The burst: per user, CreateUser and CreateAccessKey (for another user: the caller is an
/// admin) events, users spread round-robin over the accounts. Returns the envelopes.
async fn burst(accounts: &[Account], events_wanted: usize) -> Vec<Value> {
    let users = events_wanted / 2;
    let mut out = Vec::with_capacity(users * 2);
    for i in 0..users {
        let account = &accounts[i % accounts.len()];
        let user = format!("burst-user-{i}");
        aws_sdk_iam::Client::new(&account.sdk)
            .create_user()
            .user_name(&user)
            .send()
            .await
            .expect("CreateUser");
        for rule in ["iam-user-created", "access-key-created-for-other-user"] {
            let key = format!("AKIABURST{i:011}");
            let mut env = events::build(rule, &account.id, &user, &key).expect("sample");
            env["detail"]["eventID"] = Value::from(format!("burst-{rule}-{i}"));
            out.push(env);
        }
    }
    out
}

async fn send_all(sdk: &aws_config::SdkConfig, url: &str, envelopes: &[Value]) {
    let client = aws_sdk_sqs::Client::new(sdk);
    for (n, chunk) in envelopes.chunks(10).enumerate() {
        let entries: Vec<SendMessageBatchRequestEntry> = chunk
            .iter()
            .enumerate()
            .map(|(i, e)| {
                SendMessageBatchRequestEntry::builder()
                    .id(format!("m{n}-{i}"))
                    .message_body(e.to_string())
                    .build()
                    .expect("entry")
            })
            .collect();
        let out = client
            .send_message_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await
            .expect("SendMessageBatch");
        assert!(out.failed().is_empty(), "{:?}", out.failed());
    }
}

/// utime + stime of a process, and its peak RSS in kB.
fn proc_usage(pid: u32) -> (Duration, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of stat: 12 and 13 after the state field.
    let hz = clock_ticks();
    let cpu = Duration::from_secs_f64((ticks(11) + ticks(12)) as f64 / hz as f64);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (cpu, hwm)
}

fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// A release binary of a function, with the name and memory size Lambda would give it.
struct Function<'a> {
    binary: &'a str,
    name: &'a str,
    memory_mb: u32,
}

/// A function started as Lambda starts it, with the security account's credentials, AWS calls
/// through the proxy, and `extra` environment; its stdout (the JSON logs) in `log`.
fn spawn_function(
    f: &Function,
    api: &RuntimeApi,
    proxy: &FaultProxy,
    creds: &aws_credential_types::Credentials,
    extra: &[(&str, String)],
    log: &Path,
) -> Child {
    let Function {
        binary,
        name,
        memory_mb,
    } = *f;
    let mut cmd = Command::new(binary);
    iamwatch_e2e::runtime_api::lambda_env(&mut cmd, &api.address(), name, memory_mb)
        .env("AWS_ENDPOINT_URL", proxy.endpoint())
        .env("AWS_ACCESS_KEY_ID", creds.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key())
        .env(
            "AWS_SESSION_TOKEN",
            creds.session_token().unwrap_or_default(),
        );
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(log).expect("log file"))
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {binary}: {e}"))
}

/// Waits until the function polls for its first invocation (its init is over); returns the CPU
/// its init took.
async fn await_init(api: &RuntimeApi, pid: u32) -> Duration {
    let init_started = Instant::now();
    while api.first_poll().is_none() && init_started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    proc_usage(pid).0
}

/// What the driver saw while draining a queue into a function.
struct Driven {
    invocations: usize,
    failed_reports: usize,
    dead_letters: usize,
    /// The body of each distinct message, as received the first time (before `prepare`).
    bodies: Vec<String>,
}

/// Plays Lambda's SQS event source: receives up to `batch` messages from `queue`, rewritten by
/// `prepare`, invokes the function with them, deletes what succeeded, makes the failed
/// messages visible again and counts a message that failed [`MAX_RECEIVES`] times as a dead
/// letter (and deletes it), until the queue is empty.
async fn drive(
    api: &RuntimeApi,
    sdk: &aws_config::SdkConfig,
    queue: &str,
    queue_arn: &str,
    batch: usize,
    log: &Path,
    prepare: impl Fn(aws_sdk_sqs::types::Message) -> aws_sdk_sqs::types::Message,
) -> Driven {
    let sqs_client = aws_sdk_sqs::Client::new(sdk);
    let mut receives: HashMap<String, u32> = HashMap::new();
    let mut seen = HashSet::new();
    let mut out = Driven {
        invocations: 0,
        failed_reports: 0,
        dead_letters: 0,
        bodies: Vec::new(),
    };
    loop {
        let messages = sqs::receive(sdk, queue, batch).await.expect("receive");
        if messages.is_empty() {
            return out;
        }
        for m in &messages {
            if seen.insert(m.message_id().unwrap_or_default().to_string()) {
                out.bodies.push(m.body().unwrap_or_default().to_string());
            }
        }
        let messages: Vec<_> = messages.into_iter().map(&prepare).collect();
        let payload =
            serde_json::to_string(&sqs::sqs_event(&messages, queue_arn)).expect("payload");
        api.invoke(payload);
        out.invocations += 1;
        let failed: HashSet<String> = match api.answer(Duration::from_secs(120)).await {
            Some(Answer::Response { body, .. }) => {
                let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                v["batchItemFailures"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default()
            }
            other => panic!(
                "invocation {}: {other:?} (logs: {})",
                out.invocations,
                log.display()
            ),
        };
        out.failed_reports += failed.len();
        for m in &messages {
            let id = m.message_id().unwrap_or_default().to_string();
            let handle = m.receipt_handle().unwrap_or_default();
            if failed.contains(&id) {
                let n = receives.entry(id).or_default();
                *n += 1;
                if *n >= MAX_RECEIVES {
                    out.dead_letters += 1;
                } else {
                    let _ = sqs_client
                        .change_message_visibility()
                        .queue_url(queue)
                        .receipt_handle(handle)
                        .visibility_timeout(0)
                        .send()
                        .await;
                    continue;
                }
            }
            let _ = sqs_client
                .delete_message()
                .queue_url(queue)
                .receipt_handle(handle)
                .send()
                .await;
        }
    }
}

async fn run(detect: &str, ticket: &str, n_accounts: usize, n_events: usize, batch: usize) -> Run {
    let moto = MotoServer::start().expect("moto_server");
    let org = TestOrg::create(&moto.endpoint()).await.expect("org");
    let accounts = accounts(&org, n_accounts).await;
    let envelopes = burst(&accounts, n_events).await;
    let sec = &org.security;
    send_all(&sec.sdk, &org.events_queue_url, &envelopes).await;
    let proxy = FaultProxy::start(&moto.endpoint()).await.expect("proxy");
    let api = RuntimeApi::start().await.expect("runtime api");
    let creds = sec
        .sdk
        .credentials_provider()
        .expect("credentials")
        .provide_credentials()
        .await
        .expect("credentials");
    let log = std::env::temp_dir().join(format!("iamwatch-bench-burst-{n_accounts}.log"));
    let mut child = spawn_function(
        &Function {
            binary: detect,
            name: "iamwatch-detect",
            memory_mb: 512,
        },
        &api,
        &proxy,
        &creds,
        &[
            // The findings bus, as the CDK app sets it (cdk/lib/constructs/detect.ts): its
            // rules route finding events to the findings and tickets queues.
            (
                "IAMWATCH_EVENT_BUS",
                iamwatch_e2e::org::FINDINGS_BUS.to_string(),
            ),
            ("IAMWATCH_ORG_ROLE_ARN", org.org_role_arn()),
        ],
        &log,
    );
    let pid = child.id();
    // Init: until the function polls for its first invocation.
    let cpu_init = await_init(&api, pid).await;
    proxy.reset_counts();

    let started = Instant::now();
    let driven = drive(
        &api,
        &sec.sdk,
        &org.events_queue_url,
        "arn:aws:sqs:us-east-1:000000000000:iamwatch-events",
        batch,
        &log,
        |m| m,
    )
    .await;
    let wall = started.elapsed();
    let moto_busy = proxy.upstream_busy();
    let busy_periods = proxy.busy_periods();
    let (cpu_total, peak_rss_kb) = proc_usage(pid);
    let _ = child.kill();
    let _ = child.wait();
    let calls: BTreeMap<String, usize> = proxy.all_requests().into_iter().collect();

    // What reached Security Hub (every account, the security account's fallback included).
    let mut filed = HashSet::new();
    for account in accounts.iter().chain([sec]) {
        for id in finding_ids(&account.sdk).await {
            filed.insert(id);
        }
    }
    let published = drain_events(&sec.sdk, &org.findings_queue_url).await;
    let distinct: HashSet<&String> = published.iter().map(|(id, _)| id).collect();
    let urgent_ids: HashSet<&String> = published
        .iter()
        .filter(|(_, score)| *score >= u64::from(TICKET_MIN_SCORE))
        .map(|(id, _)| id)
        .collect();
    let ticket = ticket_phase(ticket, &org, &accounts, &proxy, &creds, &urgent_ids).await;
    Run {
        accounts: n_accounts,
        events: envelopes.len(),
        findings_expected: envelopes.len(),
        findings_filed: filed.len(),
        events_published: published.len(),
        events_distinct: distinct.len(),
        urgent_expected: urgent_ids.len(),
        urgent_events: ticket.events,
        dead_letters: driven.dead_letters,
        invocations: driven.invocations,
        failed_reports: driven.failed_reports,
        calls,
        cpu: cpu_total.saturating_sub(cpu_init),
        cpu_init,
        peak_rss_kb,
        wall,
        moto_busy,
        busy_periods,
        ticket,
    }
}

/// The ticket phase: the tickets queue drained into the release ticket function (see the
/// head comment). `urgent` are the distinct findings expected to get a ticket.
async fn ticket_phase(
    binary: &str,
    org: &TestOrg,
    accounts: &[Account],
    proxy: &FaultProxy,
    creds: &aws_credential_types::Credentials,
    urgent: &HashSet<&String>,
) -> TicketRun {
    let sec = &org.security;
    let jira = FakeJira::start().await.expect("fake Jira");
    let slack = FakeSlack::start().await.expect("fake Slack");
    // The secrets the function reads, in the security account (TestOrg makes the ledger table
    // and the DLQ, not these).
    let (jira_secret, slack_secret) =
        iamwatch_e2e::org::ticket_secrets(&sec.sdk, &slack.webhook_url())
            .await
            .expect("secrets");
    // The write-back role of the member stack set, in each account findings are filed in (moto
    // would let the function assume it anyway).
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]
    })
    .to_string();
    for account in accounts.iter().filter(|a| a.id != sec.id) {
        aws_sdk_iam::Client::new(&account.sdk)
            .create_role()
            .role_name(DEFAULT_WRITEBACK_ROLE)
            .assume_role_policy_document(&trust)
            .send()
            .await
            .expect("CreateRole iamwatch-writeback");
    }

    let api = RuntimeApi::start().await.expect("runtime api");
    let log = std::env::temp_dir().join(format!(
        "iamwatch-bench-burst-ticket-{}.log",
        accounts.len()
    ));
    let mut child = spawn_function(
        &Function {
            binary,
            name: "iamwatch-ticket",
            memory_mb: 256,
        },
        &api,
        proxy,
        creds,
        &[
            ("IAMWATCH_JIRA_BASE_URL", jira.url()),
            ("IAMWATCH_JIRA_PROJECT", "SEC".to_string()),
            ("IAMWATCH_JIRA_SECRET_ARN", jira_secret.clone()),
            ("IAMWATCH_SLACK_SECRET_ARN", slack_secret.clone()),
            ("IAMWATCH_LEDGER_TABLE", LEDGER_TABLE.to_string()),
            ("IAMWATCH_TICKETS_DLQ_URL", org.tickets_dlq_url.clone()),
            ("IAMWATCH_SECURITY_ACCOUNT", sec.id.clone()),
            (
                "IAMWATCH_WRITEBACK_ROLE",
                DEFAULT_WRITEBACK_ROLE.to_string(),
            ),
        ],
        &log,
    );
    let pid = child.id();
    let cpu_init = await_init(&api, pid).await;
    // The ticket phase's calls only.
    proxy.reset_counts();

    let started = Instant::now();
    let queue_arn = format!("arn:aws:sqs:us-east-1:{}:iamwatch-tickets", sec.id);
    let driven = drive(
        &api,
        &sec.sdk,
        &org.tickets_queue_url,
        &queue_arn,
        TICKET_BATCH_SIZE,
        &log,
        |m| with_account(m, &sec.id),
    )
    .await;
    let wall = started.elapsed();
    let (cpu_total, peak_rss_kb) = proc_usage(pid);
    let _ = child.kill();
    let _ = child.wait();
    let calls: BTreeMap<String, usize> = proxy.all_requests().into_iter().collect();
    let errors = proxy.upstream_errors();

    let issues = jira.issues();
    let label_of = |i: &iamwatch_notify::testing::FakeIssue| {
        i.labels()
            .into_iter()
            .find(|l| l.starts_with("iamwatch-"))
            .unwrap_or_default()
    };
    let labels: HashSet<String> = issues.iter().map(label_of).collect();
    let summaries: HashSet<String> = issues
        .iter()
        .map(|i| i.fields["summary"].as_str().unwrap_or_default().to_string())
        .collect();
    let missing = urgent
        .iter()
        .filter(|id| !labels.contains(&iamwatch_notify::finding_label(id.as_str())))
        .count();
    let (written_back, not_written_back, write_back_error) = write_backs_logged(&log);
    TicketRun {
        events: driven.bodies.len(),
        issues: issues.len(),
        duplicate_labels: issues.len() - labels.len(),
        duplicate_summaries: issues.len() - summaries.len(),
        missing,
        slack_messages: slack.messages().len(),
        dlq_sent: drain_events(&sec.sdk, &org.tickets_dlq_url).await.len(),
        dead_letters: driven.dead_letters,
        invocations: driven.invocations,
        failed_reports: driven.failed_reports,
        calls,
        errors,
        written_back,
        not_written_back,
        write_back_error,
        cpu: cpu_total.saturating_sub(cpu_init),
        cpu_init,
        peak_rss_kb,
        wall,
    }
}

/// The message with `account` set on its envelope when it has none, as EventBridge sets it
/// (the account of the bus the event was put on: the security account's findings bus); moto's
/// EventBridge leaves it out.
fn with_account(m: aws_sdk_sqs::types::Message, account: &str) -> aws_sdk_sqs::types::Message {
    let Some(mut v) = m.body().and_then(|b| serde_json::from_str::<Value>(b).ok()) else {
        return m;
    };
    if v.get("account").is_some() {
        return m;
    }
    v["account"] = Value::from(account);
    aws_sdk_sqs::types::Message::builder()
        .set_message_id(m.message_id().map(str::to_string))
        .set_receipt_handle(m.receipt_handle().map(str::to_string))
        .body(v.to_string())
        .build()
}

/// From the ticket function's JSON logs: write-backs done, write-backs failed with the ticket
/// kept, and the first such failure's error.
fn write_backs_logged(log: &Path) -> (usize, usize, Option<String>) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let (mut done, mut failed, mut first) = (0, 0, None);
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        match v["fields"]["message"].as_str() {
            Some(LOG_WRITTEN_BACK) => done += 1,
            Some(LOG_NOT_WRITTEN_BACK) => {
                failed += 1;
                if first.is_none() {
                    first = v["fields"]["error"].as_str().map(str::to_string);
                }
            }
            _ => {}
        }
    }
    (done, failed, first)
}

/// Ids of the iamwatch findings of an account (GetFindings, every page).
async fn finding_ids(sdk: &aws_config::SdkConfig) -> Vec<String> {
    let client = aws_sdk_securityhub::Client::new(sdk);
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_findings()
            .max_results(100)
            .set_next_token(token.take())
            .send()
            .await
            .expect("GetFindings");
        out.extend(
            page.findings()
                .iter()
                .filter_map(|f| f.id())
                .filter(|id| id.starts_with("iamwatch/"))
                .map(str::to_string),
        );
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return out,
        }
    }
}

/// The finding events on a queue: (finding id, score) each, received and deleted.
async fn drain_events(sdk: &aws_config::SdkConfig, url: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    loop {
        let messages = sqs::receive(sdk, url, 10).await.expect("receive");
        if messages.is_empty() {
            return out;
        }
        for m in &messages {
            let v: Value = serde_json::from_str(m.body().unwrap_or("{}")).unwrap_or(Value::Null);
            let d = &v["detail"];
            out.push((
                d["findingId"].as_str().unwrap_or_default().to_string(),
                d["score"].as_u64().unwrap_or(0),
            ));
        }
        sqs::delete(sdk, url, &messages.iter().collect::<Vec<_>>())
            .await
            .expect("delete");
    }
}

const IAM_READS: [&str; 8] = [
    "GetUser",
    "ListGroupsForUser",
    "ListAttachedUserPolicies",
    "ListUserPolicies",
    "ListMFADevices",
    "ListAccessKeys",
    "GetLoginProfile",
    "ListAttachedGroupPolicies",
];

impl Run {
    fn per_finding(&self, op: &str) -> f64 {
        *self.calls.get(op).unwrap_or(&0) as f64 / self.findings_filed.max(1) as f64
    }

    fn iam_reads_per_event(&self) -> f64 {
        IAM_READS
            .iter()
            .map(|op| *self.calls.get(*op).unwrap_or(&0))
            .sum::<usize>() as f64
            / self.events as f64
    }

    fn cpu_ms_per_event(&self) -> f64 {
        self.cpu.as_secs_f64() * 1000.0 / self.events as f64
    }
}

fn print_run(r: &Run) {
    println!(
        "\n### {} event(s) in {} account(s), batches of up to {}",
        r.events,
        r.accounts,
        r.events.div_ceil(r.invocations.max(1))
    );
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| findings filed / expected | {} / {} |",
        r.findings_filed, r.findings_expected
    );
    println!(
        "| finding events published (distinct findings) / expected | {} ({}) / {} |",
        r.events_published, r.events_distinct, r.findings_expected
    );
    println!(
        "| urgent finding events (the ticket queue) / expected | {} / {} |",
        r.urgent_events, r.urgent_expected
    );
    println!(
        "| duplicate finding events | {} |",
        r.events_published - r.events_distinct
    );
    println!("| dead letters | {} |", r.dead_letters);
    println!(
        "| invocations (messages reported failed) | {} ({}) |",
        r.invocations, r.failed_reports
    );
    println!(
        "| detect CPU per event (init excluded; init {:.0} ms) | {:.3} ms |",
        r.cpu_init.as_secs_f64() * 1000.0,
        r.cpu_ms_per_event()
    );
    println!(
        "| detect peak RSS | {:.1} MB |",
        r.peak_rss_kb as f64 / 1024.0
    );
    println!(
        "| wall time / waiting on moto | {:.1} s / {:.0} % |",
        r.wall.as_secs_f64(),
        100.0 * r.moto_busy.as_secs_f64() / r.wall.as_secs_f64().max(1e-9)
    );
    println!(
        "| round trips on the critical path per invocation | {:.1} |",
        r.busy_periods as f64 / r.invocations.max(1) as f64
    );
    println!("| IAM reads per event | {:.2} |", r.iam_reads_per_event());
    println!();
    println!("| AWS operation | calls | per finding |");
    println!("|---|---|---|");
    for (op, n) in &r.calls {
        println!("| {op} | {n} | {:.4} |", r.per_finding(op));
    }
    print_ticket(r);
}

/// The ticket phase's figures of a run.
fn print_ticket(r: &Run) {
    let t = &r.ticket;
    println!(
        "\n#### Ticket phase: {} urgent finding event(s) to the ticket function, batches of up to {TICKET_BATCH_SIZE}",
        t.events
    );
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| tickets (Jira issues created) / expected (distinct urgent findings) | {} / {} ({} without an issue) |",
        t.issues, r.urgent_expected, t.missing
    );
    println!(
        "| duplicate Jira issues: same finding label (same summary) | {} ({}) |",
        t.duplicate_labels, t.duplicate_summaries
    );
    println!(
        "| Slack messages / expected | {} / {} |",
        t.slack_messages, r.urgent_expected
    );
    println!(
        "| ticket dead letters: sent to the tickets DLQ + failed {MAX_RECEIVES} times | {} + {} |",
        t.dlq_sent, t.dead_letters
    );
    println!(
        "| ticket invocations (messages reported failed) | {} ({}) |",
        t.invocations, t.failed_reports
    );
    let attempted = t.calls.get("BatchUpdateFindings").copied().unwrap_or(0);
    let refused: Vec<String> = t
        .errors
        .iter()
        .filter(|((op, _), _)| op == "BatchUpdateFindings")
        .map(|((_, status), n)| format!("{n} x HTTP {status}"))
        .collect();
    let refused_n: usize = t
        .errors
        .iter()
        .filter(|((op, _), _)| op == "BatchUpdateFindings")
        .map(|(_, n)| n)
        .sum();
    println!(
        "| write-backs (BatchUpdateFindings) attempted / failed | {attempted} / {refused_n}{} |",
        if refused.is_empty() {
            String::new()
        } else {
            format!(" ({})", refused.join(", "))
        }
    );
    println!(
        "| write-backs the function logged done / failed with the ticket kept | {} / {}{} |",
        t.written_back,
        t.not_written_back,
        t.write_back_error
            .as_deref()
            .map(|e| format!(" (first: `{}`)", one_line(e, 160)))
            .unwrap_or_default()
    );
    println!(
        "| ticket CPU per ticket event (init excluded; init {:.0} ms) | {:.3} ms |",
        t.cpu_init.as_secs_f64() * 1000.0,
        t.cpu.as_secs_f64() * 1000.0 / t.events.max(1) as f64
    );
    println!(
        "| ticket peak RSS | {:.1} MB |",
        t.peak_rss_kb as f64 / 1024.0
    );
    println!("| ticket wall time | {:.1} s |", t.wall.as_secs_f64());
    println!();
    println!("| AWS operation (ticket phase) | calls | per ticket |");
    println!("|---|---|---|");
    for (op, n) in &t.calls {
        println!("| {op} | {n} | {:.4} |", *n as f64 / t.issues.max(1) as f64);
    }
}

/// `s` on one line, at most `max` characters, with `|` escaped for a Markdown table.
fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .take(max)
        .collect();
    flat.replace('|', "\\|")
}

/// AWS's published quotas (requests per second) the drain time is computed with.
const SECURITY_HUB_BIF_TPS: f64 = 10.0;
const EVENTBRIDGE_PUT_EVENTS_TPS: f64 = 10_000.0;
const STS_TPS: f64 = 600.0;
/// The drain time the IAM row states the read rate for: AWS publishes no IAM request rate.
const IAM_DRAIN_TARGET_S: f64 = 60.0;
/// The detect mapping's MaximumConcurrency (cdk/lib/constructs/detect.ts).
const DETECT_MAX_CONCURRENCY: f64 = 5.0;
/// Assumed latency of one AWS round trip inside a Region.
const AWS_ROUND_TRIP_S: f64 = 0.05;

/// Drain time of a 10,000-event burst, per quota, from the calls per finding measured.
fn print_quota_table(runs: &[Run]) {
    const BURST: f64 = 10_000.0;
    println!(
        "\n### Drain time of a 10,000-event burst under AWS's quotas (from the calls measured)\n"
    );
    println!("| quota (rate) | calls per event, measured | 1 account | 100 accounts |");
    println!("|---|---|---|---|");
    let one = runs.iter().find(|r| r.accounts == 1);
    let spread = runs
        .iter()
        .filter(|r| r.accounts > 1)
        .max_by_key(|r| r.accounts);
    let fmt = |s: f64| {
        if s < 1.0 {
            "< 1 s".to_string()
        } else {
            format!("{s:.0} s")
        }
    };
    let per_event = |r: &Run, ops: &[&str]| {
        ops.iter()
            .map(|op| *r.calls.get(*op).unwrap_or(&0))
            .sum::<usize>() as f64
            / r.events as f64
    };
    let row = |name: &str, ops: &[&str], per_account: bool, rate: f64| {
        let (Some(o), Some(s)) = (one, spread) else {
            return;
        };
        let (c1, cs) = (per_event(o, ops), per_event(s, ops));
        // Per-account quotas: 100 accounts share the burst, each its own quota; per-account
        // calls are the spread run's calls per event times the account's 100 events.
        let t1 = BURST * c1 / rate;
        let t100 = if per_account {
            BURST * cs / 100.0 / rate
        } else {
            BURST * cs / rate
        };
        println!(
            "| {name} | {c1:.4} (1 account), {cs:.4} ({} accounts) | {} | {} |",
            s.accounts,
            fmt(t1),
            fmt(t100)
        );
    };
    row(
        "Security Hub BatchImportFindings, 10/s per account (burst 30)",
        &["BatchImportFindings"],
        true,
        SECURITY_HUB_BIF_TPS,
    );
    row(
        "EventBridge PutEvents, 10,000/s per account (us-east-1), the security account's",
        &["PutEvents"],
        false,
        EVENTBRIDGE_PUT_EVENTS_TPS,
    );
    // AWS publishes no IAM request rate: say what a one-minute drain asks of IAM. A read
    // throttled past its retries becomes an enrichment gap on the finding, not a lost event.
    if let (Some(o), Some(s)) = (one, spread) {
        let (c1, cs) = (per_event(o, &IAM_READS), per_event(s, &IAM_READS));
        println!(
            "| IAM reads: no published rate; the rate a {IAM_DRAIN_TARGET_S:.0} s drain needs (a read throttled past its retries is an enrichment gap, not a lost event) | {c1:.4} (1 account), {cs:.4} ({} accounts) | {:.0} reads: {:.0}/s in the account | {:.0} reads per account: {:.1}/s each |",
            s.accounts,
            BURST * c1,
            BURST * c1 / IAM_DRAIN_TARGET_S,
            BURST * cs / 100.0,
            BURST * cs / 100.0 / IAM_DRAIN_TARGET_S
        );
    }
    row(
        "STS AssumeRole and GetCallerIdentity, 600/s per account, the security account's",
        &["AssumeRole", "GetCallerIdentity"],
        false,
        STS_TPS,
    );
    if let (Some(o), Some(s)) = (one, spread) {
        let lambda = |r: &Run| {
            let per_invocation_s = r.cpu.as_secs_f64() / r.invocations.max(1) as f64
                + AWS_ROUND_TRIP_S * r.busy_periods as f64 / r.invocations.max(1) as f64;
            let invocations = BURST / (r.events as f64 / r.invocations.max(1) as f64);
            (
                invocations / DETECT_MAX_CONCURRENCY * per_invocation_s,
                per_invocation_s,
            )
        };
        let ((t1, i1), (t100, i100)) = (lambda(o), lambda(s));
        println!(
            "| Lambda: MaximumConcurrency 5 invocations of the batch size; an invocation = its CPU + its critical-path round trips x 50 ms | {i1:.2} s (1 account), {i100:.2} s ({} accounts) per invocation | {} | {} |",
            s.accounts,
            fmt(t1),
            fmt(t100)
        );
    }
}
