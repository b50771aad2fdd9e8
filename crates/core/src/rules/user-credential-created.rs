//! `user-credential-created`: a user got a credential other than a password or access key: a
//! service-specific credential (CodeCommit, Keyspaces, Bedrock API keys), an SSH public key
//! (CodeCommit) or a signing certificate. Each is a way in that outlives any session and that
//! few people review.

use super::{stand_in, succeeded, Context, Detection, Outcome, RuleMeta, Subject};
use crate::record::{CloudTrailRecord, IdentityType};
use crate::sources::IAM;

pub static META: RuleMeta = RuleMeta {
    id: "user-credential-created",
    title: "IAM user credential created",
    base: 40,
    event_source: IAM,
    event_names: &[
        "CreateServiceSpecificCredential",
        "UploadSSHPublicKey",
        "UploadSigningCertificate",
    ],
    outcome: Outcome::Success,
    resolved_by: &[
        "DeleteServiceSpecificCredential",
        "DeleteSSHPublicKey",
        "DeleteSigningCertificate",
        "DeleteUser",
    ],
    types: &["TTPs/Persistence/Account Manipulation"],
    recommendation: "Check who needs this credential (a service-specific credential, SSH key \
        or signing certificate) and why a role does not serve; unless a change request covers \
        it, delete the credential and review the caller.",
    attack: &["T1098.001"],
};

/// The base when the credential is for a user other than the calling IAM user.
pub const OTHER_USER_BASE: u8 = 60;

/// Per call: what the credential is, and where the response holds its id.
fn kind(event_name: &str) -> Option<(&'static str, &'static str)> {
    match event_name {
        "CreateServiceSpecificCredential" => Some((
            "service-specific credential",
            "/serviceSpecificCredential/serviceSpecificCredentialId",
        )),
        "UploadSSHPublicKey" => Some(("SSH public key", "/sSHPublicKey/sSHPublicKeyId")),
        "UploadSigningCertificate" => Some(("signing certificate", "/certificate/certificateId")),
        _ => None,
    }
}

pub struct Rule;

impl super::Rule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn detect(&self, r: &CloudTrailRecord, _: &Context) -> Option<Detection> {
        if !succeeded(r, META.event_names) {
            return None;
        }
        let (what, pointer) = kind(&r.event_name)?;
        let id = match r.response(pointer) {
            Some(id) => id.to_string(),
            None => stand_in(r, "credential")?,
        };
        // The response names the user too; UploadSigningCertificate may omit userName, and
        // then acts on the caller (the root user's own certificate when root calls).
        let named = r.param("userName").or_else(|| {
            let user_pointer = format!("{}/userName", pointer.rsplit_once('/')?.0);
            r.response(&user_pointer)
        });
        let (user, own) = match named {
            Some(u) => (
                Some(u.to_string()),
                r.caller_iam_user()
                    .is_some_and(|c| c.eq_ignore_ascii_case(u)),
            ),
            None => match (r.caller_iam_user(), r.identity_type()) {
                (Some(c), _) => (Some(c.to_string()), true),
                (None, IdentityType::Root) => (Some("root".to_string()), true),
                (None, _) => (None, false),
            },
        };
        let whose = user.as_deref().unwrap_or("an unknown user");
        Some(Detection {
            rule: &META,
            summary: if own {
                format!("created {what} {id} for its own user {whose}")
            } else {
                format!("created {what} {id} for IAM user {whose}")
            },
            subject: Subject::Credential { id, user },
            base_override: (!own).then_some(OTHER_USER_BASE),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{detect, testing::*};
    use crate::Policy;
    use serde_json::json;

    #[test]
    fn each_credential_is_named_by_its_id() {
        let p = Policy::default();
        let cases = [
            (
                "CreateServiceSpecificCredential",
                json!({"serviceSpecificCredential": {"serviceSpecificCredentialId": "ACCAEXAMPLE1",
                       "userName": "bob", "serviceName": "codecommit.amazonaws.com"}}),
                "ACCAEXAMPLE1",
            ),
            (
                "UploadSSHPublicKey",
                json!({"sSHPublicKey": {"sSHPublicKeyId": "APKAEXAMPLE2", "userName": "bob"}}),
                "APKAEXAMPLE2",
            ),
            (
                "UploadSigningCertificate",
                json!({"certificate": {"certificateId": "CERTEXAMPLE3", "userName": "bob"}}),
                "CERTEXAMPLE3",
            ),
        ];
        for (name, resp, id) in cases {
            let r = with_response(record(name, json!({"userName": "bob"})), resp);
            let d = detect(&r, &p).unwrap();
            assert_eq!(d.rule.id, "user-credential-created", "{name}");
            assert_eq!(
                (d.subject.key().as_str(), d.subject.user()),
                (id, Some("bob"))
            );
            assert_eq!(
                d.base_override,
                Some(60),
                "{name}: bob is not the caller alice"
            );
        }
    }

    #[test]
    fn own_credential_keeps_the_base() {
        let p = Policy::default();
        // No userName: the caller's own certificate.
        let r = with_response(
            record(
                "UploadSigningCertificate",
                json!({"certificateBody": "..."}),
            ),
            json!({"certificate": {"certificateId": "CERT1", "userName": "alice"}}),
        );
        let d = detect(&r, &p).unwrap();
        assert_eq!((d.subject.user(), d.base_override), (Some("alice"), None));
        let r = record("UploadSSHPublicKey", json!({"userName": "Alice"}));
        assert_eq!(
            detect(&r, &p).unwrap().base_override,
            None,
            "names are case-insensitive"
        );
        // Root's own signing certificate.
        let r = root("UploadSigningCertificate", json!({}));
        let d = detect(&r, &p).unwrap();
        assert_eq!((d.subject.user(), d.base_override), (Some("root"), None));
        // A role acting on a user: always another user.
        let r = role(
            "CreateServiceSpecificCredential",
            json!({"userName": "bob"}),
        );
        assert_eq!(detect(&r, &p).unwrap().base_override, Some(60));
    }

    #[test]
    fn a_missing_id_gets_a_stand_in_and_failures_do_not_fire() {
        let p = Policy::default();
        let d = detect(
            &record("UploadSSHPublicKey", json!({"userName": "bob"})),
            &p,
        )
        .unwrap();
        assert_eq!(d.subject.key(), "unknown-credential-e-1");
        let r = failed(
            record("UploadSSHPublicKey", json!({"userName": "bob"})),
            "LimitExceeded",
        );
        assert!(detect(&r, &p).is_none());
        let r = failed(
            record("UploadSSHPublicKey", json!({"userName": "bob"})),
            "AccessDenied",
        );
        assert_eq!(detect(&r, &p).unwrap().rule.id, "iam-user-change-denied");
    }
}
