//! OCSF output: a finding as an OCSF Detection Finding (class 2004, category 2 "Findings"), the
//! form Amazon Security Lake and the OCSF-based Security Hub read.
//!
//! The mapping is from the ASFF [`Finding`] alone, so every finding the scanner prints (active or
//! archived) maps the same way. What the finding does not carry is left out, never guessed:
//!
//! | OCSF                                   | from the ASFF finding                                 |
//! |----------------------------------------|-------------------------------------------------------|
//! | `activity_id`, `type_uid`              | 1 Create (active) or 3 Close (archived); 2004 × 100 + activity |
//! | `status_id`                            | 1 New (active) or 4 Resolved (archived)               |
//! | `time`                                 | `UpdatedAt` (the creation time, or the time it was closed) |
//! | `severity_id`, `severity`              | `Severity.Label`                                      |
//! | `risk_score`, `risk_level_id`          | the score (`Severity.Original`) and its label         |
//! | `finding_info.uid`, `title`, `desc`, `types` | `Id`, `Title`, `Description`, `Types`           |
//! | `finding_info.*_time`                  | `CreatedAt`, `UpdatedAt`, `FirstObservedAt`, `LastObservedAt` |
//! | `finding_info.analytic`                | the rule (id, title), type 1 Rule                     |
//! | `cloud`                                | AWS, `AwsAccountId`, `AwsAccountName`, the resources' region |
//! | `resources`                            | `Resources` (uid the ARN or key id, type the ASFF type) |
//! | `remediation`                          | the recommendation and the runbook URL                |
//! | `evidences`                            | the API call (`Action`) and the caller's ARN          |
//! | `unmapped.product_fields`              | every ProductField, as written in the ASFF finding    |

use crate::finding::{fields, Finding, RecordState, Resource};
use crate::{time, Label};
use serde_json::{json, Map, Value};

/// The OCSF schema version the output follows.
pub const OCSF_VERSION: &str = "1.5.0";
/// Detection Finding.
pub const CLASS_UID: u32 = 2004;
/// Findings.
pub const CATEGORY_UID: u32 = 2;

/// `activity_id` of an active finding: Create.
pub const ACTIVITY_CREATE: u32 = 1;
/// `activity_id` of an archived finding: Close.
pub const ACTIVITY_CLOSE: u32 = 3;

/// The OCSF Detection Finding of `f`.
pub fn detection_finding(f: &Finding) -> Value {
    let active = f.record_state == RecordState::Active;
    let (activity_id, activity, status_id, status) = if active {
        (ACTIVITY_CREATE, "Create", 1, "New")
    } else {
        (ACTIVITY_CLOSE, "Close", 4, "Resolved")
    };
    let (severity_id, severity) = severity(f.severity.label);
    let (risk_level_id, risk_level) = risk_level(f.severity.label);

    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_string(), v);
    };
    put("class_uid", json!(CLASS_UID));
    put("class_name", json!("Detection Finding"));
    put("category_uid", json!(CATEGORY_UID));
    put("category_name", json!("Findings"));
    put("activity_id", json!(activity_id));
    put("activity_name", json!(activity));
    put("type_uid", json!(CLASS_UID * 100 + activity_id));
    put("type_name", json!(format!("Detection Finding: {activity}")));
    if let Some(t) = millis(&f.updated_at).or_else(|| millis(&f.created_at)) {
        put("time", json!(t));
    }
    put("severity_id", json!(severity_id));
    put("severity", json!(severity));
    put("status_id", json!(status_id));
    put("status", json!(status));
    if let Ok(score) = f.severity.original.parse::<u8>() {
        put("risk_score", json!(score));
    }
    put("risk_level_id", json!(risk_level_id));
    put("risk_level", json!(risk_level));
    put("message", json!(f.title));
    put("metadata", metadata());
    put("finding_info", finding_info(f));
    put("cloud", cloud(f));
    if !f.resources.is_empty() {
        put(
            "resources",
            Value::Array(f.resources.iter().map(resource).collect()),
        );
    }
    let mut remediation = json!({"desc": f.remediation.recommendation.text});
    if let Some(url) = &f.remediation.recommendation.url {
        remediation["references"] = json!([url]);
    }
    put("remediation", remediation);
    if let Some(e) = evidence(f) {
        put("evidences", json!([e]));
    }
    if !f.product_fields.is_empty() {
        put("unmapped", json!({ "product_fields": f.product_fields }));
    }
    Value::Object(out)
}

/// `severity_id` and its caption.
fn severity(label: Label) -> (u32, &'static str) {
    match label {
        Label::Informational => (1, "Informational"),
        Label::Low => (2, "Low"),
        Label::Medium => (3, "Medium"),
        Label::High => (4, "High"),
        Label::Critical => (5, "Critical"),
    }
}

/// `risk_level_id` and its caption (the scale starts at 0 Info).
fn risk_level(label: Label) -> (u32, &'static str) {
    match label {
        Label::Informational => (0, "Info"),
        Label::Low => (1, "Low"),
        Label::Medium => (2, "Medium"),
        Label::High => (3, "High"),
        Label::Critical => (4, "Critical"),
    }
}

fn millis(s: &str) -> Option<i64> {
    time::parse_millis(s)
}

fn metadata() -> Value {
    json!({
        "version": OCSF_VERSION,
        "profiles": ["cloud"],
        "product": {
            "name": "iamwatch",
            "vendor_name": "iamwatch",
            "version": env!("CARGO_PKG_VERSION"),
        },
    })
}

fn finding_info(f: &Finding) -> Value {
    let mut info = Map::new();
    info.insert("uid".into(), json!(f.id));
    info.insert("title".into(), json!(f.title));
    info.insert("desc".into(), json!(f.description));
    if !f.types.is_empty() {
        info.insert("types".into(), json!(f.types));
    }
    for (key, value) in [
        ("created_time", &f.created_at),
        ("modified_time", &f.updated_at),
        ("first_seen_time", &f.first_observed_at),
        ("last_seen_time", &f.last_observed_at),
    ] {
        if let Some(t) = millis(value) {
            info.insert(key.into(), json!(t));
        }
    }
    if let Some(rule) = f.rule_id() {
        let name = crate::rules::by_id(rule).map_or(rule, |m| m.title);
        info.insert(
            "analytic".into(),
            json!({ "uid": rule, "name": name, "type_id": 1, "type": "Rule" }),
        );
    }
    Value::Object(info)
}

fn cloud(f: &Finding) -> Value {
    let mut account = Map::new();
    account.insert("uid".into(), json!(f.aws_account_id));
    account.insert("type_id".into(), json!(10));
    account.insert("type".into(), json!("AWS Account"));
    let name = f
        .aws_account_name
        .as_deref()
        .or_else(|| f.field(fields::ACCOUNT_NAME));
    if let Some(name) = name {
        account.insert("name".into(), json!(name));
    }
    let mut cloud = Map::new();
    cloud.insert("provider".into(), json!("AWS"));
    cloud.insert("account".into(), Value::Object(account));
    if let Some(region) = f.resources.first().map(|r| &r.region) {
        cloud.insert("region".into(), json!(region));
    }
    Value::Object(cloud)
}

fn resource(r: &Resource) -> Value {
    let mut out = Map::new();
    out.insert("uid".into(), json!(r.id));
    out.insert("type".into(), json!(r.kind));
    let details = r.details.as_ref();
    let name = details
        .and_then(|d| d.aws_iam_user.as_ref())
        .map(|u| u.user_name.as_str());
    if let Some(name) = name {
        out.insert("name".into(), json!(name));
    }
    out.insert("cloud_partition".into(), json!(r.partition));
    out.insert("region".into(), json!(r.region));
    if let Some(d) = details {
        if let Ok(Value::Object(d)) = serde_json::to_value(d) {
            if !d.is_empty() {
                out.insert("data".into(), Value::Object(d));
            }
        }
    }
    Value::Object(out)
}

/// The API call and who made it, when the finding carries them.
fn evidence(f: &Finding) -> Option<Value> {
    let mut e = Map::new();
    if let Some(a) = &f.action {
        let call = &a.aws_api_call_action;
        e.insert(
            "api".into(),
            json!({ "operation": call.api, "service": { "name": call.service_name } }),
        );
        if let Some(ip) = &call.remote_ip_details {
            e.insert("src_endpoint".into(), json!({ "ip": ip.ip_address_v4 }));
        }
    }
    if let Some(arn) = f.field(fields::ACTOR).filter(|a| a.starts_with("arn:")) {
        e.insert("actor".into(), json!({ "user": { "uid": arn } }));
    }
    (!e.is_empty()).then_some(Value::Object(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{
        Action, AwsApiCallAction, AwsIamUserDetails, Recommendation, Remediation, RemoteIpDetails,
        ResourceDetails, Severity,
    };
    use std::collections::BTreeMap;

    fn finding() -> Finding {
        let pf: BTreeMap<String, String> = [
            (fields::RULE_ID, "access-key-created-for-other-user"),
            (fields::SCORE, "85"),
            (fields::FACTORS, "critical-account"),
            (fields::EVENT_ID, "00000000-0000-0000-0000-0000000007d3"),
            (fields::EVENT_NAME, "CreateAccessKey"),
            (
                fields::ACTOR,
                "arn:aws:sts::111111111111:assumed-role/ops/i-0abc",
            ),
            (fields::USER, "svc-backup"),
            (fields::ACCESS_KEY_ID, "AKIAEXAMPLE"),
            (fields::ACCOUNT_NAME, "payments-prod"),
            (fields::OU_PATH, "Workloads/Prod"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let resource = |kind: &str, id: &str, details| Resource {
            kind: kind.to_string(),
            id: id.to_string(),
            partition: "aws".to_string(),
            region: "us-east-1".to_string(),
            details,
        };
        Finding {
            schema_version: crate::finding::SCHEMA_VERSION.to_string(),
            id: "iamwatch/111111111111/access-key-created-for-other-user/AKIAEXAMPLE".to_string(),
            product_arn: "arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default"
                .to_string(),
            generator_id: "iamwatch/access-key-created-for-other-user".to_string(),
            aws_account_id: "111111111111".to_string(),
            aws_account_name: Some("payments-prod".to_string()),
            types: vec!["TTPs/Persistence".to_string()],
            first_observed_at: "2026-11-02T11:41:03.000Z".to_string(),
            last_observed_at: "2026-11-02T11:41:03.000Z".to_string(),
            created_at: "2026-11-02T11:41:03.000Z".to_string(),
            updated_at: "2026-11-02T11:41:03.000Z".to_string(),
            severity: Severity {
                label: Label::High,
                original: "85".to_string(),
            },
            title: "Access key created for another user: AKIAEXAMPLE".to_string(),
            description: "someone created a key".to_string(),
            remediation: Remediation {
                recommendation: Recommendation {
                    text: "Deactivate the key.".to_string(),
                    url: Some(
                        "https://example.com/runbooks/access-key-created-for-other-user.md"
                            .to_string(),
                    ),
                },
            },
            product_fields: pf,
            resources: vec![
                resource(
                    "AwsIamUser",
                    "arn:aws:iam::111111111111:user/svc-backup",
                    Some(ResourceDetails {
                        aws_iam_user: Some(AwsIamUserDetails {
                            user_name: "svc-backup".to_string(),
                            user_id: None,
                            create_date: None,
                        }),
                        aws_iam_access_key: None,
                    }),
                ),
                resource("AwsIamAccessKey", "AKIAEXAMPLE", None),
            ],
            action: Some(Action {
                action_type: "AWS_API_CALL".to_string(),
                aws_api_call_action: AwsApiCallAction {
                    api: "CreateAccessKey".to_string(),
                    service_name: "iam.amazonaws.com".to_string(),
                    caller_type: "remoteip".to_string(),
                    first_seen: "2026-11-02T11:41:03.000Z".to_string(),
                    last_seen: "2026-11-02T11:41:03.000Z".to_string(),
                    remote_ip_details: Some(RemoteIpDetails {
                        ip_address_v4: "10.20.4.17".to_string(),
                    }),
                },
            }),
            record_state: RecordState::Active,
        }
    }

    // 2026-11-02T11:41:03Z
    const T: i64 = 1_793_619_663_000;

    #[test]
    fn an_active_finding_is_a_new_detection_finding_created() {
        let o = detection_finding(&finding());
        assert_eq!(o["class_uid"], 2004);
        assert_eq!(o["category_uid"], 2);
        assert_eq!(o["category_name"], "Findings");
        assert_eq!(o["activity_id"], 1);
        assert_eq!(o["type_uid"], 200401);
        assert_eq!(o["status_id"], 1);
        assert_eq!(o["status"], "New");
        assert_eq!(o["time"], T);
        assert_eq!(o["severity_id"], 4);
        assert_eq!(o["severity"], "High");
        assert_eq!(o["risk_score"], 85);
        assert_eq!(o["risk_level_id"], 3);
        assert_eq!(o["metadata"]["version"], OCSF_VERSION);
        assert_eq!(o["metadata"]["product"]["name"], "iamwatch");
        assert_eq!(o["metadata"]["product"]["vendor_name"], "iamwatch");
        assert_eq!(
            o["metadata"]["product"]["version"],
            env!("CARGO_PKG_VERSION")
        );
    }

    #[test]
    fn finding_info_carries_the_id_times_and_the_rule() {
        let o = detection_finding(&finding());
        let info = &o["finding_info"];
        assert_eq!(
            info["uid"],
            "iamwatch/111111111111/access-key-created-for-other-user/AKIAEXAMPLE"
        );
        assert_eq!(
            info["title"],
            "Access key created for another user: AKIAEXAMPLE"
        );
        assert_eq!(info["desc"], "someone created a key");
        assert_eq!(info["types"], json!(["TTPs/Persistence"]));
        for key in [
            "created_time",
            "modified_time",
            "first_seen_time",
            "last_seen_time",
        ] {
            assert_eq!(info[key], T, "{key}");
        }
        let analytic = &info["analytic"];
        assert_eq!(analytic["uid"], "access-key-created-for-other-user");
        assert_eq!(
            analytic["name"],
            crate::rules::by_id("access-key-created-for-other-user")
                .unwrap()
                .title
        );
        assert_eq!(analytic["type_id"], 1);
        assert_eq!(analytic["type"], "Rule");
    }

    #[test]
    fn cloud_resources_remediation_and_evidence() {
        let o = detection_finding(&finding());
        assert_eq!(
            o["cloud"],
            json!({
                "provider": "AWS",
                "region": "us-east-1",
                "account": {"uid": "111111111111", "name": "payments-prod",
                            "type_id": 10, "type": "AWS Account"},
            })
        );
        let resources = o["resources"].as_array().unwrap();
        assert_eq!(resources.len(), 2);
        assert_eq!(
            resources[0]["uid"],
            "arn:aws:iam::111111111111:user/svc-backup"
        );
        assert_eq!(resources[0]["type"], "AwsIamUser");
        assert_eq!(resources[0]["name"], "svc-backup");
        assert_eq!(resources[0]["data"]["AwsIamUser"]["UserName"], "svc-backup");
        assert_eq!(resources[1]["uid"], "AKIAEXAMPLE");
        assert_eq!(resources[1]["type"], "AwsIamAccessKey");
        assert!(resources[1].get("name").is_none());
        assert!(resources[1].get("data").is_none());
        assert_eq!(
            o["remediation"],
            json!({
                "desc": "Deactivate the key.",
                "references": ["https://example.com/runbooks/access-key-created-for-other-user.md"],
            })
        );
        assert_eq!(
            o["evidences"],
            json!([{
                "api": {"operation": "CreateAccessKey", "service": {"name": "iam.amazonaws.com"}},
                "src_endpoint": {"ip": "10.20.4.17"},
                "actor": {"user": {"uid": "arn:aws:sts::111111111111:assumed-role/ops/i-0abc"}},
            }])
        );
        let pf = &o["unmapped"]["product_fields"];
        assert_eq!(pf["iamwatch/Factors"], "critical-account");
        assert_eq!(pf["iamwatch/OuPath"], "Workloads/Prod");
        assert_eq!(
            pf["iamwatch/EventId"],
            "00000000-0000-0000-0000-0000000007d3"
        );
    }

    #[test]
    fn an_archived_finding_is_closed_and_resolved_at_its_update_time() {
        let mut f = finding();
        f.record_state = RecordState::Archived;
        f.updated_at = "2026-11-02T12:00:00.000Z".to_string();
        let o = detection_finding(&f);
        assert_eq!(o["activity_id"], 3);
        assert_eq!(o["activity_name"], "Close");
        assert_eq!(o["type_uid"], 200403);
        assert_eq!(o["status_id"], 4);
        assert_eq!(o["status"], "Resolved");
        let closed = T + (18 * 60 + 57) * 1000;
        assert_eq!(o["time"], closed);
        assert_eq!(o["finding_info"]["modified_time"], closed);
        assert_eq!(o["finding_info"]["created_time"], T);
    }

    #[test]
    fn what_the_finding_does_not_carry_is_left_out() {
        let mut f = finding();
        f.aws_account_name = None;
        f.product_fields.remove(fields::ACCOUNT_NAME);
        f.product_fields
            .insert(fields::ACTOR.to_string(), "unknown".to_string());
        f.action = None;
        f.resources.clear();
        f.types.clear();
        let o = detection_finding(&f);
        assert!(o["cloud"]["account"].get("name").is_none());
        assert!(o["cloud"].get("region").is_none());
        assert!(o.get("resources").is_none());
        assert!(o.get("evidences").is_none());
        assert!(o["finding_info"].get("types").is_none());
    }

    #[test]
    fn every_label_maps_to_its_severity_id() {
        let ids: Vec<_> = Label::ALL.iter().map(|l| severity(*l).0).collect();
        assert_eq!(ids, [1, 2, 3, 4, 5]);
        let risk: Vec<_> = Label::ALL.iter().map(|l| risk_level(*l).0).collect();
        assert_eq!(risk, [0, 1, 2, 3, 4]);
    }
}
