//! The AWS adapters on their own against moto: the org snapshot, the STS credentials cache,
//! the enrichment cache, and the ASFF round trip through Security Hub.

use iamwatch_aws::{AccountClients, AwsEnricher, SecurityHubSink};
use iamwatch_core::ports::{Enricher, FindingSink};
use iamwatch_e2e::moto::{with_endpoint, MotoServer};
use iamwatch_e2e::org::{TestOrg, MEMBER_ROLE};
use iamwatch_e2e::proxy::FaultProxy;
use std::time::Duration;

#[test]
fn org_snapshot_lists_every_account_with_ou_path_and_tags() {
    iamwatch_e2e::run(|| async {
        let moto = MotoServer::start().unwrap_or_else(|e| panic!("{e}"));
        let org = TestOrg::create(&moto.endpoint())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let snap = iamwatch_aws::org::snapshot(&org.management).await.unwrap();
        // The management account sits under the root; the others under their OU.
        assert_eq!(snap.accounts.len(), 4, "{snap:?}");
        let ids: Vec<&str> = snap.accounts.iter().map(|a| a.id.as_str()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "sorted by id");
        for a in org.members().into_iter().chain([&org.security]) {
            let got = snap.account(&a.id).expect("listed");
            assert_eq!(got.name.as_deref(), Some(a.name.as_str()));
            assert_eq!(got.ou_path, vec![a.ou.clone()]);
        }
        let prod = snap.account(&org.prod.id).unwrap();
        assert_eq!(prod.tags.get("env").map(String::as_str), Some("prod"));
        let mgmt = snap
            .account(iamwatch_e2e::moto::DEFAULT_ACCOUNT)
            .expect("management account");
        assert!(mgmt.ou_path.is_empty());
        // The JSON is what `scan --org` reads.
        let text = serde_json::to_string(&snap).unwrap();
        assert_eq!(
            iamwatch_core::OrgSnapshot::from_json(&text, "org.json").unwrap(),
            snap
        );
    });
}

#[test]
fn roles_are_assumed_once_and_accounts_cached() {
    iamwatch_e2e::run(|| async {
        let moto = MotoServer::start().unwrap_or_else(|e| panic!("{e}"));
        let org = TestOrg::create(&moto.endpoint())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let proxy = FaultProxy::start(&moto.endpoint()).await.unwrap();
        let sdk = with_endpoint(&org.security.sdk, &proxy.endpoint());
        let accounts = AccountClients::new(sdk, MEMBER_ROLE);
        assert_eq!(accounts.own_account_id().await.unwrap(), org.security.id);
        assert_eq!(
            accounts.member_role_arn(&org.prod.id),
            format!("arn:aws:iam::{}:role/iamwatch-member", org.prod.id)
        );
        // Calls under the member role land in the member account.
        let prod_cfg = accounts.for_account(&org.prod.id).await.unwrap();
        let who = aws_sdk_sts::Client::new(&prod_cfg)
            .get_caller_identity()
            .send()
            .await
            .unwrap();
        assert_eq!(who.account(), Some(org.prod.id.as_str()));
        let _ = accounts.clone().for_account(&org.prod.id).await.unwrap();
        assert_eq!(
            proxy.requests("AssumeRole"),
            1,
            "credentials cached, shared by clones"
        );

        let enricher = AwsEnricher::new(
            accounts.clone(),
            Some(org.org_role_arn()),
            Duration::from_secs(300),
        );
        org.create_user(&org.prod, "cached-user").await.unwrap();
        let record = iamwatch_aws::testing::create_user_record(&org.prod.id, "cached-user");
        let first = enricher.enrich(&record, Some("cached-user")).await;
        assert!(first.gaps.is_empty(), "{:?}", first.gaps);
        let account = first.account.clone().unwrap();
        assert_eq!(account.name.as_deref(), Some("payments-prod"));
        assert_eq!(account.ou_path, vec!["Prod".to_string()]);
        let user = first.target_user.clone().unwrap();
        assert_eq!(user.access_keys.len(), 1);
        assert!(!user.has_login_profile);
        let second = enricher.enrich(&record, Some("cached-user")).await;
        assert_eq!(second, first);
        assert_eq!(proxy.requests("DescribeAccount"), 1, "account info cached");
        assert_eq!(
            proxy.requests("AssumeRole"),
            2,
            "member role + org reader role, once each"
        );

        // The organization's accounts, listed once through the org reader role and cached.
        let ids = enricher.org_accounts().await.expect("listed");
        for a in org.members().into_iter().chain([&org.security]) {
            assert!(ids.contains(&a.id), "{} in {ids:?}", a.id);
        }
        assert_eq!(enricher.org_accounts().await, Some(ids));
        assert_eq!(proxy.requests("ListAccounts"), 1, "cached");

        // A user that does not exist is a gap, not an error.
        let missing = enricher.enrich(&record, Some("nobody")).await;
        assert!(missing.target_user.is_none());
        assert!(
            missing.gaps.iter().any(|g| g.contains("NoSuchEntity")),
            "{:?}",
            missing.gaps
        );

        // Findings filed through the sink come back from GetFindings unchanged.
        let sink = SecurityHubSink::new(accounts.clone(), "us-east-1", "aws");
        let findings: Vec<_> = (0..120)
            .map(|i| iamwatch_aws::testing::sample_finding(&org.prod.id, &format!("u{i}")))
            .collect();
        let report = sink.file(&findings).await;
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        assert_eq!(report.filed.len(), 120);
        assert_eq!(
            proxy.requests("BatchImportFindings"),
            2,
            "at most 100 a call"
        );
        let back = sink
            .get_findings(&org.prod.sdk, &format!("iamwatch/{}/", org.prod.id), true)
            .await
            .unwrap();
        assert_eq!(back.len(), 120);
        let f0 = back.iter().find(|f| f.id == findings[0].id).unwrap();
        assert_eq!(*f0, findings[0]);
    });
}
