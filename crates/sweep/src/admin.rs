//! Whether a user is admin, and through what: the policy's `admin_policies` and `admin_groups`,
//! and any policy document (inline, or the account's own managed policy) that the core's
//! [`iamwatch_core::policy_document`] reads as admin, attached to the user or to one of its
//! groups.

use crate::ports::{Authorization, PolicyText, UserAuth};
use iamwatch_core::policy_document::document_allows_admin;
use iamwatch_core::Policy;
use std::collections::BTreeMap;

/// What makes one user admin, each entry naming its way (`policy <arn>`, `inline <name>`,
/// `group <name>`, `group <name>: policy <arn>`, `group <name>: inline <name>`), sorted.
pub fn admin_via(user: &UserAuth, auth: &Authorization, policy: &Policy) -> Vec<String> {
    let managed_is_admin = |arn: &str| {
        policy.admin_policies.iter().any(|p| p == arn)
            || auth
                .managed
                .get(arn)
                .is_some_and(|doc| document_allows_admin(doc))
    };
    let inline_admin = |list: &[PolicyText]| -> Vec<String> {
        list.iter()
            .filter(|p| document_allows_admin(&p.document))
            .map(|p| format!("inline {}", p.name))
            .collect()
    };
    let mut out: Vec<String> = user
        .attached
        .iter()
        .filter(|a| managed_is_admin(a))
        .map(|a| format!("policy {a}"))
        .collect();
    out.extend(inline_admin(&user.inline));
    let groups: BTreeMap<&str, _> = auth.groups.iter().map(|g| (g.name.as_str(), g)).collect();
    for g in &user.groups {
        if policy.admin_groups.iter().any(|a| a == g) {
            out.push(format!("group {g}"));
        }
        if let Some(group) = groups.get(g.as_str()) {
            out.extend(
                group
                    .attached
                    .iter()
                    .filter(|a| managed_is_admin(a))
                    .map(|a| format!("group {g}: policy {a}")),
            );
            out.extend(
                inline_admin(&group.inline)
                    .into_iter()
                    .map(|i| format!("group {g}: {i}")),
            );
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::GroupAuth;

    const ADMIN_DOC: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    const READ_DOC: &str = r#"{"Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}"#;

    fn text(name: &str, doc: &str) -> PolicyText {
        PolicyText {
            name: name.into(),
            document: doc.into(),
        }
    }

    #[test]
    fn every_way_to_admin_is_named_and_reads_are_not() {
        let auth = Authorization {
            users: vec![],
            groups: vec![
                GroupAuth {
                    name: "Ops".into(),
                    attached: vec!["arn:aws:iam::1:policy/Own".into()],
                    inline: vec![text("g-inline", ADMIN_DOC), text("g-read", READ_DOC)],
                },
                GroupAuth {
                    name: "Readers".into(),
                    attached: vec!["arn:aws:iam::1:policy/Read".into()],
                    inline: vec![],
                },
            ],
            managed: [
                ("arn:aws:iam::1:policy/Own".to_string(), ADMIN_DOC.into()),
                ("arn:aws:iam::1:policy/Read".to_string(), READ_DOC.into()),
            ]
            .into(),
        };
        let policy = Policy {
            admin_groups: vec!["Breakglass".into()],
            ..Policy::default()
        };
        // URL-encoded, as GetAccountAuthorizationDetails returns documents.
        let encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22iam%3A*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D";
        let user = UserAuth {
            name: "bob".into(),
            groups: vec!["Ops".into(), "Readers".into(), "Breakglass".into()],
            attached: vec![
                "arn:aws:iam::aws:policy/AdministratorAccess".into(),
                "arn:aws:iam::1:policy/Read".into(),
            ],
            inline: vec![text("mine", encoded), text("reads", READ_DOC)],
            ..UserAuth::default()
        };
        assert_eq!(
            admin_via(&user, &auth, &policy),
            [
                "group Breakglass",
                "group Ops: inline g-inline",
                "group Ops: policy arn:aws:iam::1:policy/Own",
                "inline mine",
                "policy arn:aws:iam::aws:policy/AdministratorAccess",
            ]
        );
        let reader = UserAuth {
            name: "r".into(),
            groups: vec!["Readers".into()],
            inline: vec![text("reads", READ_DOC)],
            ..UserAuth::default()
        };
        assert!(admin_via(&reader, &auth, &policy).is_empty());
    }
}
