//! The CloudTrail record and the EventBridge envelope that carries it.
//!
//! Real records are messy: fields come and go across `eventVersion`s, request and response
//! parameters differ per API, regions and addresses may be anonymized into odd shapes. So the
//! model is lenient: unknown fields are ignored, nearly everything is optional, per-API parameters
//! stay JSON values, and scalars that some producers write as another JSON type (a boolean as a
//! string) are accepted either way.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::sources;

/// One CloudTrail record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudTrailRecord {
    #[serde(default, deserialize_with = "lenient_string")]
    pub event_version: Option<String>,
    pub event_time: String,
    pub event_source: String,
    pub event_name: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub aws_region: Option<String>,
    #[serde(
        rename = "sourceIPAddress",
        default,
        deserialize_with = "lenient_string"
    )]
    pub source_ip_address: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub user_agent: Option<String>,
    #[serde(default)]
    pub user_identity: UserIdentity,
    #[serde(default, deserialize_with = "lenient_string")]
    pub error_code: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub error_message: Option<String>,
    #[serde(default)]
    pub request_parameters: Option<Value>,
    #[serde(default)]
    pub response_elements: Option<Value>,
    /// Per-event extras; sign-ins carry `MFAUsed` ("Yes"/"No") and `LoginTo` here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_event_data: Option<Value>,
    #[serde(rename = "eventID", default, deserialize_with = "lenient_string")]
    pub event_id: Option<String>,
    #[serde(rename = "requestID", default, deserialize_with = "lenient_string")]
    pub request_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub event_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub recipient_account_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub event_category: Option<String>,
}

/// `userIdentity`: who made the call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    #[serde(rename = "type", default, deserialize_with = "lenient_string")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub principal_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub arn: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub account_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub access_key_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub user_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub invoked_by: Option<String>,
    #[serde(default)]
    pub session_context: Option<SessionContext>,
    /// IAM Identity Center and other newer identity types carry more; kept as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<Value>,
}

/// `userIdentity.sessionContext`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    #[serde(default)]
    pub attributes: Option<SessionAttributes>,
    #[serde(default)]
    pub session_issuer: Option<SessionIssuer>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub source_identity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_id_federation_data: Option<Value>,
}

/// `sessionContext.attributes`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAttributes {
    /// `"true"` or `"false"` (a string in CloudTrail; a boolean is accepted too).
    #[serde(default, deserialize_with = "lenient_string")]
    pub mfa_authenticated: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub creation_date: Option<String>,
}

/// `sessionContext.sessionIssuer`: the role (or user) a session was issued from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer {
    #[serde(rename = "type", default, deserialize_with = "lenient_string")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub principal_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub arn: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub account_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub user_name: Option<String>,
}

/// The kinds of `userIdentity.type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityType {
    Root,
    IamUser,
    AssumedRole,
    FederatedUser,
    AwsService,
    AwsAccount,
    IdentityCenterUser,
    Directory,
    SamlUser,
    WebIdentityUser,
    Unknown(String),
    Missing,
}

impl IdentityType {
    pub fn parse(s: Option<&str>) -> Self {
        match s {
            None => Self::Missing,
            Some("Root") => Self::Root,
            Some("IAMUser") => Self::IamUser,
            Some("AssumedRole") => Self::AssumedRole,
            Some("FederatedUser") => Self::FederatedUser,
            Some("AWSService") => Self::AwsService,
            Some("AWSAccount") => Self::AwsAccount,
            Some("IdentityCenterUser") => Self::IdentityCenterUser,
            Some("Directory") => Self::Directory,
            Some("SAMLUser") => Self::SamlUser,
            Some("WebIdentityUser") => Self::WebIdentityUser,
            Some(other) => Self::Unknown(other.to_string()),
        }
    }
}

impl CloudTrailRecord {
    /// Checks what the model cannot: `eventTime` must be an RFC 3339 timestamp (findings carry
    /// it, and Security Hub takes no other form); the account (`recipientAccountId`, else
    /// `userIdentity.accountId`), when given, must be 12 digits (findings are filed under it).
    /// Whether iamwatch can read what an in-scope call did is the engine's question
    /// ([`crate::engine::check`]).
    pub fn validate(&self) -> Result<(), String> {
        if crate::time::parse_millis(&self.event_time).is_none() {
            return Err(format!(
                "bad eventTime {:?}: not an RFC 3339 timestamp",
                self.event_time
            ));
        }
        let (key, account) = match (&self.recipient_account_id, &self.user_identity.account_id) {
            (Some(a), _) => ("recipientAccountId", Some(a)),
            (None, a) => ("userIdentity.accountId", a.as_ref()),
        };
        if let Some(a) = account.filter(|a| !is_account_id(a)) {
            return Err(format!("bad {key} {a:?}: not a 12-digit account id"));
        }
        Ok(())
    }

    /// `additionalEventData` at a key, as a string.
    pub fn additional(&self, key: &str) -> Option<&str> {
        self.additional_event_data.as_ref()?.get(key)?.as_str()
    }

    /// Names the record in a message: its event name, id and time.
    pub fn describe(&self) -> String {
        format!(
            "{} {} at {}",
            self.event_name,
            self.event_id.as_deref().unwrap_or("(no eventID)"),
            self.event_time
        )
    }

    /// The caller's identity type.
    pub fn identity_type(&self) -> IdentityType {
        IdentityType::parse(self.user_identity.kind.as_deref())
    }

    /// The account the call was made in: `recipientAccountId`, else the caller's account.
    pub fn account_id(&self) -> &str {
        self.recipient_account_id
            .as_deref()
            .or(self.user_identity.account_id.as_deref())
            .unwrap_or("unknown")
    }

    /// Whether the call succeeded (no `errorCode`).
    pub fn succeeded(&self) -> bool {
        self.error_code.is_none()
    }

    /// A request parameter as a string.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.request_parameters.as_ref()?.get(key)?.as_str()
    }

    /// A response element at a JSON pointer, as a string.
    pub fn response(&self, pointer: &str) -> Option<&str> {
        self.response_elements.as_ref()?.pointer(pointer)?.as_str()
    }

    /// The IAM user name of the caller, when the caller is an IAM user.
    pub fn caller_iam_user(&self) -> Option<&str> {
        if self.identity_type() != IdentityType::IamUser {
            return None;
        }
        self.user_identity.user_name.as_deref().or_else(|| {
            let arn = self.user_identity.arn.as_deref()?;
            arn.rsplit_once('/').map(|(_, name)| name)
        })
    }

    /// The caller as an ARN (or the best stand-in: principal id, service name).
    pub fn actor(&self) -> String {
        let id = &self.user_identity;
        if let Some(arn) = id.arn.as_deref() {
            return arn.to_string();
        }
        if let Some(by) = id.invoked_by.as_deref() {
            return by.to_string();
        }
        if let Some(p) = id.principal_id.as_deref() {
            return p.to_string();
        }
        match self.identity_type() {
            IdentityType::Root => format!("arn:aws:iam::{}:root", self.account_id()),
            _ => "unknown".to_string(),
        }
    }

    /// The ARN trusted-principal globs are matched against: for an assumed role, the role
    /// that issued the session; otherwise the caller's ARN.
    pub fn principal_for_trust(&self) -> Option<&str> {
        let id = &self.user_identity;
        if self.identity_type() == IdentityType::AssumedRole {
            if let Some(arn) = id
                .session_context
                .as_ref()
                .and_then(|s| s.session_issuer.as_ref())
                .and_then(|i| i.arn.as_deref())
            {
                return Some(arn);
            }
        }
        id.arn.as_deref()
    }

    /// `sessionContext.attributes.mfaAuthenticated`, when present.
    pub fn mfa_authenticated(&self) -> Option<bool> {
        let v = self
            .user_identity
            .session_context
            .as_ref()?
            .attributes
            .as_ref()?
            .mfa_authenticated
            .as_deref()?;
        match v {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

/// Whether `s` is an AWS account id: 12 ASCII digits.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// An EventBridge envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(default, deserialize_with = "lenient_string")]
    pub version: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub account: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub time: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub region: Option<String>,
    #[serde(default)]
    pub resources: Vec<Value>,
    pub detail: Value,
}

/// Why an envelope is not accepted as a CloudTrail IAM event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeRejection {
    /// Not an IAM CloudTrail event at all (another service, another detail-type). Out of scope.
    #[error("out of scope: source {source_name:?}, detail-type {detail_type:?}, eventSource {event_source:?}")]
    OutOfScope {
        source_name: String,
        detail_type: String,
        event_source: Option<String>,
    },
    /// Claims to be an IAM event but does not hold together: never to be trusted.
    #[error("forged or inconsistent envelope: {0}")]
    Inconsistent(String),
    /// The detail is not a CloudTrail record.
    #[error("detail is not a CloudTrail record: {0}")]
    BadDetail(String),
}

impl Envelope {
    /// Validates the envelope (DESIGN "Reliability rules") and returns its CloudTrail record.
    ///
    /// Accepted: an envelope `source` and `detail-type` of one row of [`crate::sources::SOURCES`]
    /// (`aws.iam`, "AWS API Call via CloudTrail"; `aws.signin`, "AWS Console Sign In via
    /// CloudTrail") with that row's `detail.eventSource` (`iam.amazonaws.com`,
    /// `signin.amazonaws.com`), a record that passes [`CloudTrailRecord::validate`], and
    /// `account` (when present) equal to `detail.recipientAccountId`. The name stays
    /// `into_iam_record` although sign-in records pass too.
    pub fn into_iam_record(self) -> Result<CloudTrailRecord, EnvelopeRejection> {
        let event_source = self
            .detail
            .get("eventSource")
            .and_then(Value::as_str)
            .map(str::to_string);
        let by_detail = event_source.as_deref().and_then(sources::by_event_source);
        let by_envelope = sources::by_envelope(&self.source, &self.detail_type);
        if by_detail.is_none() && by_envelope.is_none() {
            return Err(EnvelopeRejection::OutOfScope {
                source_name: self.source,
                detail_type: self.detail_type,
                event_source,
            });
        }
        if by_detail.is_none() || by_detail != by_envelope {
            return Err(EnvelopeRejection::Inconsistent(format!(
                "source {:?} / detail-type {:?} with detail.eventSource {:?}",
                self.source, self.detail_type, event_source
            )));
        }
        let record: CloudTrailRecord = serde_json::from_value(self.detail)
            .map_err(|e| EnvelopeRejection::BadDetail(e.to_string()))?;
        record.validate().map_err(EnvelopeRejection::BadDetail)?;
        // The account a finding is filed in and whose role is assumed: required, 12 digits
        // (validate checked the form), and the envelope's own account where it has one.
        let Some(recipient) = record.recipient_account_id.as_deref() else {
            return Err(EnvelopeRejection::Inconsistent(
                "detail.recipientAccountId is missing".to_string(),
            ));
        };
        if let Some(account) = self.account.as_deref() {
            if account != recipient {
                return Err(EnvelopeRejection::Inconsistent(format!(
                    "envelope account {account} differs from detail.recipientAccountId {recipient}"
                )));
            }
        }
        Ok(record)
    }
}

/// Accepts a string, or a number or boolean written where a string belongs; null is None.
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Bool(b)) => Some(b.to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => Some(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::{Envelope, EnvelopeRejection};
    use crate::rules::testing::{alice, record, sign_in};
    use serde_json::{json, Value};

    fn envelope(source: &str, detail_type: &str, detail: Value) -> Envelope {
        serde_json::from_value(
            json!({"version": "0", "id": "ev", "detail-type": detail_type,
            "source": source, "account": "111122223333", "region": "eu-west-1",
            "detail": detail}),
        )
        .unwrap()
    }

    #[test]
    fn sign_in_envelopes_are_accepted_and_mixed_ones_are_not() {
        let detail = serde_json::to_value(sign_in(alice(), "Success", "No")).unwrap();
        let r = envelope(
            "aws.signin",
            "AWS Console Sign In via CloudTrail",
            detail.clone(),
        )
        .into_iam_record()
        .unwrap();
        assert_eq!(r.additional("MFAUsed"), Some("No"));
        assert_eq!(r.response("/ConsoleLogin"), Some("Success"));
        for (source, dt) in [
            ("aws.iam", "AWS API Call via CloudTrail"),
            ("aws.signin", "AWS API Call via CloudTrail"),
            ("aws.iam", "AWS Console Sign In via CloudTrail"),
        ] {
            let err = envelope(source, dt, detail.clone())
                .into_iam_record()
                .unwrap_err();
            assert!(
                matches!(err, EnvelopeRejection::Inconsistent(_)),
                "{source} {dt}: {err}"
            );
        }
        let iam = serde_json::to_value(record("CreateUser", json!({"userName": "bob"}))).unwrap();
        let err = envelope("aws.signin", "AWS Console Sign In via CloudTrail", iam)
            .into_iam_record()
            .unwrap_err();
        assert!(matches!(err, EnvelopeRejection::Inconsistent(_)), "{err}");
    }

    #[test]
    fn account_ids_must_be_12_digits() {
        let mut r = record("CreateUser", json!({"userName": "bob"}));
        assert_eq!(r.validate(), Ok(()));
        for bad in ["12345", "1111222233334", "11112222333a", "unknown"] {
            r.recipient_account_id = Some(bad.into());
            let err = r.validate().unwrap_err();
            assert_eq!(
                err,
                format!("bad recipientAccountId {bad:?}: not a 12-digit account id")
            );
        }
        r.recipient_account_id = None;
        assert_eq!(r.validate(), Ok(()), "the caller's account stands in");
        r.user_identity.account_id = Some("42".into());
        assert!(r
            .validate()
            .unwrap_err()
            .contains("bad userIdentity.accountId \"42\""));
        // In an envelope too.
        let mut r = record("CreateUser", json!({"userName": "bob"}));
        r.recipient_account_id = Some("1111-2222-3333".into());
        let err = envelope(
            "aws.iam",
            "AWS API Call via CloudTrail",
            serde_json::to_value(r).unwrap(),
        )
        .into_iam_record()
        .unwrap_err();
        assert!(
            matches!(err, EnvelopeRejection::BadDetail(ref m) if m.contains("12-digit")),
            "{err}"
        );
    }

    /// An envelope must name the account it is about: a detail without `recipientAccountId`
    /// is rejected, never filed under the caller's account.
    #[test]
    fn envelopes_require_the_recipient_account() {
        let mut detail =
            serde_json::to_value(record("CreateUser", json!({"userName": "b"}))).unwrap();
        detail.as_object_mut().unwrap().remove("recipientAccountId");
        let env: Envelope = serde_json::from_value(json!({
            "version": "0", "detail-type": "AWS API Call via CloudTrail", "source": "aws.iam",
            "detail": detail
        }))
        .unwrap();
        let err = env.into_iam_record().unwrap_err();
        assert!(
            matches!(err, EnvelopeRejection::Inconsistent(ref m) if m.contains("recipientAccountId is missing")),
            "{err}"
        );
    }
}
