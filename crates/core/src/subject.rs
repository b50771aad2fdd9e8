//! What a finding is about: a user, an access key, a grant to a principal, an MFA device, a
//! caller's denied calls of one day... One type for every rule, so that a rule about roles,
//! groups, identity providers, policies or a whole account fits without new slots.
//!
//! A subject has two faces: [`Subject::key`], the part of the finding id after the rule id
//! (stable: changing it changes finding ids), and the typed parts that scoring, resources and
//! resolution read ([`Subject::user`], [`Subject::access_key_id`], [`Subject::grant`]).

use std::fmt;

/// A permission given to a principal: a managed policy, an inline policy or a group membership.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Grant {
    /// A managed policy, by ARN.
    ManagedPolicy(String),
    /// An inline policy, by name.
    InlinePolicy(String),
    /// Membership of a group, by name.
    Group(String),
}

impl Grant {
    /// Parses the stored form (`policy:<arn>`, `inline:<name>`, `group:<name>`).
    pub fn parse(s: &str) -> Option<Grant> {
        let (kind, v) = s.split_once(':')?;
        match kind {
            "policy" => Some(Grant::ManagedPolicy(v.to_string())),
            "inline" => Some(Grant::InlinePolicy(v.to_string())),
            "group" => Some(Grant::Group(v.to_string())),
            _ => None,
        }
    }

    /// Words for a summary: "managed policy arn:...", "inline policy x", "group g".
    pub fn describe(&self) -> String {
        match self {
            Grant::ManagedPolicy(arn) => format!("managed policy {arn}"),
            Grant::InlinePolicy(name) => format!("inline policy {name}"),
            Grant::Group(name) => format!("group {name}"),
        }
    }
}

/// `policy:<arn>`, `inline:<name>` or `group:<name>`: the form kept on findings
/// (`ProductFields."iamwatch/Grant"`) and in subjects.
impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grant::ManagedPolicy(arn) => write!(f, "policy:{arn}"),
            Grant::InlinePolicy(name) => write!(f, "inline:{name}"),
            Grant::Group(name) => write!(f, "group:{name}"),
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// An IAM user by name; `root` for the root user.
    User(String),
    /// An access key, with its user when known.
    AccessKey { id: String, user: Option<String> },
    /// A grant to an IAM user.
    UserGrant { user: String, grant: Grant },
    /// An MFA device, with its user when known.
    MfaDevice {
        serial: String,
        user: Option<String>,
    },
    /// A caller's denied calls of one UTC day; `target` is the user the calls were about.
    DeniedCaller {
        caller: String,
        day: String,
        target: Option<String>,
    },
    /// A credential of a user other than a password or access key (service-specific
    /// credential, SSH public key, signing certificate), by id.
    Credential { id: String, user: Option<String> },
    /// A user's (or `root`'s) sign-ins of one UTC day.
    UserDay { user: String, day: String },
    /// An IAM role by name.
    Role(String),
    /// A grant to an IAM role.
    RoleGrant { role: String, grant: Grant },
    /// An IAM group by name.
    Group(String),
    /// A grant to an IAM group.
    GroupGrant { group: String, grant: Grant },
    /// A SAML or OIDC identity provider by ARN.
    IdentityProvider(String),
    /// A managed policy by ARN.
    Policy(String),
    /// A whole account by id.
    Account(String),
    /// An access key of a user as the credential report names it: by slot (`1` or `2`), and
    /// by id when a live read gave it. Its key is `<user>/<id>`, or `<user>/<slot>` offline.
    UserAccessKey {
        user: String,
        id: Option<String>,
        slot: u8,
    },
}

impl Subject {
    /// The part of the finding id after the rule id: `iamwatch/<account>/<rule>/<key>`.
    pub fn key(&self) -> String {
        match self {
            Subject::User(name) => name.clone(),
            Subject::AccessKey { id, .. } => id.clone(),
            Subject::UserGrant { user, grant } => format!("{user}/{grant}"),
            Subject::MfaDevice { serial, user } => {
                format!("{}/{serial}", user.as_deref().unwrap_or("unknown-user"))
            }
            Subject::DeniedCaller { caller, day, .. } => format!("{caller}/{day}"),
            Subject::Credential { id, .. } => id.clone(),
            Subject::UserDay { user, day } => format!("{user}/{day}"),
            Subject::Role(name) | Subject::Group(name) => name.clone(),
            Subject::RoleGrant { role: name, grant }
            | Subject::GroupGrant { group: name, grant } => {
                format!("{name}/{grant}")
            }
            Subject::IdentityProvider(arn) | Subject::Policy(arn) => arn.clone(),
            Subject::Account(id) => id.clone(),
            Subject::UserAccessKey { user, id, slot } => match id {
                Some(id) => format!("{user}/{id}"),
                None => format!("{user}/{slot}"),
            },
        }
    }

    /// The IAM user the finding is about (`root` for the root user), when there is one.
    pub fn user(&self) -> Option<&str> {
        match self {
            Subject::User(name) => Some(name),
            Subject::AccessKey { user, .. }
            | Subject::MfaDevice { user, .. }
            | Subject::Credential { user, .. } => user.as_deref(),
            Subject::UserGrant { user, .. }
            | Subject::UserDay { user, .. }
            | Subject::UserAccessKey { user, .. } => Some(user),
            Subject::DeniedCaller { target, .. } => target.as_deref(),
            _ => None,
        }
    }

    /// The access key the finding is about.
    pub fn access_key_id(&self) -> Option<&str> {
        match self {
            Subject::AccessKey { id, .. } => Some(id),
            Subject::UserAccessKey { id, .. } => id.as_deref(),
            _ => None,
        }
    }

    /// The grant the finding is about.
    pub fn grant(&self) -> Option<&Grant> {
        match self {
            Subject::UserGrant { grant, .. }
            | Subject::RoleGrant { grant, .. }
            | Subject::GroupGrant { grant, .. } => Some(grant),
            _ => None,
        }
    }

    /// The IAM role the finding is about.
    pub fn role(&self) -> Option<&str> {
        match self {
            Subject::Role(name) | Subject::RoleGrant { role: name, .. } => Some(name),
            _ => None,
        }
    }

    /// The IAM group the finding is about.
    pub fn group(&self) -> Option<&str> {
        match self {
            Subject::Group(name) | Subject::GroupGrant { group: name, .. } => Some(name),
            _ => None,
        }
    }

    /// The managed policy (ARN) the finding is about; a policy granted to a principal is its
    /// [`Subject::grant`].
    pub fn policy(&self) -> Option<&str> {
        match self {
            Subject::Policy(arn) => Some(arn),
            _ => None,
        }
    }

    /// The identity provider (ARN) the finding is about.
    pub fn identity_provider(&self) -> Option<&str> {
        match self {
            Subject::IdentityProvider(arn) => Some(arn),
            _ => None,
        }
    }
}

/// The subject's key, as in the finding id.
impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_finding_id_parts() {
        let g = Grant::ManagedPolicy("arn:aws:iam::aws:policy/AdministratorAccess".into());
        let cases = [
            (Subject::User("alice".into()), "alice"),
            (
                Subject::AccessKey {
                    id: "AKIA1".into(),
                    user: Some("bob".into()),
                },
                "AKIA1",
            ),
            (
                Subject::UserGrant {
                    user: "bob".into(),
                    grant: g.clone(),
                },
                "bob/policy:arn:aws:iam::aws:policy/AdministratorAccess",
            ),
            (
                Subject::MfaDevice {
                    serial: "arn:aws:iam::1:mfa/x".into(),
                    user: None,
                },
                "unknown-user/arn:aws:iam::1:mfa/x",
            ),
            (
                Subject::DeniedCaller {
                    caller: "arn:aws:iam::1:user/eve".into(),
                    day: "2026-11-01".into(),
                    target: Some("bob".into()),
                },
                "arn:aws:iam::1:user/eve/2026-11-01",
            ),
            (Subject::Role("deploy".into()), "deploy"),
            (Subject::Group("Admins".into()), "Admins"),
            (
                Subject::GroupGrant {
                    group: "Admins".into(),
                    grant: g.clone(),
                },
                "Admins/policy:arn:aws:iam::aws:policy/AdministratorAccess",
            ),
            (
                Subject::UserDay {
                    user: "root".into(),
                    day: "2026-11-01".into(),
                },
                "root/2026-11-01",
            ),
            (
                Subject::UserAccessKey {
                    user: "bob".into(),
                    id: Some("AKIA1".into()),
                    slot: 1,
                },
                "bob/AKIA1",
            ),
            (
                Subject::UserAccessKey {
                    user: "bob".into(),
                    id: None,
                    slot: 2,
                },
                "bob/2",
            ),
        ];
        for (s, key) in cases {
            assert_eq!(s.key(), key, "{s:?}");
        }
    }

    #[test]
    fn grants_round_trip_their_stored_form() {
        for g in [
            Grant::ManagedPolicy("arn:aws:iam::aws:policy/ReadOnlyAccess".into()),
            Grant::InlinePolicy("inline-admin".into()),
            Grant::Group("Admins".into()),
        ] {
            assert_eq!(Grant::parse(&g.to_string()), Some(g.clone()));
        }
        assert_eq!(Grant::parse("role:x"), None);
        assert_eq!(
            Grant::Group("Admins".into()).describe(),
            "group Admins",
            "summary words"
        );
    }

    #[test]
    fn typed_parts() {
        let s = Subject::UserGrant {
            user: "bob".into(),
            grant: Grant::Group("Admins".into()),
        };
        assert_eq!(s.user(), Some("bob"));
        assert_eq!(
            s.grant().map(|g| g.to_string()).as_deref(),
            Some("group:Admins")
        );
        assert_eq!(s.access_key_id(), None);
        assert_eq!(Subject::Role("r".into()).user(), None);
        let p = Subject::Policy("arn:aws:iam::1:policy/p".into());
        assert_eq!(
            (p.policy(), p.identity_provider()),
            (Some("arn:aws:iam::1:policy/p"), None)
        );
        let idp = Subject::IdentityProvider("arn:aws:iam::1:saml-provider/x".into());
        assert_eq!(
            (idp.identity_provider(), idp.policy()),
            (Some("arn:aws:iam::1:saml-provider/x"), None)
        );
        assert_eq!(
            Subject::RoleGrant {
                role: "ci".into(),
                grant: Grant::InlinePolicy("p".into())
            }
            .role(),
            Some("ci")
        );
    }
}
