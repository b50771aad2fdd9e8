//! CloudTrail-shaped EventBridge envelopes for the tests: the sample of each rule in `events/`
//! (`events/<rule-id>.json`), moved into a test account and, for [`build`], about a given user
//! and key. A new rule needs no edit here: its sample is enough. Records built from scratch
//! (identities, [`record`], [`envelope`]) come from `iamwatch_aws::testing::records`.

pub use iamwatch_aws::testing::records::{assumed_role, envelope, iam_user, record, root};
use serde_json::Value;
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

/// The access key an envelope is about (`requestParameters.accessKeyId`, else the created
/// key), if any.
pub fn access_key(envelope: &Value) -> Option<String> {
    let d = &envelope["detail"];
    d["requestParameters"]["accessKeyId"]
        .as_str()
        .or_else(|| d["responseElements"]["accessKey"]["accessKeyId"].as_str())
        .map(str::to_string)
}

/// The envelope of `rule_id` in `account` about `user` (and the key `key` for the key rules):
/// the rule's sample with its target user and key renamed, and the event id
/// `built-<rule-id>-<account>`. `None` when the rule has no sample.
pub fn build(rule_id: &str, account: &str, user: &str, key: &str) -> Option<Value> {
    let sample = sample(rule_id, account)?;
    let mut text = sample.to_string();
    if let Some(old) = target_user(&sample).filter(|u| u != user) {
        text = text.replace(&old, user);
    }
    if let Some(old) = access_key(&sample).filter(|k| k != key) {
        text = text.replace(&old, key);
    }
    let mut env: Value = serde_json::from_str(&text).ok()?;
    let id = format!("built-{rule_id}-{account}");
    env["id"] = Value::from(format!("env-{id}"));
    env["detail"]["requestID"] = Value::from(format!("req-{id}"));
    env["detail"]["eventID"] = Value::from(id);
    Some(env)
}

/// The envelope of `rule_id` in `account`: its sample.
pub fn for_rule(rule_id: &str, account: &str) -> Option<Value> {
    sample(rule_id, account)
}

/// A resolving `DeleteUser` of `user` in `account`.
pub fn delete_user(account: &str, user: &str, event_id: &str) -> Value {
    envelope(iamwatch_aws::testing::records::delete_user(
        account, user, event_id,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamwatch_core::record::Envelope;
    use iamwatch_core::rules;
    use iamwatch_core::{evaluate, Policy, Verdict};

    #[test]
    fn every_rule_builds_about_the_given_user_and_key_and_fires() {
        for rule in rules::ids() {
            let env = build(rule, "123412341234", "e2e-user", "AKIAE2EEXAMPLEKEY001")
                .unwrap_or_else(|| panic!("{rule}: no sample in events/"));
            assert_eq!(env["account"], "123412341234", "{rule}");
            assert_eq!(
                env["detail"]["eventID"],
                format!("built-{rule}-123412341234")
            );
            let sampled = sample(rule, "123412341234").unwrap();
            if target_user(&sampled).is_some() {
                assert_eq!(target_user(&env).as_deref(), Some("e2e-user"), "{rule}");
            }
            if let Some(k) = access_key(&env) {
                assert_eq!(k, "AKIAE2EEXAMPLEKEY001", "{rule}");
            }
            let envelope: Envelope = serde_json::from_value(env).unwrap();
            let record = envelope.into_iam_record().unwrap();
            match evaluate(&record, &Policy::default()) {
                Verdict::Finding(d) => assert_eq!(d.rule.id, rule),
                other => panic!("{rule}: {other:?}"),
            }
        }
    }
}
