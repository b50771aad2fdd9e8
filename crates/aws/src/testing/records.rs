//! Sample CloudTrail records and their EventBridge envelopes, for every test that needs one
//! (the adapters', the detect function's, the end-to-end tests'): identities, one record, its
//! envelope as the central bus delivers it. A rule's sample event is the file
//! `events/<rule-id>.json` of the repository; these build the records around it.

use iamwatch_core::enrich::{AccountInfo, Enrichment};
use iamwatch_core::finding::Finding;
use iamwatch_core::{evaluate, CloudTrailRecord, FindingContext, Policy, Verdict};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// An IAM user identity of `account`, signed in without MFA.
pub fn iam_user(account: &str, name: &str) -> Value {
    json!({"type": "IAMUser", "principalId": format!("AIDA{}", name.to_uppercase()),
           "arn": format!("arn:aws:iam::{account}:user/{name}"), "accountId": account,
           "userName": name,
           "sessionContext": {"attributes": {"mfaAuthenticated": "false"}}})
}

/// The root identity of `account`.
pub fn root(account: &str) -> Value {
    json!({"type": "Root", "principalId": account, "arn": format!("arn:aws:iam::{account}:root"),
           "accountId": account, "sessionContext": {"attributes": {"mfaAuthenticated": "false"}}})
}

/// An assumed-role identity of `account`.
pub fn assumed_role(account: &str, role: &str) -> Value {
    json!({"type": "AssumedRole", "principalId": format!("AROA{}:s", role.to_uppercase()),
           "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/session"),
           "accountId": account,
           "sessionContext": {"sessionIssuer": {"type": "Role",
               "arn": format!("arn:aws:iam::{account}:role/{role}"), "accountId": account,
               "userName": role},
               "attributes": {"mfaAuthenticated": "false"}}})
}

/// A CloudTrail IAM record (the envelope's `detail`) in `account`.
pub fn record(
    account: &str,
    event_id: &str,
    event_name: &str,
    identity: Value,
    params: Value,
    response: Value,
) -> Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": "2026-11-02T12:00:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": event_name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.23",
        "userAgent": "aws-cli/2.22.0",
        "requestParameters": params,
        "responseElements": response,
        "requestID": format!("req-{event_id}"),
        "eventID": event_id,
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": account,
        "eventCategory": "Management"
    })
}

/// The EventBridge envelope of a record, as the central bus delivers it.
pub fn envelope(detail: Value) -> Value {
    let account = detail["recipientAccountId"].clone();
    let id = detail["eventID"].as_str().unwrap_or("x").to_string();
    json!({
        "version": "0",
        "id": format!("env-{id}"),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.iam",
        "account": account,
        "time": detail["eventTime"].clone(),
        "region": "us-east-1",
        "resources": [],
        "detail": detail
    })
}

/// The record of `it-admin` (an IAM user) creating `user` in `account`.
pub fn create_user(account: &str, user: &str, event_id: &str) -> Value {
    record(
        account,
        event_id,
        "CreateUser",
        iam_user(account, "it-admin"),
        json!({"userName": user}),
        json!({"user": {"userName": user, "arn": format!("arn:aws:iam::{account}:user/{user}")}}),
    )
}

/// A resolving `DeleteUser` of `user` in `account`, by `it-admin`.
pub fn delete_user(account: &str, user: &str, event_id: &str) -> Value {
    record(
        account,
        event_id,
        "DeleteUser",
        iam_user(account, "it-admin"),
        json!({"userName": user}),
        Value::Null,
    )
}

/// [`create_user`] as the core's record.
pub fn create_user_record(account: &str, user: &str) -> CloudTrailRecord {
    let detail = create_user(account, user, &format!("evt-create-{account}-{user}"));
    serde_json::from_value(detail).unwrap_or_else(|e| panic!("sample record: {e}"))
}

/// The `iam-user-created` finding of [`create_user_record`], with a known account name.
pub fn sample_finding(account: &str, user: &str) -> Finding {
    let r = create_user_record(account, user);
    let policy = Policy::default();
    let Verdict::Finding(d) = evaluate(&r, &policy) else {
        panic!("sample record makes no finding");
    };
    let e = Enrichment {
        account: Some(AccountInfo {
            id: account.to_string(),
            name: Some("sample".to_string()),
            ou_path: vec!["Prod".to_string()],
            tags: BTreeMap::new(),
        }),
        ..Enrichment::default()
    };
    iamwatch_core::engine::finding(&d, &r, &policy, &e, &FindingContext::default()).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_in_their_account_and_parse() {
        let env = envelope(create_user("111122223333", "bob", "e1"));
        assert_eq!(env["account"], "111122223333");
        assert_eq!(env["id"], "env-e1");
        let r = create_user_record("111122223333", "bob");
        assert_eq!(r.event_name, "CreateUser");
        assert_eq!(r.account_id(), "111122223333");
        assert_eq!(
            sample_finding("111122223333", "bob").aws_account_id,
            "111122223333"
        );
        let deleted: CloudTrailRecord =
            serde_json::from_value(delete_user("111122223333", "bob", "e2")).unwrap();
        assert_eq!(deleted.event_name, "DeleteUser");
        for identity in [root("1"), assumed_role("1", "r"), iam_user("1", "u")] {
            assert_eq!(identity["accountId"], "1");
        }
    }
}
