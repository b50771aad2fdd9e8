//! One result row of the hunt's query back into a [`CloudTrailRecord`]: the table's lowercase
//! columns to the record's fields, the JSON string columns (`requestparameters`,
//! `responseelements`) parsed and kept whole, and `useridentity` (selected as JSON, whose keys
//! are the table's lowercase struct fields) renamed to CloudTrail's camelCase keys.

use crate::sql::COLUMNS;
use iamwatch_core::CloudTrailRecord;
use serde_json::{Map, Value};

/// A row that is no CloudTrail record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RowError(pub String);

/// The record field each selected column fills. `additionaleventdata` is parsed (a bad value
/// is an error, as in a log file) though the record keeps no field for it.
fn field(column: &str) -> Option<&'static str> {
    Some(match column {
        "eventversion" => "eventVersion",
        "eventtime" => "eventTime",
        "eventsource" => "eventSource",
        "eventname" => "eventName",
        "awsregion" => "awsRegion",
        "sourceipaddress" => "sourceIPAddress",
        "useragent" => "userAgent",
        "useridentity" => "userIdentity",
        "errorcode" => "errorCode",
        "errormessage" => "errorMessage",
        "requestparameters" => "requestParameters",
        "responseelements" => "responseElements",
        "additionaleventdata" => "additionalEventData",
        "requestid" => "requestID",
        "eventid" => "eventID",
        "eventtype" => "eventType",
        "recipientaccountid" => "recipientAccountId",
        _ => return None,
    })
}

/// Columns holding JSON text.
const JSON_COLUMNS: [&str; 4] = [
    "useridentity",
    "requestparameters",
    "responseelements",
    "additionaleventdata",
];

/// CloudTrail's names of the `useridentity` struct's fields, which the table spells in
/// lowercase.
fn identity_key(key: &str) -> Option<&'static str> {
    Some(match key {
        "type" => "type",
        "principalid" => "principalId",
        "arn" => "arn",
        "accountid" => "accountId",
        "invokedby" => "invokedBy",
        "accesskeyid" => "accessKeyId",
        "username" => "userName",
        "onbehalfof" => "onBehalfOf",
        "userid" => "userId",
        "identitystorearn" => "identityStoreArn",
        "sessioncontext" => "sessionContext",
        "attributes" => "attributes",
        "mfaauthenticated" => "mfaAuthenticated",
        "creationdate" => "creationDate",
        "sessionissuer" => "sessionIssuer",
        "sourceidentity" => "sourceIdentity",
        "ec2roledelivery" => "ec2RoleDelivery",
        "webidfederationdata" => "webIdFederationData",
        "federatedprovider" => "federatedProvider",
        "credentialid" => "credentialId",
        "identityprovider" => "identityProvider",
        _ => return None,
    })
}

/// Renames the struct's keys below `parent`, leaving unknown keys and the map
/// `webIdFederationData.attributes` (whose keys are the identity provider's own) as they are.
/// Nulls (a struct field the record did not have) are dropped.
fn camel_identity(v: Value, parent: &str) -> Value {
    match v {
        Value::Object(obj) => {
            let mut out = Map::new();
            for (k, v) in obj {
                if v.is_null() {
                    continue;
                }
                let name = identity_key(&k).map(str::to_string).unwrap_or(k);
                let v = if parent == "webIdFederationData" && name == "attributes" {
                    v
                } else {
                    camel_identity(v, &name)
                };
                out.insert(name, v);
            }
            Value::Object(out)
        }
        other => other,
    }
}

/// The record of one row, its cells in the order of [`COLUMNS`] (`None` is SQL NULL).
pub fn record(cells: &[Option<String>]) -> Result<CloudTrailRecord, RowError> {
    if cells.len() != COLUMNS.len() {
        return Err(RowError(format!(
            "{} columns where the query selects {}",
            cells.len(),
            COLUMNS.len()
        )));
    }
    let mut obj = Map::new();
    for ((column, _), cell) in COLUMNS.iter().zip(cells) {
        let Some(text) = cell else { continue };
        let Some(name) = field(column) else { continue };
        let value = if JSON_COLUMNS.contains(column) {
            if text.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(text)
                .map_err(|e| RowError(format!("{column} is not JSON: {e}")))?;
            if *column == "useridentity" {
                camel_identity(v, "userIdentity")
            } else {
                v
            }
        } else {
            Value::String(text.clone())
        };
        if !value.is_null() {
            obj.insert(name.to_string(), value);
        }
    }
    let record: CloudTrailRecord =
        serde_json::from_value(Value::Object(obj)).map_err(|e| RowError(e.to_string()))?;
    record.validate().map_err(RowError)?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A row as Athena returns it for `events/`-like CreateUser by an assumed role.
    fn row(overrides: &[(&str, Option<&str>)]) -> Vec<Option<String>> {
        let identity = json!({
            "type": "AssumedRole",
            "principalid": "AROAEXAMPLE:alice",
            "arn": "arn:aws:sts::111111111111:assumed-role/Admin/alice",
            "accountid": "111111111111",
            "invokedby": null,
            "accesskeyid": "ASIAEXAMPLE",
            "username": null,
            "onbehalfof": null,
            "sessioncontext": {
                "attributes": {"mfaauthenticated": "true", "creationdate": "2024-08-01T13:00:00Z"},
                "sessionissuer": {
                    "type": "Role",
                    "principalid": "AROAEXAMPLE",
                    "arn": "arn:aws:iam::111111111111:role/Admin",
                    "accountid": "111111111111",
                    "username": "Admin"
                },
                "ec2roledelivery": null,
                "webidfederationdata": {
                    "federatedprovider": "arn:aws:iam::111111111111:oidc-provider/example.com",
                    "attributes": {"username": "kept-as-is", "example.com:aud": "x"}
                }
            }
        })
        .to_string();
        let mut cells: Vec<(&str, Option<String>)> = vec![
            ("eventversion", Some("1.09".into())),
            ("eventtime", Some("2024-08-01T13:33:28Z".into())),
            ("eventsource", Some("iam.amazonaws.com".into())),
            ("eventname", Some("CreateUser".into())),
            ("awsregion", Some("us-east-1".into())),
            ("sourceipaddress", Some("203.0.113.7".into())),
            ("useragent", Some("aws-cli/2.15".into())),
            ("useridentity", Some(identity)),
            ("errorcode", None),
            ("errormessage", None),
            ("requestparameters", Some(r#"{"userName":"backdoor","tags":[{"key":"k","value":"v"}]}"#.into())),
            ("responseelements", Some(r#"{"user":{"userName":"backdoor","arn":"arn:aws:iam::111111111111:user/backdoor","createDate":"Aug 1, 2024 1:33:28 PM"}}"#.into())),
            ("additionaleventdata", None),
            ("requestid", Some("req-1".into())),
            ("eventid", Some("evt-1".into())),
            ("eventtype", Some("AwsApiCall".into())),
            ("recipientaccountid", Some("111111111111".into())),
        ];
        for (name, value) in overrides {
            let cell = cells.iter_mut().find(|(n, _)| n == name).unwrap();
            cell.1 = value.map(str::to_string);
        }
        assert_eq!(
            cells.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            COLUMNS.iter().map(|(n, _)| *n).collect::<Vec<_>>()
        );
        cells.into_iter().map(|(_, v)| v).collect()
    }

    #[test]
    fn a_row_maps_onto_the_record() {
        let r = record(&row(&[])).unwrap();
        assert_eq!(r.event_name, "CreateUser");
        assert_eq!(r.event_source, "iam.amazonaws.com");
        assert_eq!(r.event_time, "2024-08-01T13:33:28Z");
        assert_eq!(r.source_ip_address.as_deref(), Some("203.0.113.7"));
        assert_eq!(r.event_id.as_deref(), Some("evt-1"));
        assert_eq!(r.request_id.as_deref(), Some("req-1"));
        assert_eq!(r.account_id(), "111111111111");
        assert_eq!(r.param("userName"), Some("backdoor"));
        // JSON columns are kept whole, nested arrays included.
        assert_eq!(
            r.request_parameters.as_ref().unwrap()["tags"][0]["value"],
            "v"
        );
        assert_eq!(
            r.response("/user/arn"),
            Some("arn:aws:iam::111111111111:user/backdoor")
        );
        assert!(r.succeeded());
        // The identity struct, renamed to CloudTrail's keys.
        let id = &r.user_identity;
        assert_eq!(id.kind.as_deref(), Some("AssumedRole"));
        assert_eq!(id.principal_id.as_deref(), Some("AROAEXAMPLE:alice"));
        assert_eq!(id.access_key_id.as_deref(), Some("ASIAEXAMPLE"));
        assert_eq!(id.user_name, None);
        assert_eq!(
            r.principal_for_trust(),
            Some("arn:aws:iam::111111111111:role/Admin")
        );
        assert_eq!(r.mfa_authenticated(), Some(true));
        let ctx = id.session_context.as_ref().unwrap();
        assert_eq!(
            ctx.session_issuer.as_ref().unwrap().user_name.as_deref(),
            Some("Admin")
        );
        // A map's keys are data, not struct fields: not renamed.
        let web = ctx.web_id_federation_data.as_ref().unwrap();
        assert_eq!(web["attributes"]["username"], "kept-as-is");
        assert_eq!(
            web["federatedProvider"],
            "arn:aws:iam::111111111111:oidc-provider/example.com"
        );
    }

    #[test]
    fn failed_calls_and_null_json_columns() {
        let r = record(&row(&[
            ("errorcode", Some("AccessDenied")),
            ("errormessage", Some("no")),
            ("requestparameters", None),
            ("responseelements", Some("null")),
        ]))
        .unwrap();
        assert!(!r.succeeded());
        assert_eq!(r.error_message.as_deref(), Some("no"));
        assert_eq!(r.request_parameters, None);
        assert_eq!(r.response_elements, None);
    }

    #[test]
    fn bad_rows_are_errors() {
        let e = record(&row(&[("requestparameters", Some("{not json"))])).unwrap_err();
        assert!(e.0.contains("requestparameters is not JSON"), "{e}");
        let e = record(&row(&[("eventtime", Some("yesterday"))])).unwrap_err();
        assert!(e.0.contains("bad eventTime"), "{e}");
        let e = record(&row(&[("eventname", None)])).unwrap_err();
        assert!(e.0.contains("eventName"), "{e}");
        let e = record(&row(&[("additionaleventdata", Some("]"))])).unwrap_err();
        assert!(e.0.contains("additionaleventdata"), "{e}");
        assert!(record(&[None]).is_err());
    }
}
