//! The inventory sweep end to end against moto: an organization with several accounts and OUs,
//! users made through the member role, one account whose role is missing, a credential report
//! in progress on the first call (through the fault proxy), a re-run of the same day, and a
//! second day with a trend, an archived finding and a user the live path missed. Slack is an
//! HTTP test server.

use aws_sdk_iam::Client as Iam;
use iamwatch_aws::inventory::{AwsIamSource, AwsOrgSource};
use iamwatch_aws::{AccountClients, SecurityHubSink};
use iamwatch_core::finding::{fields, RecordState};
use iamwatch_core::inventory::{AccountRow, AccountStatus, Day, Table, UserRow};
use iamwatch_core::ports::FindingSink;
use iamwatch_core::{CloudTrailRecord, FindingContext, Policy, Verdict};
use iamwatch_e2e::moto::{assume, with_endpoint, MotoServer};
use iamwatch_e2e::org::{TestOrg, MEMBER_ROLE};
use iamwatch_e2e::proxy::{Fault, FaultProxy};
use iamwatch_notify::testing::slack::FakeSlack;
use iamwatch_notify::{RetryPolicy, SlackNotifier, SlackWebhook};
use iamwatch_sweep::report::ReportWait;
use iamwatch_sweep::store::{accounts_on, read_rows, FolderStore};
use iamwatch_sweep::sweep::{SweepOptions, SweepSummary, Sweeper};
use iamwatch_sweep::watchdog::{FOUND_BY_FIELD, FOUND_BY_SWEEP};
use std::time::Duration;

const ADMIN_DOC: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

macro_rules! ok {
    ($fut:expr) => {
        $fut.await.unwrap_or_else(|e| {
            panic!(
                "{}: {}",
                stringify!($fut),
                aws_sdk_iam::error::DisplayErrorContext(e)
            )
        })
    };
}

fn options(day: Day) -> SweepOptions {
    SweepOptions {
        day,
        concurrency: 3,
        report_wait: ReportWait {
            attempts: 8,
            base: Duration::from_millis(5),
            max: Duration::from_millis(20),
        },
        watchdog_grace_ms: 0,
        ..SweepOptions::now()
    }
}

/// IAM in `account` through the member role, assumed from the management account.
async fn member_iam(org: &TestOrg, account: &str) -> Iam {
    let role = format!("arn:aws:iam::{account}:role/{MEMBER_ROLE}");
    Iam::new(&assume(&org.management, &role).await.unwrap())
}

async fn users(store: &FolderStore, day: Day, account: &str) -> Vec<UserRow> {
    read_rows(store, Table::Users, day, account)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no users object of {account} on {day}"))
}

async fn account_row(store: &FolderStore, day: Day, account: &str) -> AccountRow {
    let rows: Vec<AccountRow> = read_rows(store, Table::Accounts, day, account)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no accounts object of {account} on {day}"));
    assert_eq!(rows.len(), 1);
    rows.into_iter().next().unwrap()
}

#[test]
fn the_sweep_writes_tables_files_findings_and_watches_the_live_path() {
    iamwatch_e2e::run(|| async {
        let moto = MotoServer::start().unwrap();
        let org = TestOrg::create(&moto.endpoint()).await.unwrap();
        let proxy = FaultProxy::start(&moto.endpoint()).await.unwrap();

        // A fourth account, in a nested OU, whose member role is missing: AWS refuses the
        // AssumeRole (moto would not, so the proxy does).
        let orgs = aws_sdk_organizations::Client::new(&org.management);
        let root = ok!(orgs.list_roots().send()).roots()[0]
            .id()
            .unwrap()
            .to_string();
        let ous = ok!(orgs
            .list_organizational_units_for_parent()
            .parent_id(&root)
            .send());
        let prod_ou = ous
            .organizational_units()
            .iter()
            .find(|o| o.name() == Some("Prod"))
            .and_then(|o| o.id())
            .unwrap()
            .to_string();
        let legacy_ou = ok!(orgs
            .create_organizational_unit()
            .parent_id(&prod_ou)
            .name("Legacy")
            .send())
        .organizational_unit()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
        let legacy = ok!(orgs
            .create_account()
            .email("legacy@example.com")
            .account_name("legacy")
            .send())
        .create_account_status()
        .unwrap()
        .account_id()
        .unwrap()
        .to_string();
        ok!(orgs
            .move_account()
            .account_id(&legacy)
            .source_parent_id(&root)
            .destination_parent_id(&legacy_ou)
            .send());
        proxy.inject_matching("AssumeRole", &legacy, Fault::AccessDenied, usize::MAX);

        // Users made through the member role.
        let prod_iam = member_iam(&org, &org.prod.id).await;
        let sandbox_iam = member_iam(&org, &org.sandbox.id).await;
        ok!(prod_iam.create_user().user_name("alice").send());
        ok!(prod_iam
            .create_login_profile()
            .user_name("alice")
            .password("Secret-123-x")
            .send());
        ok!(prod_iam
            .create_user()
            .user_name("bob")
            .tags(
                aws_sdk_iam::types::Tag::builder()
                    .key("owner")
                    .value("team-payments")
                    .build()
                    .unwrap()
            )
            .send());
        let bob_key = ok!(prod_iam.create_access_key().user_name("bob").send())
            .access_key()
            .unwrap()
            .access_key_id()
            .to_string();
        ok!(prod_iam
            .put_user_policy()
            .user_name("bob")
            .policy_name("everything")
            .policy_document(ADMIN_DOC)
            .send());
        ok!(prod_iam.create_user().user_name("carol").send());
        ok!(prod_iam
            .create_login_profile()
            .user_name("carol")
            .password("Secret-123-y")
            .send());
        let carol_mfa = ok!(prod_iam
            .create_virtual_mfa_device()
            .virtual_mfa_device_name("carol")
            .send())
        .virtual_mfa_device()
        .unwrap()
        .serial_number()
        .to_string();
        ok!(prod_iam
            .enable_mfa_device()
            .user_name("carol")
            .serial_number(&carol_mfa)
            .authentication_code1("123456")
            .authentication_code2("654321")
            .send());
        ok!(sandbox_iam.create_user().user_name("dave").send());
        ok!(sandbox_iam.create_access_key().user_name("dave").send());

        // The security account's function, through the proxy.
        let security = with_endpoint(&org.security.sdk, &proxy.endpoint());
        let accounts = AccountClients::new(security.clone(), MEMBER_ROLE);
        let ctx = FindingContext::default();
        let sink = SecurityHubSink::new(accounts.clone(), "us-east-1", "aws");
        let policy = Policy::default();

        // The real-time finding of bob's creation names who made him.
        let mut envelope =
            iamwatch_e2e::events::build("iam-user-created", &org.prod.id, "bob", "").unwrap();
        let record: CloudTrailRecord = serde_json::from_value(envelope["detail"].take()).unwrap();
        let Verdict::Finding(d) = iamwatch_core::evaluate(&record, &policy) else {
            panic!("CreateUser is a finding");
        };
        let (live, _) = iamwatch_core::engine::finding(
            &d,
            &record,
            &policy,
            &iamwatch_core::Enrichment::default(),
            &ctx,
        );
        let creator = live.field(fields::ACTOR).unwrap().to_string();
        assert!(sink.file(&[live]).await.failed.is_empty());

        let slack = FakeSlack::start().await.unwrap();
        let notifier = SlackNotifier::new(
            SlackWebhook {
                webhook_url: slack.webhook_url(),
            },
            RetryPolicy::default(),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = FolderStore::new(dir.path());
        let org_source = AwsOrgSource::new(accounts.clone(), Some(org.org_role_arn()));
        let iam = AwsIamSource::new(accounts.clone());
        let sweeper = Sweeper {
            org: &org_source,
            iam: &iam,
            store: &store,
            sink: &sink,
            notifier: Some(&notifier),
            policy: &policy,
            ctx: &ctx,
        };

        // Day 1, the first report in progress on the first call.
        proxy.inject(
            "GetCredentialReport",
            Fault::Error(404, "ReportInProgress"),
            1,
        );
        let day1: Day = "2026-12-01".parse().unwrap();
        let s1 = sweeper.run(&options(day1)).await.unwrap();
        assert_eq!(proxy.faults("GetCredentialReport"), 1);
        // management, security, payments-prod, dev-sandbox; legacy not.
        assert_eq!(s1.accounts_ok, 4, "{s1:?}");
        assert_eq!(s1.accounts_failed.len(), 1, "{s1:?}");
        assert_eq!(s1.accounts_failed[0].0, legacy);
        assert!(
            s1.accounts_failed[0].1.contains("AssumeRole")
                && s1.accounts_failed[0].1.contains("AccessDenied"),
            "{:?}",
            s1.accounts_failed
        );
        assert_eq!(s1.users, 4);
        assert_eq!(s1.previous, None);
        assert!(
            s1.coverage_gaps.is_empty(),
            "no previous sweep, no watchdog"
        );
        assert!(s1.report_error.is_none(), "{:?}", s1.report_error);

        let failed = account_row(&store, day1, &legacy).await;
        assert_eq!(failed.status, AccountStatus::Error);
        assert_eq!(failed.ou_path, ["Prod", "Legacy"]);
        assert!(failed.error.as_deref().unwrap().contains("AccessDenied"));
        assert!(read_rows::<_, UserRow>(&store, Table::Users, day1, &legacy)
            .await
            .unwrap()
            .is_none());
        let prod_row = account_row(&store, day1, &org.prod.id).await;
        assert_eq!(
            (
                prod_row.status,
                prod_row.users,
                prod_row.risky_users,
                prod_row.access_keys
            ),
            (AccountStatus::Ok, 3, 1, 1)
        );
        assert_eq!(prod_row.account_name.as_deref(), Some("payments-prod"));
        assert_eq!(prod_row.ou_path, ["Prod"]);
        let rows = users(&store, day1, &org.prod.id).await;
        let names: Vec<&str> = rows.iter().map(|u| u.user.as_str()).collect();
        assert_eq!(names, ["alice", "bob", "carol"]);
        let (alice, bob, carol) = (&rows[0], &rows[1], &rows[2]);
        assert!(alice.password_enabled && !alice.mfa_active);
        assert_eq!(alice.rules, ["console-without-mfa"]);
        assert_eq!(alice.score, 60);
        assert_eq!(alice.owner, None);
        assert_eq!(alice.creator, None);
        assert_eq!(bob.access_keys.len(), 1);
        assert_eq!(bob.access_keys[0].id.as_deref(), Some(bob_key.as_str()));
        assert!(bob.access_keys[0].active);
        assert_eq!(bob.owner.as_deref(), Some("team-payments"));
        assert_eq!(bob.creator.as_deref(), Some(creator.as_str()));
        assert!(bob.admin);
        assert_eq!(bob.admin_via, ["inline everything"]);
        assert!(carol.mfa_active && carol.rules.is_empty());
        assert_eq!(carol.report_time, prod_row.report_time.clone().unwrap());
        let sandbox_rows = users(&store, day1, &org.sandbox.id).await;
        assert_eq!(sandbox_rows[0].ou_path, ["Sandbox"]);

        // Findings: alice's in her account.
        let prod_sdk = with_endpoint(&org.prod.sdk, &moto.endpoint());
        let filed = sink
            .get_findings(&prod_sdk, &format!("iamwatch/{}/", org.prod.id), false)
            .await
            .unwrap();
        let alice_id = format!("iamwatch/{}/console-without-mfa/alice", org.prod.id);
        let f = filed
            .iter()
            .find(|f| f.id == alice_id)
            .expect("alice's finding");
        assert_eq!(f.record_state, RecordState::Active);
        assert_eq!(f.generator_id, "iamwatch/console-without-mfa");
        assert_eq!(f.aws_account_id, org.prod.id);

        // The report and the Slack line.
        let latest = dir.path().join("inventory/v1/report/latest.html");
        assert!(std::fs::read_to_string(&latest).unwrap().contains("<svg"));
        assert!(dir
            .path()
            .join("inventory/v1/report/dt=2026-12-01/index.html")
            .exists());
        let lines: Vec<String> = slack
            .messages()
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(lines.len(), 1);
        assert_eq!(
            lines[0],
            format!(
                "IAM users: 4 in 4 accounts; 1 risky; 1 accounts not swept; report: {}",
                latest.display()
            )
        );

        // A second run the same day overwrites: the same objects and rows, not twice as many.
        let s1b = sweeper.run(&options(day1)).await.unwrap();
        assert_eq!((s1b.users, s1b.accounts_ok), (4, 4));
        assert_eq!(users(&store, day1, &org.prod.id).await.len(), 3);
        assert_eq!(
            accounts_on(&store, Table::Accounts, day1)
                .await
                .unwrap()
                .len(),
            5
        );
        assert_eq!(
            accounts_on(&store, Table::Users, day1).await.unwrap().len(),
            4
        );
        assert_eq!(s1b.previous, None, "the same day is no previous day");

        // Day 2: alice has MFA now, and eve appeared in the sandbox with no real-time finding.
        let alice_mfa = ok!(prod_iam
            .create_virtual_mfa_device()
            .virtual_mfa_device_name("alice")
            .send())
        .virtual_mfa_device()
        .unwrap()
        .serial_number()
        .to_string();
        ok!(prod_iam
            .enable_mfa_device()
            .user_name("alice")
            .serial_number(&alice_mfa)
            .authentication_code1("123456")
            .authentication_code2("654321")
            .send());
        ok!(sandbox_iam.create_user().user_name("eve").send());
        let day2 = day1.plus(1);
        let s2: SweepSummary = sweeper.run(&options(day2)).await.unwrap();
        assert_eq!(s2.users, 5);
        assert_eq!(s2.previous, Some((day1, 4)));
        assert_eq!(s2.risky_users, 0);
        assert_eq!(s2.findings_archived, 1, "{s2:?}");
        assert_eq!(
            s2.coverage_gaps.get(&org.sandbox.id).cloned(),
            Some(vec!["eve".to_string()])
        );
        assert_eq!(s2.coverage_gaps.len(), 1, "{:?}", s2.coverage_gaps);
        assert!(s2.line.starts_with("IAM users: 4 -> 5 (+1) in 4 accounts; 0 risky; 1 accounts not swept; 1 users missed by the real-time path; report: "), "{}", s2.line);

        let filed = sink
            .get_findings(&prod_sdk, &format!("iamwatch/{}/", org.prod.id), false)
            .await
            .unwrap();
        let f = filed.iter().find(|f| f.id == alice_id).unwrap();
        assert_eq!(f.record_state, RecordState::Archived);
        assert!(f
            .field(fields::RESOLVED_BY)
            .unwrap()
            .contains("no longer seen"));
        let sandbox_sdk = with_endpoint(&org.sandbox.sdk, &moto.endpoint());
        let eve = sink
            .get_findings(&sandbox_sdk, &format!("iamwatch/{}/", org.sandbox.id), true)
            .await
            .unwrap()
            .into_iter()
            .find(|f| f.id == format!("iamwatch/{}/iam-user-created/eve", org.sandbox.id))
            .expect("eve's finding");
        assert_eq!(eve.field(FOUND_BY_FIELD), Some(FOUND_BY_SWEEP));
        assert!(eve.description.contains(FOUND_BY_SWEEP));

        // A third day: eve has her finding now (the sweep's own), so no gap again.
        let s3 = sweeper.run(&options(day2.plus(1))).await.unwrap();
        assert!(s3.coverage_gaps.is_empty(), "{:?}", s3.coverage_gaps);
        assert_eq!(s3.previous, Some((day2, 5)));
        let page = std::fs::read_to_string(&latest).unwrap();
        for d in ["2026-12-01", "2026-12-02", "2026-12-03"] {
            assert!(page.contains(d), "trend day {d} on the page");
        }
        assert_eq!(slack.messages().len(), 4);
    });
}
