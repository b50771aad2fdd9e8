//! Every scoring factor, clamping, suppressions, resolutions and finding limits, through the
//! public API.

use iamwatch_core::build::finding_id;
use iamwatch_core::engine::{evaluate, finding, Verdict};
use iamwatch_core::enrich::{AccountInfo, Enrichment, UserDetails};
use iamwatch_core::finding::{fields, RecordState};
use iamwatch_core::resolve::resolution;
use iamwatch_core::timeline::Timeline;
use iamwatch_core::{CloudTrailRecord, FindingContext, Label, Policy};
use serde_json::{json, Value};

fn rec(event: &str, identity: Value, params: Value, extra: Value) -> CloudTrailRecord {
    let mut v = json!({
        "eventTime": "2026-11-01T10:00:00Z", "eventSource": "iam.amazonaws.com", "eventName": event,
        "sourceIPAddress": "203.0.113.10", "userIdentity": identity, "requestParameters": params,
        "eventID": "ev-1", "recipientAccountId": "111122223333"
    });
    if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
        m.extend(e);
    }
    serde_json::from_value(v).unwrap()
}

fn user(mfa: Option<&str>) -> Value {
    let mut u = json!({"type": "IAMUser", "userName": "alice", "accountId": "111122223333",
        "arn": "arn:aws:iam::111122223333:user/alice"});
    if let Some(m) = mfa {
        u["sessionContext"] = json!({"attributes": {"mfaAuthenticated": m}});
    }
    u
}

fn scored(r: &CloudTrailRecord, policy: &Policy, e: &Enrichment) -> (u8, Label, Vec<String>) {
    let Verdict::Finding(d) = evaluate(r, policy) else {
        panic!("no finding for {}", r.event_name)
    };
    let (f, s) = finding(&d, r, policy, e, &FindingContext::default());
    assert_eq!(f.field(fields::SCORE), Some(s.value.to_string().as_str()));
    (
        s.value,
        s.label,
        s.factors.iter().map(|f| f.id.to_string()).collect(),
    )
}

fn create_user(identity: Value) -> CloudTrailRecord {
    rec(
        "CreateUser",
        identity,
        json!({"userName": "bob"}),
        json!({}),
    )
}

#[test]
fn actor_factors() {
    let p = Policy::default();
    let e = Enrichment::default();
    assert_eq!(
        scored(&create_user(user(None)), &p, &e),
        (50, Label::Medium, vec!["actor-iam-user".into()])
    );
    assert_eq!(
        scored(&create_user(user(Some("false"))), &p, &e),
        (
            60,
            Label::Medium,
            vec!["actor-iam-user".into(), "no-mfa".into()]
        )
    );
    assert_eq!(scored(&create_user(user(Some("true"))), &p, &e).0, 50);
    let root = json!({"type": "Root", "accountId": "111122223333", "arn": "arn:aws:iam::111122223333:root",
        "sessionContext": {"attributes": {"mfaAuthenticated": "false"}}});
    assert_eq!(
        scored(&create_user(root), &p, &e),
        (80, Label::High, vec!["actor-root".into(), "no-mfa".into()])
    );
    // no-mfa is for IAM users and root only: a role session without MFA is normal.
    let role = json!({"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/r/s",
        "sessionContext": {"attributes": {"mfaAuthenticated": "false"}}});
    assert_eq!(
        scored(&create_user(role), &p, &e),
        (40, Label::Medium, vec![])
    );
}

#[test]
fn trust_factors() {
    let p = Policy::from_toml(
        "trusted_principals = [\"arn:aws:iam::*:role/terraform-*\"]\ntrusted_cidrs = [\"10.0.0.0/8\"]",
        "p.toml",
    )
    .unwrap();
    let e = Enrichment::default();
    let role = json!({"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/terraform-ci/run-1",
        "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::111122223333:role/terraform-ci"}}});
    let r = rec(
        "CreateUser",
        role,
        json!({"userName": "bob"}),
        json!({"sourceIPAddress": "10.1.2.3"}),
    );
    assert_eq!(
        scored(&r, &p, &e),
        (10, Label::Low, vec!["trusted-principal".into()])
    );
    // Outside the trusted CIDRs (and a leading-zero address, as anonymized logs write it).
    let r = rec(
        "CreateUser",
        user(None),
        json!({"userName": "bob"}),
        json!({"sourceIPAddress": "075.050.255.67"}),
    );
    assert_eq!(
        scored(&r, &p, &e).2,
        vec!["actor-iam-user", "untrusted-source-ip"]
    );
    // A service name where the IP would be is not an IP: no factor.
    let svc = json!({"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/cfn/s",
        "invokedBy": "cloudformation.amazonaws.com"});
    let r = rec(
        "CreateUser",
        svc,
        json!({"userName": "bob"}),
        json!({"sourceIPAddress": "cloudformation.amazonaws.com"}),
    );
    assert_eq!(
        scored(&r, &p, &e),
        (20, Label::Low, vec!["trusted-service".into()])
    );
}

#[test]
fn account_and_target_factors_and_clamping() {
    let p = Policy::from_toml(
        "critical_ous = [\"Prod\"]\nsandbox_ous = [\"Sandbox\"]",
        "p.toml",
    )
    .unwrap();
    let account = |ou: &[&str]| AccountInfo {
        id: "111122223333".into(),
        name: Some("payments".into()),
        ou_path: ou.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let prod = Enrichment {
        account: Some(account(&["Workloads", "Prod"])),
        ..Default::default()
    };
    let sandbox = Enrichment {
        account: Some(account(&["Sandbox"])),
        ..Default::default()
    };
    let r = create_user(user(None));
    assert_eq!(
        scored(&r, &p, &prod).2,
        vec!["actor-iam-user", "critical-account"]
    );
    assert_eq!(
        scored(&r, &p, &sandbox),
        (
            35,
            Label::Low,
            vec!["actor-iam-user".into(), "sandbox-account".into()]
        )
    );

    // target-is-admin: admin before this grant (a group), not because of this grant.
    let admin_policy = "arn:aws:iam::aws:policy/AdministratorAccess";
    let target = |policies: Vec<&str>, groups: Vec<&str>| Enrichment {
        target_user: Some(UserDetails {
            user_name: "bob".into(),
            attached_policies: policies.into_iter().map(String::from).collect(),
            groups: groups.into_iter().map(String::from).collect(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let attach = rec(
        "AttachUserPolicy",
        user(None),
        json!({"userName": "bob", "policyArn": admin_policy}),
        json!({}),
    );
    assert_eq!(
        scored(&attach, &p, &target(vec![admin_policy], vec![])).2,
        vec!["actor-iam-user"]
    );
    let p2 = Policy::from_toml("admin_groups = [\"Admins\"]", "p.toml").unwrap();
    let key = rec(
        "CreateAccessKey",
        user(Some("false")),
        json!({"userName": "bob"}),
        json!({}),
    );
    let (score, label, factors) = scored(&key, &p2, &target(vec![], vec!["Admins"]));
    assert_eq!(factors, vec!["actor-iam-user", "no-mfa", "target-is-admin"]);
    assert_eq!(
        (score, label),
        (100, Label::Critical),
        "70+10+10+15 clamps to 100"
    );

    // Clamped at 0 too.
    let p3 = Policy::from_toml(
        "trusted_principals = [\"*\"]\nsandbox_ous = [\"Sandbox\"]",
        "p.toml",
    )
    .unwrap();
    let perms = rec(
        "AddUserToGroup",
        json!({"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/x/y"}),
        json!({"userName": "bob", "groupName": "Dev"}),
        json!({}),
    );
    assert_eq!(scored(&perms, &p3, &sandbox).0, 0);
    assert_eq!(scored(&perms, &p3, &sandbox).1, Label::Informational);
}

#[test]
fn suppressions_match_all_keys() {
    let p = Policy::from_toml(
        r#"
[[suppress]]
rule = "iam-user-created"
actor = "arn:aws:iam::*:role/account-vending-*"
reason = "vending"
[[suppress]]
user = "svc-*"
account = "111122223333"
reason = "service users of the data team"
"#,
        "p.toml",
    )
    .unwrap();
    let vending = json!({"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/account-vending-x/s",
        "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::111122223333:role/account-vending-x"}}});
    let r = create_user(vending.clone());
    assert!(
        matches!(evaluate(&r, &p), Verdict::Suppressed { ref reason, .. } if reason == "vending")
    );
    // Same actor, other rule: not suppressed.
    let r = rec(
        "CreateLoginProfile",
        vending,
        json!({"userName": "bob"}),
        json!({}),
    );
    assert!(matches!(evaluate(&r, &p), Verdict::Finding(_)));
    let r = rec(
        "CreateAccessKey",
        user(None),
        json!({"userName": "svc-etl"}),
        json!({}),
    );
    assert!(matches!(evaluate(&r, &p), Verdict::Suppressed { .. }));
    let r = rec(
        "CreateAccessKey",
        user(None),
        json!({"userName": "svc-etl"}),
        json!({"recipientAccountId": "999999999999"}),
    );
    assert!(matches!(evaluate(&r, &p), Verdict::Finding(_)));
}

#[test]
fn policy_defaults_and_replacement() {
    let d = Policy::default();
    assert_eq!(d.trusted_services, vec!["cloudformation.amazonaws.com"]);
    assert_eq!(d.admin_policies.len(), 2);
    assert_eq!(d.ticket_min_severity, Label::High);
    assert!(d.trusted_principals.is_empty() && d.suppress.is_empty());
    let p = Policy::from_toml("trusted_services = [\"sso.amazonaws.com\"]", "p.toml").unwrap();
    assert_eq!(
        p.trusted_services,
        vec!["sso.amazonaws.com"],
        "a set key replaces its default"
    );
    assert_eq!(Policy::from_toml("", "p.toml").unwrap(), d);
}

#[test]
fn resolving_events() {
    let p = Policy::default();
    let ctx = FindingContext::default();
    let mut t = Timeline::new();
    let mk = |r: &CloudTrailRecord| match evaluate(r, &p) {
        Verdict::Finding(d) => finding(&d, r, &p, &Enrichment::default(), &ctx).0,
        v => panic!("{v:?}"),
    };
    let key = rec(
        "CreateAccessKey",
        user(None),
        json!({"userName": "bob"}),
        json!({"responseElements": {"accessKey": {"accessKeyId": "AKIA1"}}}),
    );
    let pwd = rec(
        "CreateLoginProfile",
        user(None),
        json!({"userName": "bob"}),
        json!({}),
    );
    let other_account = rec(
        "CreateLoginProfile",
        user(None),
        json!({"userName": "bob"}),
        json!({"recipientAccountId": "999999999999"}),
    );
    t.add_finding(mk(&key));
    t.add_finding(mk(&pwd));
    t.add_finding(mk(&other_account));
    let deactivate = rec(
        "UpdateAccessKey",
        user(None),
        json!({"userName": "bob", "accessKeyId": "AKIA1", "status": "Inactive"}),
        json!({"eventTime": "2026-11-01T11:00:00Z"}),
    );
    let drop_pwd = rec(
        "DeleteLoginProfile",
        user(None),
        json!({"userName": "bob"}),
        json!({"eventTime": "2026-11-01T11:00:00Z"}),
    );
    for r in [&deactivate, &drop_pwd] {
        assert!(matches!(evaluate(r, &p), Verdict::Resolution(_)));
        t.add_resolution(resolution(r).unwrap());
    }
    let out = t.replay();
    let state = |i: usize| out[i].record_state;
    assert_eq!(
        (state(0), state(1), state(2)),
        (
            RecordState::Archived,
            RecordState::Archived,
            RecordState::Active
        )
    );
    assert_eq!(out[0].updated_at, "2026-11-01T11:00:00.000Z");
    assert_eq!(out[0].created_at, "2026-11-01T10:00:00.000Z");
    assert!(out[0]
        .field(fields::RESOLVED_BY)
        .unwrap()
        .starts_with("UpdateAccessKey"));
    // A failed resolving call resolves nothing.
    let mut failed = drop_pwd.clone();
    failed.error_code = Some("EntityTemporarilyUnmodifiable".into());
    assert!(resolution(&failed).is_none());
}

/// Resolving events of roles, groups, identity providers and managed policies end exactly the
/// findings about them, by the product fields the findings carry.
#[test]
fn resolving_events_of_roles_groups_providers_and_policies() {
    let p = Policy::default();
    let ctx = FindingContext::default();
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    let saml = "arn:aws:iam::111122223333:saml-provider/Okta";
    let managed = "arn:aws:iam::111122223333:policy/deploy";
    let trust =
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    let at = |h: u32| json!({"eventTime": format!("2026-11-01T{h}:00:00Z")});
    let call = |name: &str, params: Value, h: u32| rec(name, user(None), params, at(h));
    let findings = [
        call(
            "CreateRole",
            json!({"roleName": "ci", "assumeRolePolicyDocument": trust}),
            10,
        ),
        call(
            "AttachRolePolicy",
            json!({"roleName": "ci", "policyArn": admin}),
            10,
        ),
        call(
            "DeleteRolePermissionsBoundary",
            json!({"roleName": "ci"}),
            10,
        ),
        call(
            "AttachGroupPolicy",
            json!({"groupName": "Ops", "policyArn": admin}),
            10,
        ),
        call(
            "AttachGroupPolicy",
            json!({"groupName": "Dev", "policyArn": admin}),
            10,
        ),
        call("CreateSAMLProvider", json!({"name": "Okta"}), 10),
        call(
            "SetDefaultPolicyVersion",
            json!({"policyArn": managed, "versionId": "v1"}),
            10,
        ),
        call(
            "DeleteUserPermissionsBoundary",
            json!({"userName": "bob"}),
            10,
        ),
    ];
    let fields_of = |r: &CloudTrailRecord| match evaluate(r, &p) {
        Verdict::Finding(d) => finding(&d, r, &p, &Enrichment::default(), &ctx).0,
        v => panic!("{}: {v:?}", r.event_name),
    };
    let built: Vec<_> = findings.iter().map(fields_of).collect();
    assert_eq!(built[0].field(fields::ROLE), Some("ci"));
    assert_eq!(built[1].field(fields::ROLE), Some("ci"));
    assert_eq!(
        built[1].field(fields::GRANT),
        Some(format!("policy:{admin}").as_str())
    );
    assert_eq!(built[3].field(fields::GROUP), Some("Ops"));
    assert_eq!(built[5].field(fields::PROVIDER), Some(saml));
    assert_eq!(built[6].field(fields::POLICY), Some(managed));
    assert_eq!(built[7].field(fields::ROLE), None);

    let replay = |ends: &[CloudTrailRecord]| {
        let mut t = Timeline::new();
        for f in &built {
            t.add_finding(f.clone());
        }
        for r in ends {
            assert!(
                matches!(evaluate(r, &p), Verdict::Resolution(_)),
                "{}",
                r.event_name
            );
            t.add_resolution(resolution(r).unwrap());
        }
        t.replay()
            .iter()
            .map(|f| f.record_state == RecordState::Archived)
            .collect::<Vec<bool>>()
    };
    // The boundary put back ends the boundary finding only; the grant removed ends the grant.
    assert_eq!(
        replay(&[
            call(
                "PutRolePermissionsBoundary",
                json!({"roleName": "CI", "permissionsBoundary": managed}),
                11
            ),
            call(
                "DetachGroupPolicy",
                json!({"groupName": "Ops", "policyArn": admin}),
                11
            ),
        ]),
        [false, false, true, true, false, false, false, false]
    );
    // DeleteRole ends every finding of the role; DeleteGroup, the provider and the policy theirs.
    assert_eq!(
        replay(&[
            call("DeleteRole", json!({"roleName": "ci"}), 11),
            call("DeleteGroup", json!({"groupName": "Dev"}), 11),
            call("DeleteSAMLProvider", json!({"sAMLProviderArn": saml}), 11),
            call("DeletePolicy", json!({"policyArn": managed}), 11),
            call(
                "PutUserPermissionsBoundary",
                json!({"userName": "bob", "permissionsBoundary": managed}),
                11
            ),
        ]),
        [true, true, true, false, true, true, true, true]
    );
    // An inline policy removed ends only the inline grant, and another role's call nothing.
    assert_eq!(
        replay(&[
            call(
                "DeleteRolePolicy",
                json!({"roleName": "ci", "policyName": "x"}),
                11
            ),
            call(
                "DetachRolePolicy",
                json!({"roleName": "other", "policyArn": admin}),
                11
            ),
            call(
                "DeleteOpenIDConnectProvider",
                json!({"openIDConnectProviderArn": "arn:aws:iam::111122223333:oidc-provider/x"}),
                11
            ),
        ]),
        [false; 8]
    );
}

/// A detection's own base (role-trust-opened's "*", SetDefaultPolicyVersion) replaces the
/// rule's base in the score and its explanation.
#[test]
fn per_detection_base() {
    let p = Policy::default();
    let trust = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}"#;
    let role = json!({"type": "AssumedRole", "accountId": "111122223333",
        "arn": "arn:aws:sts::111122223333:assumed-role/ops/s"});
    let r = rec(
        "CreateRole",
        role.clone(),
        json!({"roleName": "ci", "assumeRolePolicyDocument": trust}),
        json!({}),
    );
    assert_eq!(
        scored(&r, &p, &Enrichment::default()),
        (90, Label::Critical, vec![])
    );
    let r = rec(
        "SetDefaultPolicyVersion",
        role,
        json!({"policyArn": "arn:aws:iam::111122223333:policy/p", "versionId": "v2"}),
        json!({}),
    );
    let Verdict::Finding(d) = evaluate(&r, &p) else {
        panic!()
    };
    let (f, s) = finding(
        &d,
        &r,
        &p,
        &Enrichment::default(),
        &FindingContext::default(),
    );
    assert_eq!((s.base, s.value), (40, 40));
    assert!(
        f.description.contains("Score 40: base 40 = 40."),
        "{}",
        f.description
    );
}

#[test]
fn finding_limits() {
    let long = "x".repeat(600);
    let id = finding_id("111122223333", "iam-user-change-denied", &long);
    assert!(id.len() <= 512);
    assert_eq!(
        id,
        finding_id("111122223333", "iam-user-change-denied", &long),
        "deterministic"
    );
    assert_ne!(
        id,
        finding_id(
            "111122223333",
            "iam-user-change-denied",
            &format!("{long}y")
        )
    );
    let p = Policy::default();
    let role = json!({"type": "AssumedRole", "arn": format!("arn:aws:sts::111122223333:assumed-role/{}/s", "r".repeat(900))});
    let r = rec(
        "CreateUser",
        role,
        json!({"userName": "bob"}),
        json!({"errorCode": "AccessDenied"}),
    );
    let Verdict::Finding(d) = evaluate(&r, &p) else {
        panic!()
    };
    let (f, _) = finding(
        &d,
        &r,
        &p,
        &Enrichment::default(),
        &FindingContext::default(),
    );
    assert!(f.id.len() <= 512 && f.title.len() <= 256 && f.description.len() <= 1024);
}

#[test]
fn enrichment_gaps_are_named_on_the_finding() {
    let p = Policy::default();
    let r = create_user(user(None));
    let Verdict::Finding(d) = evaluate(&r, &p) else {
        panic!()
    };
    let e = Enrichment {
        gaps: vec!["iam: AccessDenied assuming iamwatch-member".into()],
        ..Default::default()
    };
    let (f, _) = finding(&d, &r, &p, &e, &FindingContext::default());
    assert_eq!(
        f.field(fields::ENRICHMENT),
        Some("partial: iam: AccessDenied assuming iamwatch-member")
    );
    assert!(f.description.contains("Not enriched: iam: AccessDenied"));
}
