//! The hunt's Athena flow against moto's Athena: moto runs no SQL, so the result rows are
//! seeded through its API (`POST /moto-api/static/athena/query-results`), shaped as Athena
//! returns rows of the CloudTrail table for the hunt's query (a header row, then the selected
//! columns, `useridentity` as JSON with the table's lowercase keys).

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use iamwatch_core::build::FindingContext;
use iamwatch_core::finding::{fields, RecordState};
use iamwatch_core::Policy;
use iamwatch_e2e::moto::{http_request, MotoServer};
use iamwatch_hunt::sql::COLUMNS;
use iamwatch_hunt::{AthenaError, Bound, Collector, HuntError, Layout, Query, Run, Table};
use serde_json::{json, Value};
use std::time::Duration;

/// The workspace's `moto_server` harness (a free port, killed on drop), with Athena's seeding.
struct Moto(MotoServer);

impl Moto {
    fn start() -> Moto {
        Moto(MotoServer::start().unwrap_or_else(|e| panic!("{e}")))
    }

    fn seed(&self, rows: &[Vec<Option<String>>]) {
        let rows: Vec<Value> = rows
            .iter()
            .map(|r| {
                let data: Vec<Value> = r
                    .iter()
                    .map(|c| match c {
                        Some(v) => json!({ "VarCharValue": v }),
                        None => json!({}),
                    })
                    .collect();
                json!({ "Data": data })
            })
            .collect();
        let body = json!({
            "account_id": "123456789012",
            "region": "us-east-1",
            "results": [{ "rows": rows, "column_info": [] }],
        });
        let (status, text) = http_request(
            self.0.port,
            "POST",
            "/moto-api/static/athena/query-results",
            &body.to_string(),
        )
        .expect("moto answers");
        assert_eq!(status, 201, "seeding results: {text}");
    }

    async fn client(&self) -> aws_sdk_athena::Client {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(self.0.endpoint())
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .load()
            .await;
        aws_sdk_athena::Client::new(&sdk)
    }
}

/// Lowercases every key, as the table's struct fields are named.
fn lowercase_keys(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.to_lowercase(), lowercase_keys(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The row Athena returns for a CloudTrail record.
fn row_of(record: &Value) -> Vec<Option<String>> {
    let text = |key: &str| record.get(key).and_then(Value::as_str).map(str::to_string);
    let json_text = |key: &str| {
        record
            .get(key)
            .filter(|v| !v.is_null())
            .map(|v| v.to_string())
    };
    COLUMNS
        .iter()
        .map(|(column, _)| match *column {
            "eventversion" => text("eventVersion"),
            "eventtime" => text("eventTime"),
            "eventsource" => text("eventSource"),
            "eventname" => text("eventName"),
            "awsregion" => text("awsRegion"),
            "sourceipaddress" => text("sourceIPAddress"),
            "useragent" => text("userAgent"),
            "useridentity" => record
                .get("userIdentity")
                .map(|v| lowercase_keys(v).to_string()),
            "errorcode" => text("errorCode"),
            "errormessage" => text("errorMessage"),
            "requestparameters" => json_text("requestParameters"),
            "responseelements" => json_text("responseElements"),
            "additionaleventdata" => json_text("additionalEventData"),
            "requestid" => text("requestID"),
            "eventid" => text("eventID"),
            "eventtype" => text("eventType"),
            "recipientaccountid" => text("recipientAccountId"),
            other => panic!("no test value for column {other}"),
        })
        .collect()
}

fn header() -> Vec<Option<String>> {
    COLUMNS.iter().map(|(n, _)| Some(n.to_string())).collect()
}

/// CreateUser (from events/iam-user-created.json) and the DeleteUser of the same user an hour
/// later.
fn create_and_delete() -> (Value, Value) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/iam-user-created.json"
    );
    let envelope: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let create = envelope["detail"].clone();
    let mut delete = create.clone();
    delete["eventName"] = json!("DeleteUser");
    delete["eventTime"] = json!("2026-11-02T10:30:00Z");
    delete["eventID"] = json!("00000000-0000-0000-0000-00000000d31e");
    delete["responseElements"] = Value::Null;
    (create, delete)
}

fn query() -> Query {
    Query {
        table: Table::parse("security.cloudtrail_logs_pp").unwrap(),
        layout: Layout::default(),
        since: Some(Bound::parse("2026-11-01").unwrap()),
        until: Some(Bound::parse("2026-11-03").unwrap()),
        accounts: vec!["111111111111".to_string()],
        regions: vec![],
    }
}

fn fast(run: Run) -> Run {
    Run {
        first_poll: Duration::from_millis(10),
        max_poll: Duration::from_millis(50),
        ..run
    }
}

fn collector() -> Collector {
    Collector::new(
        Policy::default(),
        None,
        FindingContext {
            region: "us-east-1".to_string(),
            partition: "aws".to_string(),
            runbook_base_url: Some("https://example.com/runbooks".to_string()),
        },
    )
}

#[tokio::test]
async fn a_created_then_deleted_user_is_found_and_archived() {
    let moto = Moto::start();
    let client = moto.client().await;
    client
        .create_work_group()
        .name("iamwatch-hunt")
        .send()
        .await
        .expect("CreateWorkGroup");
    let (create, delete) = create_and_delete();
    // Athena returns rows in the query's order (ORDER BY eventtime); the timeline does not
    // rely on it: seeded the other way round.
    moto.seed(&[header(), row_of(&delete), row_of(&create)]);
    let run = fast(Run::new(
        "security",
        "iamwatch-hunt",
        Some("s3://athena-results/hunt/".to_string()),
    ));
    let mut collector = collector();
    let mut notes = Vec::new();
    let executed = iamwatch_hunt::hunt(&client, &query(), &run, &mut collector, &mut |m| {
        notes.push(m)
    })
    .await
    .expect("the hunt runs");
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(executed.rows, 2);
    let (findings, counts) = collector.finish();
    assert_eq!(counts.rows, 2);
    assert_eq!(counts.errors, 0);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f.record_state, RecordState::Archived);
    assert_eq!(f.field(fields::USER), Some("reporting-export"));
    assert_eq!(f.aws_account_id, "111111111111");

    // The query Athena was asked to run: the hunt's SQL, in the database and workgroup given.
    let q = client
        .get_query_execution()
        .query_execution_id(&executed.id)
        .send()
        .await
        .unwrap();
    let q = q.query_execution().unwrap();
    assert_eq!(q.query(), Some(query().sql().unwrap().as_str()));
    assert_eq!(q.work_group(), Some("iamwatch-hunt"));
    assert_eq!(
        q.query_execution_context().and_then(|c| c.database()),
        Some("security")
    );
}

#[tokio::test]
async fn bad_rows_are_reported_and_the_hunt_goes_on() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (create, _) = create_and_delete();
    let mut broken = row_of(&create);
    let i = COLUMNS
        .iter()
        .position(|(n, _)| *n == "requestparameters")
        .unwrap();
    broken[i] = Some("{not json".to_string());
    moto.seed(&[header(), broken, row_of(&create)]);
    let run = fast(Run::new("security", "primary", None));
    let mut collector = collector();
    let mut notes = Vec::new();
    iamwatch_hunt::hunt(&client, &query(), &run, &mut collector, &mut |m| {
        notes.push(m)
    })
    .await
    .expect("the hunt runs");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("row 1: requestparameters is not JSON"),
        "{notes:?}"
    );
    let (findings, counts) = collector.finish();
    assert_eq!((counts.rows, counts.errors), (2, 1));
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].record_state, RecordState::Active);
}

#[tokio::test]
async fn a_result_without_the_header_row_or_an_unknown_workgroup_is_an_error() {
    let moto = Moto::start();
    let client = moto.client().await;
    let (create, _) = create_and_delete();
    moto.seed(&[row_of(&create)]);
    let mut collector = collector();
    let err = iamwatch_hunt::hunt(
        &client,
        &query(),
        &fast(Run::new("security", "primary", None)),
        &mut collector,
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, HuntError::Athena(AthenaError::Result { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("not the header"), "{err}");

    let err = iamwatch_hunt::hunt(
        &client,
        &query(),
        &fast(Run::new("security", "no-such-workgroup", None)),
        &mut collector,
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("StartQueryExecution"), "{err}");
    assert!(
        err.to_string().contains("WorkGroup does not exist"),
        "{err}"
    );
}
