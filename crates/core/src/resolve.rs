//! Resolving events: calls that end earlier findings (the user deleted, the key deactivated,
//! the grant removed). They file no finding; the findings they end are archived.
//!
//! Which findings a call can end is declared by each rule ([`crate::rules::RuleMeta::resolved_by`]);
//! this module reads what the call is about ([`Ends`]) and matches it against a finding's parts.

use crate::finding::{fields, Finding, FindingId, RecordState};
use crate::record::CloudTrailRecord;
use crate::time;

/// What a resolving event ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ends {
    /// Every finding about this user (DeleteUser).
    User(String),
    /// The findings about this access key (DeleteAccessKey, UpdateAccessKey Inactive).
    AccessKey(String),
    /// The findings about this user's console password (DeleteLoginProfile).
    ConsolePassword(String),
    /// The admin-access / permissions finding of this grant (DetachUserPolicy,
    /// DeleteUserPolicy, RemoveUserFromGroup).
    Grant { user: String, grant: String },
    /// Every finding about this role (DeleteRole), or those of the rules that declare the call
    /// (PutRolePermissionsBoundary ends `permissions-boundary-removed`).
    Role(String),
    /// The finding of this grant to a role (DetachRolePolicy, DeleteRolePolicy).
    RoleGrant { role: String, grant: String },
    /// Every finding about this group (DeleteGroup).
    Group(String),
    /// The finding of this grant to a group (DetachGroupPolicy, DeleteGroupPolicy).
    GroupGrant { group: String, grant: String },
    /// The findings about this identity provider (DeleteSAMLProvider,
    /// DeleteOpenIDConnectProvider).
    Provider(String),
    /// The findings about this managed policy (DeletePolicy).
    Policy(String),
    /// The findings about this credential (DeleteServiceSpecificCredential,
    /// DeleteSSHPublicKey, DeleteSigningCertificate): the finding's subject is its id.
    Credential(String),
}

/// A resolving event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub account: String,
    pub event_name: String,
    pub event_id: Option<String>,
    pub event_time: String,
    pub ends: Ends,
}

/// The resolution a successful record makes, if it is a resolving event.
pub fn resolution(r: &CloudTrailRecord) -> Option<Resolution> {
    if !r.succeeded() {
        return None;
    }
    let user = || {
        r.param("userName")
            .or_else(|| r.caller_iam_user())
            .map(str::to_string)
    };
    let ends = match r.event_name.as_str() {
        "DeleteUser" => Ends::User(r.param("userName")?.to_string()),
        "DeleteAccessKey" => Ends::AccessKey(r.param("accessKeyId")?.to_string()),
        "UpdateAccessKey" if r.param("status") == Some("Inactive") => {
            Ends::AccessKey(r.param("accessKeyId")?.to_string())
        }
        "DeleteLoginProfile" => Ends::ConsolePassword(user()?),
        "DetachUserPolicy" => Ends::Grant {
            user: r.param("userName")?.to_string(),
            grant: format!("policy:{}", r.param("policyArn")?),
        },
        "DeleteUserPolicy" => Ends::Grant {
            user: r.param("userName")?.to_string(),
            grant: format!("inline:{}", r.param("policyName")?),
        },
        "RemoveUserFromGroup" => Ends::Grant {
            user: r.param("userName")?.to_string(),
            grant: format!("group:{}", r.param("groupName")?),
        },
        // The boundary is back: ends `permissions-boundary-removed` of that user.
        "PutUserPermissionsBoundary" => Ends::User(r.param("userName")?.to_string()),
        "DeleteRole" | "PutRolePermissionsBoundary" => Ends::Role(r.param("roleName")?.to_string()),
        "DetachRolePolicy" => Ends::RoleGrant {
            role: r.param("roleName")?.to_string(),
            grant: format!("policy:{}", r.param("policyArn")?),
        },
        "DeleteRolePolicy" => Ends::RoleGrant {
            role: r.param("roleName")?.to_string(),
            grant: format!("inline:{}", r.param("policyName")?),
        },
        "DeleteGroup" => Ends::Group(r.param("groupName")?.to_string()),
        "DetachGroupPolicy" => Ends::GroupGrant {
            group: r.param("groupName")?.to_string(),
            grant: format!("policy:{}", r.param("policyArn")?),
        },
        "DeleteGroupPolicy" => Ends::GroupGrant {
            group: r.param("groupName")?.to_string(),
            grant: format!("inline:{}", r.param("policyName")?),
        },
        "DeleteSAMLProvider" => Ends::Provider(r.param("sAMLProviderArn")?.to_string()),
        "DeleteOpenIDConnectProvider" => {
            Ends::Provider(r.param("openIDConnectProviderArn")?.to_string())
        }
        "DeletePolicy" => Ends::Policy(r.param("policyArn")?.to_string()),
        "DeleteServiceSpecificCredential" => {
            Ends::Credential(r.param("serviceSpecificCredentialId")?.to_string())
        }
        "DeleteSSHPublicKey" => Ends::Credential(r.param("sSHPublicKeyId")?.to_string()),
        "DeleteSigningCertificate" => Ends::Credential(r.param("certificateId")?.to_string()),
        _ => return None,
    };
    Some(Resolution {
        account: r.account_id().to_string(),
        event_name: r.event_name.clone(),
        event_id: r.event_id.clone(),
        event_time: r.event_time.clone(),
        ends,
    })
}

impl Resolution {
    /// Whether this resolution ends `f`: an active finding of the same account, of a rule that
    /// declares this call in its `resolved_by`, about the same user, key or grant.
    pub fn ends(&self, f: &Finding) -> bool {
        if f.record_state != RecordState::Active {
            return false;
        }
        let Some(id) = FindingId::parse(&f.id) else {
            return false;
        };
        if id.account != self.account
            || !crate::rules::by_id(id.rule)
                .is_some_and(|m| m.resolved_by.contains(&self.event_name.as_str()))
        {
            return false;
        }
        // (Checked after the cheap tests above: a scan's replay asks this of every finding.)
        // Only what was observed before the call: a finding seen after it (a user re-created
        // under the same name, a resolving event delivered late or redriven from a DLQ) is
        // about something the call did not end.
        if let (Some(seen), Some(at)) = (
            time::parse_millis(&f.last_observed_at),
            time::parse_millis(&self.event_time),
        ) {
            if seen > at {
                return false;
            }
        }
        // IAM user, role and group names are unique case-insensitively.
        let same =
            |field: &str, name: &str| f.field(field).is_some_and(|v| v.eq_ignore_ascii_case(name));
        let same_grant = |grant: &str| f.field(fields::GRANT) == Some(grant);
        match &self.ends {
            Ends::User(u) | Ends::ConsolePassword(u) => same(fields::USER, u),
            Ends::AccessKey(k) => f.field(fields::ACCESS_KEY_ID) == Some(k),
            Ends::Grant { user: u, grant } => {
                same(fields::USER, u)
                    && match f.field(fields::GRANT) {
                        Some(g) => g == grant,
                        // A quarantine finding is about the user: detaching AWS's quarantine
                        // policy (the last step of its remediation) ends it, no other policy.
                        None => id.rule == crate::rules::access_key_quarantined_by_aws::META.id
                            && grant.strip_prefix("policy:").is_some_and(
                                crate::rules::access_key_quarantined_by_aws::is_quarantine_policy,
                            ),
                    }
            }
            Ends::Credential(c) => id.subject == c,
            Ends::Role(role) => same(fields::ROLE, role),
            Ends::RoleGrant { role, grant } => same(fields::ROLE, role) && same_grant(grant),
            Ends::Group(group) => same(fields::GROUP, group),
            Ends::GroupGrant { group, grant } => same(fields::GROUP, group) && same_grant(grant),
            Ends::Provider(arn) => f.field(fields::PROVIDER) == Some(arn),
            Ends::Policy(arn) => f.field(fields::POLICY) == Some(arn),
        }
    }

    /// `f` archived by this resolution. Its `UpdatedAt` moves past the current one, since
    /// Security Hub takes an update only with a newer `UpdatedAt`.
    pub fn archive(&self, f: &Finding) -> Finding {
        let mut out = f.clone();
        out.record_state = RecordState::Archived;
        out.updated_at = time::later_than(&self.event_time, &f.updated_at);
        out.product_fields.insert(
            fields::RESOLVED_BY.to_string(),
            format!(
                "{} {}",
                self.event_name,
                self.event_id.as_deref().unwrap_or("(no event id)")
            ),
        );
        out
    }
}

/// A renamed IAM user (UpdateUser with `newUserName`): the findings of the old name follow
/// the user to the new one, so that a rename never hides a finding and later events about the
/// new name (DeleteUser) end them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    pub account: String,
    pub event_id: Option<String>,
    pub event_time: String,
    /// The name before the rename.
    pub from: String,
    /// The name after it.
    pub to: String,
}

/// The rename a successful record makes, if it renames a user.
pub fn renaming(r: &CloudTrailRecord) -> Option<Rename> {
    if !r.succeeded() || r.event_name != "UpdateUser" {
        return None;
    }
    let from = r.param("userName")?;
    let to = r.param("newUserName")?;
    (from != to).then(|| Rename {
        account: r.account_id().to_string(),
        event_id: r.event_id.clone(),
        event_time: r.event_time.clone(),
        from: from.to_string(),
        to: to.to_string(),
    })
}

impl Rename {
    /// Whether the rename concerns `f`: an active finding of the same account about the old
    /// user name (IAM user names are unique case-insensitively).
    pub fn applies(&self, f: &Finding) -> bool {
        f.record_state == RecordState::Active
            && FindingId::parse(&f.id).is_some_and(|id| id.account == self.account)
            && f.field(fields::USER)
                .is_some_and(|u| u.eq_ignore_ascii_case(&self.from))
    }

    /// `f` (about the old name) re-filed under the new name: see [`rename`].
    pub fn refile(&self, f: &Finding) -> (Option<Finding>, Finding) {
        rename(f, self)
    }
}

/// Re-files a finding about a renamed user: `(archived_old, refiled_new)`.
///
/// Where the finding's subject holds the user name (a user, a grant to the user, an MFA
/// device of the user, a sign-in day), the re-filed finding has a new id with the new name,
/// and the old one comes back archived (`ResolvedBy` the UpdateUser, `RefiledAs` the new id);
/// the new one says `RenamedFrom` the old id. Where the subject does not hold the name (an
/// access key, a credential, a denied caller, and an `iam-user-renamed` finding, whose subject
/// is the name before its own rename, a fact that stays), the finding keeps its id and only
/// its user follows: no archived copy then. Either way the re-filed finding is active, about
/// the new name, and its `UpdatedAt` moves past the rename (but for the rename's own finding).
pub fn rename(f: &Finding, rn: &Rename) -> (Option<Finding>, Finding) {
    let mut new = f.clone();
    // The rename's own finding is new with the rename: no update to order after it.
    let own = rn.event_id.is_some() && f.field(fields::EVENT_ID) == rn.event_id.as_deref();
    if !own {
        new.updated_at = time::later_than(&rn.event_time, &f.updated_at);
    }
    new.product_fields
        .insert(fields::USER.to_string(), rn.to.clone());
    for res in &mut new.resources {
        let Some(d) = res.details.as_mut() else {
            continue;
        };
        if let Some(u) = d
            .aws_iam_user
            .as_mut()
            .filter(|u| u.user_name.eq_ignore_ascii_case(&rn.from))
        {
            u.user_name = rn.to.clone();
            if let Some((path, _)) = res.id.rsplit_once('/') {
                res.id = format!("{path}/{}", rn.to);
            }
        }
        if let Some(k) = d.aws_iam_access_key.as_mut() {
            if k.principal_name
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case(&rn.from))
            {
                k.principal_name = Some(rn.to.clone());
            }
        }
    }
    let event = format!(
        "UpdateUser {}",
        rn.event_id.as_deref().unwrap_or("(no event id)")
    );
    let parsed = FindingId::parse(&f.id);
    let new_subject = parsed.and_then(|id| {
        if id.rule == crate::rules::iam_user_renamed::META.id {
            return None;
        }
        let rest = if id.subject.eq_ignore_ascii_case(&rn.from) {
            ""
        } else {
            let (head, rest) = id.subject.split_once('/')?;
            if !head.eq_ignore_ascii_case(&rn.from) {
                return None;
            }
            rest
        };
        Some((id, rest))
    });
    let Some((id, rest)) = new_subject else {
        return (None, new);
    };
    let subject = if rest.is_empty() {
        rn.to.clone()
    } else {
        format!("{}/{rest}", rn.to)
    };
    new.id = FindingId {
        account: id.account,
        rule: id.rule,
        subject: &subject,
    }
    .to_string();
    if let Some(m) = crate::rules::by_id(id.rule) {
        new.title = crate::finding::truncate(
            &format!("{}: {subject}", m.title),
            crate::finding::MAX_TITLE,
        );
    }
    new.product_fields
        .insert(fields::RENAMED_FROM.to_string(), f.id.clone());
    let mut old = f.clone();
    old.record_state = RecordState::Archived;
    old.updated_at = new.updated_at.clone();
    old.product_fields
        .insert(fields::RESOLVED_BY.to_string(), event);
    old.product_fields
        .insert(fields::REFILED_AS.to_string(), new.id.clone());
    (Some(old), new)
}

#[cfg(test)]
mod tests {
    use super::{renaming, resolution};
    use crate::rules::testing::record;
    use serde_json::json;

    /// Every call a rule declares in `resolved_by` is read as a resolution here, and no other.
    #[test]
    fn every_declared_resolving_call_resolves() {
        let params = json!({"userName": "bob", "accessKeyId": "AKIA1", "status": "Inactive",
                            "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
                            "policyName": "p", "groupName": "g", "roleName": "r",
                            "sAMLProviderArn": "arn:aws:iam::111122223333:saml-provider/s",
                            "openIDConnectProviderArn":
                                "arn:aws:iam::111122223333:oidc-provider/o",
                            "permissionsBoundary": "arn:aws:iam::aws:policy/PowerUserAccess",
                            "policyDocument": "{}", "assumeRolePolicyDocument": "{}",
                            "serviceSpecificCredentialId": "ACCA1", "sSHPublicKeyId": "APKA1",
                            "certificateId": "CERT1"});
        for name in crate::rules::resolving_event_names() {
            assert!(
                resolution(&record(name, params.clone())).is_some(),
                "{name} is declared by a rule but not read"
            );
        }
        for name in crate::rules::firing_event_names() {
            if !crate::rules::resolving_event_names().contains(name) {
                assert!(
                    resolution(&record(name, params.clone())).is_none(),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn renames_are_read_from_update_user() {
        let r = record(
            "UpdateUser",
            json!({"userName": "bob", "newUserName": "robert"}),
        );
        let rn = renaming(&r).unwrap();
        assert_eq!((rn.from.as_str(), rn.to.as_str()), ("bob", "robert"));
        assert_eq!(rn.account, "111122223333");
        assert_eq!(
            renaming(&record(
                "UpdateUser",
                json!({"userName": "bob", "newPath": "/x/"})
            )),
            None
        );
        assert_eq!(
            renaming(&record(
                "UpdateUser",
                json!({"userName": "bob", "newUserName": "bob"})
            )),
            None
        );
        assert_eq!(
            renaming(&record(
                "CreateUser",
                json!({"userName": "bob", "newUserName": "x"})
            )),
            None
        );
    }

    /// The pure re-filing the pipeline calls: which findings follow and how.
    #[test]
    fn rename_refiles_by_subject() {
        use super::{rename, Rename};
        use crate::build::FindingContext;
        use crate::engine::{evaluate, finding, Verdict};
        use crate::enrich::Enrichment;
        use crate::finding::{fields, RecordState};
        use crate::rules::testing::{sign_in, with_identity};
        use crate::Policy;
        let p = Policy::default();
        let made = |r: crate::record::CloudTrailRecord| {
            let Verdict::Finding(d) = evaluate(&r, &p) else {
                panic!("{}", r.event_name)
            };
            finding(
                &d,
                &r,
                &p,
                &Enrichment::default(),
                &FindingContext::default(),
            )
            .0
        };
        let rn = Rename {
            account: "111122223333".into(),
            event_id: Some("ev-r".into()),
            event_time: "2026-11-03T00:00:00Z".into(),
            from: "Bob".into(),
            to: "robert".into(),
        };
        // The subject holds the name: new id, old one archived.
        let bob = json!({"type": "IAMUser", "userName": "bob", "accountId": "111122223333",
                         "arn": "arn:aws:iam::111122223333:user/ops/bob"});
        let f = made(sign_in(bob, "Success", "No"));
        assert!(rn.applies(&f), "user names are case-insensitive");
        let (old, new) = rename(&f, &rn);
        let old = old.unwrap();
        assert_eq!(
            new.id,
            "iamwatch/111122223333/console-login-without-mfa/robert/2026-11-01"
        );
        assert_eq!(new.resources[0].id, "arn:aws:iam::111122223333:user/robert");
        assert_eq!(
            (old.id.as_str(), old.record_state),
            (f.id.as_str(), RecordState::Archived)
        );
        assert_eq!(old.field(fields::RESOLVED_BY), Some("UpdateUser ev-r"));
        assert_eq!(new.record_state, RecordState::Active);
        // The subject does not hold the name (a credential): same id, the user follows.
        let f = made(with_identity(
            "UploadSSHPublicKey",
            json!({"userName": "bob"}),
            json!({"type": "Root", "accountId": "111122223333"}),
        ));
        let (old, new) = rename(&f, &rn);
        assert_eq!((old, new.id.as_str()), (None, f.id.as_str()));
        assert_eq!(new.field(fields::USER), Some("robert"));
        // Another account, another user, or an archived finding: not concerned.
        let mut other = f.clone();
        other
            .product_fields
            .insert(fields::USER.into(), "bobby".into());
        assert!(!rn.applies(&other));
        let mut archived = f.clone();
        archived.record_state = RecordState::Archived;
        assert!(!rn.applies(&archived));
        let elsewhere = Rename {
            account: "444455556666".into(),
            ..rn.clone()
        };
        assert!(!elsewhere.applies(&f));
    }

    /// A resolving event ends only findings observed before it: a DeleteUser delivered after
    /// the user was created again (or redriven from a DLQ days later) leaves the new one.
    #[test]
    fn only_findings_observed_before_the_call_end() {
        use crate::engine::{evaluate, finding, Verdict};
        use crate::{Enrichment, FindingContext, Policy};
        let policy = Policy::default();
        let created = |at: &str| {
            let mut r = record("CreateUser", json!({"userName": "bob"}));
            r.event_time = at.to_string();
            let Verdict::Finding(d) = evaluate(&r, &policy) else {
                panic!("a finding")
            };
            finding(
                &d,
                &r,
                &policy,
                &Enrichment::default(),
                &FindingContext::default(),
            )
            .0
        };
        let mut delete = record("DeleteUser", json!({"userName": "bob"}));
        delete.event_time = "2026-11-01T12:00:00Z".to_string();
        let res = resolution(&delete).unwrap();
        assert!(res.ends(&created("2026-11-01T11:00:00Z")));
        assert!(
            res.ends(&created("2026-11-01T12:00:00Z")),
            "the same instant"
        );
        assert!(
            !res.ends(&created("2026-11-01T13:00:00Z")),
            "re-created after the delete"
        );
    }
}
