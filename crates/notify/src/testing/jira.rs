//! [`FakeJira`]: Jira Cloud's issue, search, comment, status and transition endpoints on a
//! [`RecordingServer`].

use super::lock;
use super::server::{Canned, RecordedRequest, RecordingServer};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// An issue of [`FakeJira`].
#[derive(Debug, Clone, PartialEq)]
pub struct FakeIssue {
    pub key: String,
    /// The numeric id, as Jira gives it (`10001`, ...).
    pub id: String,
    /// The `fields` object of the create request.
    pub fields: Value,
    /// The `body` of each comment, in order.
    pub comments: Vec<Value>,
    /// The status name: `To Do` when created, `Done` after the `Done` transition, `To Do` again
    /// after `Reopen`.
    pub status: String,
    /// Whether search sees it without reconciliation (see [`FakeJira::set_search_lag`]).
    pub indexed: bool,
}

impl FakeIssue {
    pub fn labels(&self) -> Vec<String> {
        self.fields["labels"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|l| l.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn category(&self) -> &'static str {
        if self.status == "Done" {
            "done"
        } else {
            "new"
        }
    }
}

#[derive(Default)]
struct State {
    issues: Vec<FakeIssue>,
    /// Search leaves out issues not yet indexed unless reconciled.
    lag: bool,
    /// The API token accepted; any when `None`.
    token: Option<String>,
}

/// Jira Cloud's issue create, JQL search (`labels = "..."` only, `reconcileIssues` honoured),
/// comment, issue status and transition (`Done` from an open issue, `Reopen` from a done one)
/// endpoints, with issues kept in memory (keys `<PROJECT>-1`, ...). Requests without basic auth,
/// or with another token than the one [`FakeJira::require_token`] set, get 401.
pub struct FakeJira {
    pub server: RecordingServer,
    state: Arc<Mutex<State>>,
}

fn basic_token(req: &RecordedRequest) -> Option<String> {
    use std::str;
    let value = req.header("authorization")?.strip_prefix("Basic ")?;
    let decoded = decode_base64(value.trim())?;
    let text = str::from_utf8(&decoded).ok()?;
    text.split_once(':').map(|(_, t)| t.to_string())
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c)? as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn transitions_of(issue: &FakeIssue) -> Value {
    if issue.category() == "done" {
        json!({"transitions": [{"id": "41", "name": "Reopen", "to": {"name": "To Do", "statusCategory": {"key": "new"}}}]})
    } else {
        json!({"transitions": [{"id": "31", "name": "Done", "to": {"name": "Done", "statusCategory": {"key": "done"}}}]})
    }
}

impl FakeJira {
    pub async fn start() -> std::io::Result<FakeJira> {
        let server = RecordingServer::start().await?;
        let state: Arc<Mutex<State>> = Arc::default();

        let authorized = {
            let state = state.clone();
            move |req: &RecordedRequest| match basic_token(req) {
                None => false,
                Some(t) => lock(&state).token.as_ref().is_none_or(|want| *want == t),
            }
        };

        let (st, auth) = (state.clone(), authorized.clone());
        server.route("POST", "/rest/api/3/search/jql", move |req| {
            if !auth(req) {
                return Canned::status(401);
            }
            let body = req.json();
            let jql = body["jql"].as_str().unwrap_or("").to_string();
            let Some(label) = jql
                .strip_prefix("labels = \"")
                .and_then(|s| s.strip_suffix('"'))
            else {
                return Canned::json(
                    400,
                    &json!({"errorMessages": [format!("unsupported JQL {jql}")]}),
                );
            };
            let reconcile: Vec<String> = body["reconcileIssues"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_u64().map(|n| n.to_string()))
                        .collect()
                })
                .unwrap_or_default();
            let state = lock(&st);
            let hits: Vec<Value> = state
                .issues
                .iter()
                .filter(|i| !state.lag || i.indexed || reconcile.contains(&i.id))
                .filter(|i| i.labels().iter().any(|l| l == label))
                .map(|i| json!({"id": i.id, "key": i.key}))
                .take(1)
                .collect();
            Canned::json(200, &json!({"issues": hits, "isLast": true}))
        });

        let (st, auth) = (state.clone(), authorized.clone());
        server.route("GET", "/rest/api/3/issue/", move |req| {
            if !auth(req) {
                return Canned::status(401);
            }
            let rest = req.path.trim_start_matches("/rest/api/3/issue/");
            let (key, transitions) = match rest.strip_suffix("/transitions") {
                Some(key) => (key, true),
                None => (rest, false),
            };
            let state = lock(&st);
            let Some(issue) = state.issues.iter().find(|i| i.key == key) else {
                return Canned::json(404, &json!({"errorMessages": ["Issue does not exist"]}));
            };
            if transitions {
                return Canned::json(200, &transitions_of(issue));
            }
            Canned::json(
                200,
                &json!({"id": issue.id, "key": issue.key, "fields": {"status": {
                    "name": issue.status, "statusCategory": {"key": issue.category()}}}}),
            )
        });

        let (st, auth) = (state.clone(), authorized.clone());
        server.route("POST", "/rest/api/3/issue/", move |req| {
            if !auth(req) {
                return Canned::status(401);
            }
            let rest = req.path.trim_start_matches("/rest/api/3/issue/");
            let mut state = lock(&st);
            if let Some(key) = rest.strip_suffix("/transitions") {
                let Some(issue) = state.issues.iter_mut().find(|i| i.key == key) else {
                    return Canned::json(404, &json!({"errorMessages": ["Issue does not exist"]}));
                };
                let id = req.json()["transition"]["id"].as_str().unwrap_or("").to_string();
                let offered = transitions_of(issue);
                let Some(t) = offered["transitions"]
                    .as_array()
                    .and_then(|a| a.iter().find(|t| t["id"] == id.as_str()))
                else {
                    return Canned::json(400, &json!({"errorMessages": [format!("transition {id} is not valid for {key}")]}));
                };
                issue.status = t["to"]["name"].as_str().unwrap_or("To Do").to_string();
                return Canned::status(204);
            }
            let key = rest.trim_end_matches("/comment");
            match state.issues.iter_mut().find(|i| i.key == key) {
                Some(issue) => {
                    issue.comments.push(req.json()["body"].clone());
                    Canned::json(201, &json!({"id": issue.comments.len().to_string()}))
                }
                None => Canned::json(404, &json!({"errorMessages": ["Issue does not exist"]})),
            }
        });

        let (st, auth) = (state.clone(), authorized);
        server.route("POST", "/rest/api/3/issue", move |req| {
            if !auth(req) {
                return Canned::status(401);
            }
            let fields = req.json()["fields"].clone();
            let project = fields["project"]["key"].as_str().unwrap_or("").to_string();
            if project.is_empty() || fields["summary"].as_str().is_none() {
                return Canned::json(400, &json!({"errors": {"project": "project is required"}}));
            }
            let mut state = lock(&st);
            let n = state.issues.len() + 1;
            let key = format!("{project}-{n}");
            let id = (10000 + n).to_string();
            let indexed = !state.lag;
            state.issues.push(FakeIssue {
                key: key.clone(),
                id: id.clone(),
                fields,
                comments: Vec::new(),
                status: "To Do".to_string(),
                indexed,
            });
            Canned::json(
                201,
                &json!({"id": id, "key": key, "self": "http://jira/rest/api/3/issue/1"}),
            )
        });
        Ok(FakeJira { server, state })
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The issues created so far.
    pub fn issues(&self) -> Vec<FakeIssue> {
        lock(&self.state).issues.clone()
    }

    /// With `true`, search sees the issues created from now on only when they are named in
    /// `reconcileIssues` (Jira's eventually consistent search index), until
    /// [`FakeJira::index_all`].
    pub fn set_search_lag(&self, lag: bool) {
        lock(&self.state).lag = lag;
    }

    /// The search index catches up: every issue is found.
    pub fn index_all(&self) {
        for i in &mut lock(&self.state).issues {
            i.indexed = true;
        }
    }

    /// From now on only this API token is accepted (a rotation); other tokens get 401.
    pub fn require_token(&self, token: &str) {
        lock(&self.state).token = Some(token.to_string());
    }

    /// Sets an issue's status, as a person working it would (`Done`, `To Do`).
    pub fn set_status(&self, key: &str, status: &str) {
        if let Some(i) = lock(&self.state).issues.iter_mut().find(|i| i.key == key) {
            i.status = status.to_string();
        }
    }
}
