//! The detection rules: one rule per file, the file stem is the rule id.
//!
//! A rule looks at one successful (or, for `iam-user-change-denied`, denied) CloudTrail IAM
//! record and says whether it is a finding, about what subject. Scoring is not the rule's
//! business ([`crate::score`]); neither is ending findings ([`crate::resolve`]).

use crate::policy::Policy;
use crate::record::CloudTrailRecord;
pub use crate::subject::{Grant, Subject};
use std::collections::BTreeSet;
use std::sync::OnceLock;

#[path = "access-key-created.rs"]
mod access_key_created;
#[path = "access-key-created-for-other-user.rs"]
mod access_key_created_for_other_user;
#[path = "access-key-quarantined-by-aws.rs"]
pub(crate) mod access_key_quarantined_by_aws;
#[path = "access-key-reactivated.rs"]
mod access_key_reactivated;
#[path = "admin-access-granted-to-group.rs"]
mod admin_access_granted_to_group;
#[path = "admin-access-granted-to-role.rs"]
mod admin_access_granted_to_role;
#[path = "admin-access-granted-to-user.rs"]
mod admin_access_granted_to_user;
#[path = "console-login-without-mfa.rs"]
mod console_login_without_mfa;
#[path = "console-password-changed-for-other-user.rs"]
mod console_password_changed_for_other_user;
#[path = "console-password-created.rs"]
mod console_password_created;
#[path = "iam-user-change-denied.rs"]
mod iam_user_change_denied;
#[path = "iam-user-created.rs"]
mod iam_user_created;
#[path = "iam-user-renamed.rs"]
pub(crate) mod iam_user_renamed;
#[path = "identity-provider-changed.rs"]
mod identity_provider_changed;
#[path = "managed-policy-made-admin.rs"]
mod managed_policy_made_admin;
#[path = "mfa-device-deactivated.rs"]
mod mfa_device_deactivated;
#[path = "permissions-boundary-removed.rs"]
mod permissions_boundary_removed;
#[path = "role-trust-opened.rs"]
mod role_trust_opened;
#[path = "root-access-key-created.rs"]
mod root_access_key_created;
#[path = "root-console-login.rs"]
mod root_console_login;
#[path = "user-credential-created.rs"]
mod user_credential_created;
#[path = "user-permissions-changed.rs"]
mod user_permissions_changed;

/// Whether a rule looks at successful calls or at denied ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Successful calls of `event_names`.
    Success,
    /// Denied calls of every event name that the success rules watch (`event_names` is empty).
    Denied,
}

/// What a rule is: its id, score and documentation, kept beside its logic. Everything else
/// that lists rules (ids, event names, resolving events, the CDK's forwarding rules, the
/// runbook checker) is derived from [`RULES`] through these.
#[derive(Debug, PartialEq, Eq)]
pub struct RuleMeta {
    /// Kebab-case id: file stem, sample event, runbook, GeneratorId `iamwatch/<id>`.
    pub id: &'static str,
    /// Short title; the finding's title is `<title>: <subject>`.
    pub title: &'static str,
    /// Base score before factors.
    pub base: u8,
    /// The CloudTrail `eventSource` of the calls the rule looks at (one of [`crate::sources`]).
    pub event_source: &'static str,
    /// The CloudTrail event names the rule looks at (empty for [`Outcome::Denied`]: see there).
    pub event_names: &'static [&'static str],
    /// Successful or denied calls.
    pub outcome: Outcome,
    /// The calls that end this rule's findings ([`crate::resolve`] says how each matches).
    pub resolved_by: &'static [&'static str],
    /// ASFF `Types`.
    pub types: &'static [&'static str],
    /// What the finding means and why it matters (goes into the recommendation text).
    pub recommendation: &'static str,
    /// MITRE ATT&CK technique ids.
    pub attack: &'static [&'static str],
}

impl RuleMeta {
    /// The event names this rule reads: its own, or for a denial rule every success rule's.
    pub fn watched_event_names(&self) -> Vec<&'static str> {
        match self.outcome {
            Outcome::Success => self.event_names.to_vec(),
            Outcome::Denied => sorted_unique(
                metas()
                    .filter(|m| {
                        m.outcome == Outcome::Success && m.event_source == self.event_source
                    })
                    .flat_map(|m| m.event_names.iter().copied()),
            ),
        }
    }
}

/// A rule's verdict on a record: a finding about `subject`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub rule: &'static RuleMeta,
    /// What the finding is about; its key is the part of the finding id after the rule id.
    pub subject: Subject,
    /// One sentence of what happened, without the actor: "created IAM user alice".
    pub summary: String,
    /// The base score of this detection when it is not the rule's: for rules whose base
    /// depends on what the record shows (`role-trust-opened`: 90 for anyone, 70 for an outside
    /// account; `managed-policy-made-admin`: 40 when the content is unknown). `None` for most
    /// rules: [`crate::score`] then starts from [`RuleMeta::base`].
    pub base_override: Option<u8>,
}

impl Detection {
    /// The base score this detection starts from.
    pub fn base(&self) -> u8 {
        self.base_override.unwrap_or(self.rule.base)
    }
}

/// What a rule may know beside the record: the policy, and the organization's accounts when
/// they are known (from enrichment in the pipeline, from `--org` in the scanner).
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub policy: &'a Policy,
    pub org_accounts: Option<&'a BTreeSet<String>>,
}

impl<'a> Context<'a> {
    /// A context with the policy only: the organization's accounts are unknown.
    pub fn new(policy: &'a Policy) -> Self {
        Context {
            policy,
            org_accounts: None,
        }
    }

    /// A context with the organization's accounts when they are known (`None`: unknown).
    pub fn with_org(policy: &'a Policy, org_accounts: Option<&'a BTreeSet<String>>) -> Self {
        Context {
            policy,
            org_accounts,
        }
    }

    /// The same context knowing the organization's accounts.
    pub fn with_org_accounts(self, accounts: &'a BTreeSet<String>) -> Self {
        Context {
            org_accounts: Some(accounts),
            ..self
        }
    }

    /// Whether `account` is in the organization: `None` when the accounts are unknown.
    pub fn in_org(&self, account: &str) -> Option<bool> {
        self.org_accounts.map(|a| a.contains(account))
    }
}

/// A detection rule.
pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    /// The finding this record makes under this rule, if any.
    fn detect(&self, record: &CloudTrailRecord, cx: &Context) -> Option<Detection>;
    /// Scoring factors ([`crate::score::FACTORS`] ids) that never apply to this rule's
    /// findings, because the rule's own condition is what the factor measures (the sign-in
    /// rules and `no-mfa`).
    fn skipped_factors(&self) -> &'static [&'static str] {
        &[]
    }
}

/// Every rule, in the order they are tried; for a record at most one fires. This is the one
/// list of rules: adding a rule is adding its file and one line here.
pub static RULES: &[&dyn Rule] = &[
    &iam_user_created::Rule,
    &iam_user_renamed::Rule,
    &root_access_key_created::Rule,
    &access_key_created_for_other_user::Rule,
    &access_key_created::Rule,
    &console_password_created::Rule,
    &console_password_changed_for_other_user::Rule,
    &user_credential_created::Rule,
    // Before the user-grant rules: AWS's quarantine policy replaces user-permissions-changed.
    &access_key_quarantined_by_aws::Rule,
    &admin_access_granted_to_user::Rule,
    &user_permissions_changed::Rule,
    &mfa_device_deactivated::Rule,
    &access_key_reactivated::Rule,
    &role_trust_opened::Rule,
    &admin_access_granted_to_group::Rule,
    &admin_access_granted_to_role::Rule,
    &managed_policy_made_admin::Rule,
    &identity_provider_changed::Rule,
    &permissions_boundary_removed::Rule,
    &root_console_login::Rule,
    &console_login_without_mfa::Rule,
    &iam_user_change_denied::Rule,
];

/// Every rule's metadata, in [`RULES`] order.
pub fn metas() -> impl Iterator<Item = &'static RuleMeta> {
    RULES.iter().map(|r| r.meta())
}

/// Every rule id, in [`RULES`] order.
pub fn ids() -> Vec<&'static str> {
    metas().map(|m| m.id).collect()
}

fn sorted_unique(names: impl Iterator<Item = &'static str>) -> Vec<&'static str> {
    let mut v: Vec<&str> = names.collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The calls that make findings (their denied attempts make `iam-user-change-denied`), sorted.
pub fn firing_event_names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        sorted_unique(
            metas()
                .filter(|m| m.outcome == Outcome::Success)
                .flat_map(|m| m.event_names.iter().copied()),
        )
    })
}

/// The calls that end findings, sorted.
pub fn resolving_event_names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| sorted_unique(metas().flat_map(|m| m.resolved_by.iter().copied())))
}

/// Whether `event_name` is a call iamwatch reads (a firing or a resolving one).
pub fn in_scope(event_name: &str) -> bool {
    firing_event_names().contains(&event_name) || resolving_event_names().contains(&event_name)
}

/// Every CloudTrail event name iamwatch reads: the firing calls and the resolving ones, sorted.
/// The CDK app's EventBridge rules use exactly this list (`cdk/lib/rules.json`).
pub fn in_scope_event_names() -> Vec<&'static str> {
    sorted_unique(
        firing_event_names()
            .iter()
            .chain(resolving_event_names())
            .copied(),
    )
}

/// The rule with this id.
pub fn by_id(id: &str) -> Option<&'static RuleMeta> {
    metas().find(|m| m.id == id)
}

/// The scoring factors that never apply to this rule's findings ([`Rule::skipped_factors`]).
pub fn skipped_factors(meta: &RuleMeta) -> &'static [&'static str] {
    RULES
        .iter()
        .find(|r| r.meta().id == meta.id)
        .map_or(&[], |r| r.skipped_factors())
}

impl Policy {
    /// Parses and validates policy TOML against this catalog's rule ids and the inventory's
    /// hygiene rule ids; `file` names the source in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Policy, crate::policy::PolicyError> {
        Policy::from_toml_with_rules(text, file, &crate::inventory::all_rule_ids())
    }
}

/// The first rule that fires on this record, knowing only the policy.
pub fn detect(record: &CloudTrailRecord, policy: &Policy) -> Option<Detection> {
    detect_in(record, &Context::new(policy))
}

/// The first rule that fires on this record in this context.
pub fn detect_in(record: &CloudTrailRecord, cx: &Context) -> Option<Detection> {
    RULES.iter().find_map(|r| r.detect(record, cx))
}

// Helpers shared by the rules.

/// The successful call of one of `names`.
pub(crate) fn succeeded(record: &CloudTrailRecord, names: &[&str]) -> bool {
    record.succeeded() && names.contains(&record.event_name.as_str())
}

/// The target user of a call that may omit `userName` (then it acts on the caller).
pub(crate) fn target_or_caller(record: &CloudTrailRecord) -> Option<String> {
    record
        .param("userName")
        .or_else(|| record.caller_iam_user())
        .map(str::to_string)
        .or_else(|| {
            (record.identity_type() == crate::record::IdentityType::Root).then(|| "root".into())
        })
}

/// The access key id CreateAccessKey returned (or a stand-in when a log redacts it).
pub(crate) fn created_key_id(record: &CloudTrailRecord) -> Option<String> {
    record
        .response("/accessKey/accessKeyId")
        .map(str::to_string)
        .or_else(|| stand_in(record, "key"))
}

/// A stand-in for a name a malformed record does not give (`requestParameters: null`, a
/// redacted response): `unknown-<what>-<eventID>`, unique per event, so that two unrelated
/// malformed events never share a subject. `None` without an eventID: then the rule makes no
/// finding and [`crate::engine::unreadable`] reports the record instead.
pub(crate) fn stand_in(record: &CloudTrailRecord, what: &str) -> Option<String> {
    record
        .event_id
        .as_deref()
        .map(|id| format!("unknown-{what}-{id}"))
}

/// Every file of `dir` (a folder of the crate) but `mod.rs` is a rule registered in `ids` under
/// its stem, and every registered rule has its file, once: a catalog cannot miss a rule.
#[cfg(test)]
pub(crate) fn assert_rule_files_registered(dir: &str, ids: &[&str]) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut stems: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|s| s != "mod")
        .collect();
    stems.sort();
    let mut registered: Vec<String> = ids.iter().copied().map(String::from).collect();
    registered.sort();
    assert_eq!(stems, registered, "rule files vs RULES");
    let mut unique = registered.clone();
    unique.dedup();
    assert_eq!(unique, registered, "a rule id registered twice");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of `src/rules/` but `mod.rs` is a rule registered in [`RULES`] under its stem,
    /// and every registered rule has its file: the catalog cannot miss a rule.
    #[test]
    fn every_rule_file_is_registered() {
        assert_rule_files_registered("src/rules", &ids());
    }

    #[test]
    fn ids_are_kebab_case_and_metadata_is_complete() {
        for m in metas() {
            assert!(
                m.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit()),
                "{}",
                m.id
            );
            assert!(
                !m.title.is_empty() && !m.types.is_empty() && !m.attack.is_empty(),
                "{}",
                m.id
            );
            assert!(
                !m.watched_event_names().is_empty(),
                "{} watches no call",
                m.id
            );
            assert_eq!(
                m.event_names.is_empty(),
                m.outcome == Outcome::Denied,
                "{}: only a denial rule takes its names from the others",
                m.id
            );
        }
    }

    #[test]
    fn derived_lists() {
        assert_eq!(
            firing_event_names(),
            [
                "AddClientIDToOpenIDConnectProvider",
                "AddUserToGroup",
                "AttachGroupPolicy",
                "AttachRolePolicy",
                "AttachUserPolicy",
                "ConsoleLogin",
                "CreateAccessKey",
                "CreateLoginProfile",
                "CreateOpenIDConnectProvider",
                "CreatePolicyVersion",
                "CreateRole",
                "CreateSAMLProvider",
                "CreateServiceSpecificCredential",
                "CreateUser",
                "DeactivateMFADevice",
                "DeleteRolePermissionsBoundary",
                "DeleteUserPermissionsBoundary",
                "DeleteVirtualMFADevice",
                "PutGroupPolicy",
                "PutRolePolicy",
                "PutUserPolicy",
                "SetDefaultPolicyVersion",
                "UpdateAccessKey",
                "UpdateAssumeRolePolicy",
                "UpdateLoginProfile",
                "UpdateOpenIDConnectProviderThumbprint",
                "UpdateSAMLProvider",
                "UpdateUser",
                "UploadSSHPublicKey",
                "UploadSigningCertificate",
            ]
        );
        assert_eq!(
            resolving_event_names(),
            [
                "DeleteAccessKey",
                "DeleteGroup",
                "DeleteGroupPolicy",
                "DeleteLoginProfile",
                "DeleteOpenIDConnectProvider",
                "DeletePolicy",
                "DeleteRole",
                "DeleteRolePolicy",
                "DeleteSAMLProvider",
                "DeleteSSHPublicKey",
                "DeleteServiceSpecificCredential",
                "DeleteSigningCertificate",
                "DeleteUser",
                "DeleteUserPolicy",
                "DetachGroupPolicy",
                "DetachRolePolicy",
                "DetachUserPolicy",
                "PutRolePermissionsBoundary",
                "PutUserPermissionsBoundary",
                "RemoveUserFromGroup",
                "UpdateAccessKey",
            ]
        );
        assert!(in_scope("DeleteUser") && in_scope("CreateUser") && !in_scope("GetUser"));
        assert_eq!(by_id("iam-user-created").map(|m| m.base), Some(40));
    }

    #[test]
    fn stand_ins_are_unique_per_event() {
        let a = testing::record("CreateUser", serde_json::json!(null));
        let mut b = a.clone();
        b.event_id = Some("e-2".into());
        assert_eq!(stand_in(&a, "user").as_deref(), Some("unknown-user-e-1"));
        assert_ne!(stand_in(&a, "user"), stand_in(&b, "user"));
        b.event_id = None;
        assert_eq!(stand_in(&b, "user"), None);
    }

    #[test]
    fn only_the_sign_in_rules_skip_no_mfa() {
        for m in metas() {
            let skipped = skipped_factors(m);
            let sign_in = m.event_source == crate::sources::SIGNIN;
            assert_eq!(skipped == ["no-mfa"], sign_in, "{}", m.id);
            assert!(sign_in || skipped.is_empty(), "{}", m.id);
            for f in skipped {
                assert!(
                    crate::score::FACTORS.iter().any(|x| x.id == *f),
                    "{}: {f}",
                    m.id
                );
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use crate::record::CloudTrailRecord;
    use serde_json::{json, Value};

    /// A successful IAM call by the IAM user `alice` of account 111122223333.
    pub fn record(event_name: &str, params: Value) -> CloudTrailRecord {
        with_identity(
            event_name,
            params,
            json!({"type": "IAMUser", "userName": "alice", "accountId": "111122223333",
                   "arn": "arn:aws:iam::111122223333:user/alice", "principalId": "AIDAEXAMPLE"}),
        )
    }

    pub fn with_identity(event_name: &str, params: Value, identity: Value) -> CloudTrailRecord {
        serde_json::from_value(json!({
            "eventVersion": "1.09", "eventTime": "2026-11-01T10:00:00Z",
            "eventSource": "iam.amazonaws.com", "eventName": event_name,
            "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.10",
            "userIdentity": identity, "requestParameters": params,
            "responseElements": null, "eventID": "e-1", "recipientAccountId": "111122223333"
        }))
        .unwrap()
    }

    pub fn root(event_name: &str, params: Value) -> CloudTrailRecord {
        with_identity(
            event_name,
            params,
            json!({"type": "Root", "accountId": "111122223333",
                   "arn": "arn:aws:iam::111122223333:root", "principalId": "111122223333"}),
        )
    }

    pub fn role(event_name: &str, params: Value) -> CloudTrailRecord {
        with_identity(
            event_name,
            params,
            json!({"type": "AssumedRole", "accountId": "111122223333",
                   "arn": "arn:aws:sts::111122223333:assumed-role/deployer/s1",
                   "sessionContext": {"sessionIssuer": {"type": "Role",
                       "arn": "arn:aws:iam::111122223333:role/deployer"},
                       "attributes": {"mfaAuthenticated": "false"}}}),
        )
    }

    /// A `ConsoleLogin` record as CloudTrail writes it: `requestParameters` null, the outcome
    /// in `responseElements.ConsoleLogin`, `MFAUsed` in `additionalEventData`.
    pub fn sign_in(identity: Value, outcome: &str, mfa_used: &str) -> CloudTrailRecord {
        serde_json::from_value(json!({
            "eventVersion": "1.08", "eventTime": "2026-11-01T10:00:00Z",
            "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
            "awsRegion": "eu-west-1", "sourceIPAddress": "203.0.113.10",
            "userIdentity": identity, "requestParameters": null,
            "responseElements": {"ConsoleLogin": outcome},
            "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home",
                                    "MobileVersion": "No", "MFAUsed": mfa_used},
            "eventID": "e-1", "eventType": "AwsConsoleSignIn",
            "recipientAccountId": "111122223333"
        }))
        .unwrap()
    }

    pub fn alice() -> Value {
        json!({"type": "IAMUser", "userName": "alice", "accountId": "111122223333",
               "arn": "arn:aws:iam::111122223333:user/alice", "principalId": "AIDAEXAMPLE"})
    }

    pub fn root_identity() -> Value {
        json!({"type": "Root", "accountId": "111122223333",
               "arn": "arn:aws:iam::111122223333:root", "principalId": "111122223333"})
    }

    pub fn failed(mut r: CloudTrailRecord, code: &str) -> CloudTrailRecord {
        r.error_code = Some(code.to_string());
        r
    }

    pub fn with_response(mut r: CloudTrailRecord, resp: Value) -> CloudTrailRecord {
        r.response_elements = Some(resp);
        r
    }
}
