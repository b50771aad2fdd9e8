//! CloudTrail-shaped EventBridge envelopes for the tests: the samples of `events/` (one per
//! rule, `events/<rule-id>.json`), moved into a test account, or built here.

use serde_json::{json, Value};
use std::path::PathBuf;

/// The repository's `events/` directory.
pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

/// The sample envelope of `rule_id` with every occurrence of its account id replaced by
/// `account` (so the event happened in that test account), or `None` without a sample.
pub fn sample(rule_id: &str, account: &str) -> Option<Value> {
    let text = std::fs::read_to_string(events_dir().join(format!("{rule_id}.json"))).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    let original = v["detail"]["recipientAccountId"].as_str()?.to_string();
    serde_json::from_str(&text.replace(&original, account)).ok()
}

/// The IAM user an envelope is about (`requestParameters.userName`, else the created user,
/// else the calling IAM user), if any.
pub fn target_user(envelope: &Value) -> Option<String> {
    let d = &envelope["detail"];
    d["requestParameters"]["userName"]
        .as_str()
        .or_else(|| d["responseElements"]["user"]["userName"].as_str())
        .or_else(|| {
            (d["userIdentity"]["type"] == "IAMUser")
                .then(|| d["userIdentity"]["userName"].as_str())
                .flatten()
        })
        .map(str::to_string)
}

/// An IAM user identity of `account`.
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

/// A CloudTrail IAM record in `account`.
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

/// An envelope for `rule_id` in `account` about `user` (key `key` for the key rules), built
/// here. Covers every rule id of DESIGN.md.
pub fn build(rule_id: &str, account: &str, user: &str, key: &str) -> Option<Value> {
    let admin = || iam_user(account, "it-admin");
    let key_response =
        |u: &str| json!({"accessKey": {"userName": u, "accessKeyId": key, "status": "Active"}});
    let id = format!("built-{rule_id}-{account}");
    let detail = match rule_id {
        "iam-user-created" => record(
            account,
            &id,
            "CreateUser",
            admin(),
            json!({"userName": user}),
            json!({"user": {"userName": user, "arn": format!("arn:aws:iam::{account}:user/{user}")}}),
        ),
        "access-key-created" => record(
            account,
            &id,
            "CreateAccessKey",
            iam_user(account, user),
            json!({}),
            key_response(user),
        ),
        "access-key-created-for-other-user" => record(
            account,
            &id,
            "CreateAccessKey",
            admin(),
            json!({"userName": user}),
            key_response(user),
        ),
        "root-access-key-created" => record(
            account,
            &id,
            "CreateAccessKey",
            root(account),
            json!({}),
            key_response("root"),
        ),
        "console-password-created" => record(
            account,
            &id,
            "CreateLoginProfile",
            admin(),
            json!({"userName": user, "passwordResetRequired": true}),
            Value::Null,
        ),
        "console-password-changed-for-other-user" => record(
            account,
            &id,
            "UpdateLoginProfile",
            admin(),
            json!({"userName": user}),
            Value::Null,
        ),
        "admin-access-granted-to-user" => record(
            account,
            &id,
            "AttachUserPolicy",
            admin(),
            json!({"userName": user, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
            Value::Null,
        ),
        "user-permissions-changed" => record(
            account,
            &id,
            "AttachUserPolicy",
            admin(),
            json!({"userName": user, "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
            Value::Null,
        ),
        "mfa-device-deactivated" => record(
            account,
            &id,
            "DeactivateMFADevice",
            admin(),
            json!({"userName": user, "serialNumber": format!("arn:aws:iam::{account}:mfa/{user}")}),
            Value::Null,
        ),
        "access-key-reactivated" => record(
            account,
            &id,
            "UpdateAccessKey",
            admin(),
            json!({"userName": user, "accessKeyId": key, "status": "Active"}),
            Value::Null,
        ),
        "iam-user-change-denied" => {
            let mut r = record(
                account,
                &id,
                "CreateUser",
                assumed_role(account, "dev-role"),
                json!({"userName": user}),
                Value::Null,
            );
            r["errorCode"] = json!("AccessDenied");
            r["errorMessage"] = json!("User is not authorized to perform: iam:CreateUser");
            r
        }
        _ => return None,
    };
    Some(envelope(detail))
}

/// The envelope of `rule_id` in `account`: the sample when there is one, else built.
pub fn for_rule(rule_id: &str, account: &str) -> Option<Value> {
    sample(rule_id, account).or_else(|| build(rule_id, account, "e2e-user", "AKIAE2EEXAMPLEKEY001"))
}

/// A resolving `DeleteUser` of `user` in `account`.
pub fn delete_user(account: &str, user: &str, event_id: &str) -> Value {
    envelope(record(
        account,
        event_id,
        "DeleteUser",
        iam_user(account, "it-admin"),
        json!({"userName": user}),
        Value::Null,
    ))
}
