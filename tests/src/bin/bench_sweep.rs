//! Benchmark of `iamwatch inventory sweep` against moto: an organization of ACCOUNTS accounts
//! (in four OUs) with USERS IAM users each (every user an access key, every third a console
//! password, every fifth an owner tag), then one sweep by the `iamwatch` binary given, run
//! under `/usr/bin/time` through the fault proxy (no faults: it only counts the requests).
//!
//! Usage: bench_sweep IAMWATCH_BIN [ACCOUNTS] [USERS] [CONCURRENCY]
//! Prints the wall time and peak RSS of the sweep and the AWS requests per account by
//! operation. `scripts/bench-sweep.sh` builds the binaries and runs it.

use aws_sdk_organizations::types::OrganizationFeatureSet;
use iamwatch_e2e::moto::{assume, management_credentials, sdk_config, MotoServer};
use iamwatch_e2e::proxy::FaultProxy;
use std::time::Instant;

const MEMBER_ROLE: &str = "iamwatch-member";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let bin = std::env::args().nth(1).ok_or_else(|| {
        anyhow::anyhow!("usage: bench_sweep IAMWATCH_BIN [ACCOUNTS] [USERS] [CONCURRENCY]")
    })?;
    let (n_accounts, n_users, concurrency) = (arg(2, 200), arg(3, 50), arg(4, 8));
    let moto = MotoServer::start()?;
    let management = sdk_config(&moto.endpoint(), management_credentials()).await;
    let orgs = aws_sdk_organizations::Client::new(&management);
    orgs.create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await?;
    let root = orgs.list_roots().send().await?.roots()[0]
        .id()
        .unwrap_or_default()
        .to_string();
    let mut ous = Vec::new();
    for name in ["Prod", "Dev", "Sandbox", "Shared"] {
        let ou = orgs
            .create_organizational_unit()
            .parent_id(&root)
            .name(name)
            .send()
            .await?;
        ous.push(
            ou.organizational_unit()
                .and_then(|o| o.id())
                .unwrap_or_default()
                .to_string(),
        );
    }
    let iam = aws_sdk_iam::Client::new(&management);
    iam.create_role()
        .role_name("iamwatch-org-reader")
        .assume_role_policy_document(TRUST)
        .send()
        .await?;
    let setup = Instant::now();
    let mut ids = Vec::new();
    for i in 0..n_accounts {
        let created = orgs
            .create_account()
            .email(format!("a{i}@example.com"))
            .account_name(format!("account-{i}"))
            .send()
            .await?;
        let id = created
            .create_account_status()
            .and_then(|s| s.account_id())
            .unwrap_or_default()
            .to_string();
        orgs.move_account()
            .account_id(&id)
            .source_parent_id(&root)
            .destination_parent_id(&ous[i % ous.len()])
            .send()
            .await?;
        ids.push(id);
    }
    // Users, 8 accounts at a time.
    let mut set = tokio::task::JoinSet::new();
    for (i, id) in ids.iter().enumerate() {
        let management = management.clone();
        let id = id.clone();
        set.spawn(async move {
            let sdk = assume(
                &management,
                &format!("arn:aws:iam::{id}:role/OrganizationAccountAccessRole"),
            )
            .await?;
            let iam = aws_sdk_iam::Client::new(&sdk);
            iam.create_role()
                .role_name(MEMBER_ROLE)
                .assume_role_policy_document(TRUST)
                .send()
                .await?;
            for u in 0..n_users {
                let name = format!("user-{i}-{u}");
                let mut req = iam.create_user().user_name(&name);
                if u % 5 == 0 {
                    req = req.tags(
                        aws_sdk_iam::types::Tag::builder()
                            .key("owner")
                            .value("team")
                            .build()?,
                    );
                }
                req.send().await?;
                iam.create_access_key().user_name(&name).send().await?;
                if u % 3 == 0 {
                    iam.create_login_profile()
                        .user_name(&name)
                        .password("Bench-password-1")
                        .send()
                        .await?;
                }
            }
            anyhow::Ok(())
        });
        if set.len() >= 8 {
            if let Some(r) = set.join_next().await {
                r??;
            }
        }
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    eprintln!(
        "setup: {n_accounts} accounts x {n_users} users in {:.0} s",
        setup.elapsed().as_secs_f64()
    );

    // The security account's credentials (the first account plays it).
    let security = &ids[0];
    let sts = aws_sdk_sts::Client::new(&management);
    let creds = sts
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{security}:role/OrganizationAccountAccessRole"
        ))
        .role_session_name("bench")
        .send()
        .await?;
    let c = creds
        .credentials()
        .ok_or_else(|| anyhow::anyhow!("no credentials"))?;
    let proxy = FaultProxy::start(&moto.endpoint()).await?;
    let out = tempfile::tempdir()?;
    let started = Instant::now();
    let status = tokio::process::Command::new("/usr/bin/time")
        .args(["-f", "peak_rss_kib=%M wall_s=%e user_s=%U sys_s=%S", &bin])
        .args(["inventory", "sweep", "--out"])
        .arg(out.path())
        .args(["--concurrency", &concurrency.to_string()])
        .env("AWS_ENDPOINT_URL", proxy.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", c.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", c.secret_access_key())
        .env("AWS_SESSION_TOKEN", c.session_token())
        .env(
            "IAMWATCH_ORG_ROLE_ARN",
            format!(
                "arn:aws:iam::{}:role/iamwatch-org-reader",
                iamwatch_e2e::moto::DEFAULT_ACCOUNT
            ),
        )
        .env_remove("IAMWATCH_SLACK_SECRET_ARN")
        .status()
        .await?;
    let wall = started.elapsed();
    eprintln!("sweep exit status: {status}");
    println!(
        "sweep of {n_accounts} accounts x {n_users} users at concurrency {concurrency}: {:.1} s wall",
        wall.as_secs_f64()
    );
    println!("AWS requests per account, by operation (total / accounts):");
    let counts = proxy.request_counts();
    let mut total = 0usize;
    for (op, n) in &counts {
        total += n;
        println!("  {op:<36} {n:>7}  {:>8.2}", *n as f64 / n_accounts as f64);
    }
    println!(
        "  {:<36} {total:>7}  {:>8.2}",
        "all",
        total as f64 / n_accounts as f64
    );
    Ok(())
}
