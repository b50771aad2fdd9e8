//! What a finding was observed in: a CloudTrail record today, a credential report row tomorrow.
//! Scoring ([`crate::score`]) and finding building ([`crate::build`]) read an observation
//! through this trait, never a record's fields directly, so a new kind of observation is one
//! `impl`, not a second scorer.

use crate::record::{CloudTrailRecord, IdentityType};
use crate::subject::Subject;

/// Who made the change, for an observation of an API call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller<'a> {
    pub kind: IdentityType,
    /// The caller's ARN, when logged.
    pub arn: Option<&'a str>,
    /// The ARN `trusted_principals` globs are matched against (an assumed role's issuer).
    pub trust_principal: Option<&'a str>,
    /// Whether the session was MFA-authenticated, when logged.
    pub mfa_authenticated: Option<bool>,
    /// The service that made the call on the caller's behalf.
    pub invoked_by: Option<&'a str>,
    /// The source IP address (or service name) as logged.
    pub source_ip: Option<&'a str>,
}

/// The API call an observation is, for ASFF's `Action` and the event fields of a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCall<'a> {
    pub event_id: Option<&'a str>,
    pub event_name: &'a str,
    pub event_source: &'a str,
    pub source_ip: Option<&'a str>,
}

/// What an observation itself tells of its subject's resources, beside enrichment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFacts {
    /// The user's ARN and id (a CreateUser response names them).
    pub user_arn: Option<String>,
    pub user_id: Option<String>,
    /// The access key's status and creation time, when the observation shows them.
    pub key_status: Option<String>,
    pub key_created_at: Option<String>,
}

/// An observation a finding is built from.
pub trait Observation {
    /// The account the observation is about.
    fn account_id(&self) -> &str;
    /// When it was observed, as written (an RFC 3339 timestamp).
    fn observed_at(&self) -> &str;
    /// Who did it, in words: an ARN or its best stand-in.
    fn actor(&self) -> String;
    /// The caller, for an API call.
    fn caller(&self) -> Option<Caller<'_>>;
    /// The API call, when the observation is one.
    fn api_call(&self) -> Option<ApiCall<'_>>;
    /// What the observation shows of the subject's resources.
    fn resource_facts(&self, subject: &Subject) -> ResourceFacts;
}

impl Observation for CloudTrailRecord {
    fn account_id(&self) -> &str {
        CloudTrailRecord::account_id(self)
    }

    fn observed_at(&self) -> &str {
        &self.event_time
    }

    fn actor(&self) -> String {
        CloudTrailRecord::actor(self)
    }

    fn caller(&self) -> Option<Caller<'_>> {
        Some(Caller {
            kind: self.identity_type(),
            arn: self.user_identity.arn.as_deref(),
            trust_principal: self.principal_for_trust(),
            mfa_authenticated: self.mfa_authenticated(),
            invoked_by: self.user_identity.invoked_by.as_deref(),
            source_ip: self.source_ip_address.as_deref(),
        })
    }

    fn api_call(&self) -> Option<ApiCall<'_>> {
        Some(ApiCall {
            event_id: self.event_id.as_deref(),
            event_name: &self.event_name,
            event_source: &self.event_source,
            source_ip: self.source_ip_address.as_deref(),
        })
    }

    fn resource_facts(&self, subject: &Subject) -> ResourceFacts {
        let mut facts = ResourceFacts::default();
        if let Some(user) = subject.user() {
            if self.response("/user/userName") == Some(user) {
                facts.user_arn = self.response("/user/arn").map(str::to_string);
                facts.user_id = self.response("/user/userId").map(str::to_string);
            }
        }
        if subject.access_key_id().is_some() {
            let created = self.event_name == "CreateAccessKey";
            if created || self.param("status").is_some() {
                facts.key_status = Some(self.param("status").unwrap_or("Active").to_string());
            }
            facts.key_created_at = created.then(|| crate::time::normalize(&self.event_time));
        }
        facts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{record, with_response};
    use serde_json::json;

    #[test]
    fn a_record_tells_its_created_user_and_key() {
        let r = with_response(
            record("CreateUser", json!({"userName": "bob"})),
            json!({"user": {"userName": "bob", "arn": "arn:aws:iam::111122223333:user/bob",
                            "userId": "AIDABOB"}}),
        );
        let facts = r.resource_facts(&Subject::User("bob".into()));
        assert_eq!(
            facts.user_arn.as_deref(),
            Some("arn:aws:iam::111122223333:user/bob")
        );
        assert_eq!(facts.user_id.as_deref(), Some("AIDABOB"));
        assert_eq!(
            r.resource_facts(&Subject::User("eve".into())),
            ResourceFacts::default()
        );

        let r = record("CreateAccessKey", json!({"userName": "bob"}));
        let facts = r.resource_facts(&Subject::AccessKey {
            id: "AKIA1".into(),
            user: Some("bob".into()),
        });
        assert_eq!(facts.key_status.as_deref(), Some("Active"));
        assert_eq!(
            facts.key_created_at.as_deref(),
            Some("2026-11-01T10:00:00.000Z")
        );
    }

    #[test]
    fn a_record_is_an_api_call_by_a_caller() {
        let r = record("CreateUser", json!({"userName": "bob"}));
        let caller = r.caller().unwrap();
        assert_eq!(caller.kind, IdentityType::IamUser);
        assert_eq!(caller.arn, Some("arn:aws:iam::111122223333:user/alice"));
        assert_eq!(r.api_call().unwrap().event_name, "CreateUser");
        assert_eq!(Observation::account_id(&r), "111122223333");
    }
}
