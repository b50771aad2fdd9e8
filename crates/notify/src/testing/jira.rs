//! [`FakeJira`]: Jira Cloud's issue, search and comment endpoints on a [`RecordingServer`].

use super::lock;
use super::server::{Canned, RecordedRequest, RecordingServer};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// An issue of [`FakeJira`].
#[derive(Debug, Clone, PartialEq)]
pub struct FakeIssue {
    pub key: String,
    /// The `fields` object of the create request.
    pub fields: Value,
    /// The `body` of each comment, in order.
    pub comments: Vec<Value>,
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
}

/// Jira Cloud's issue create, JQL search (`labels = "..."` only) and comment endpoints, with
/// issues kept in memory (keys `<PROJECT>-1`, `-2`, ...). Requests without basic auth get 401.
pub struct FakeJira {
    pub server: RecordingServer,
    issues: Arc<Mutex<Vec<FakeIssue>>>,
}

impl FakeJira {
    pub async fn start() -> std::io::Result<FakeJira> {
        let server = RecordingServer::start().await?;
        let issues: Arc<Mutex<Vec<FakeIssue>>> = Arc::default();

        let unauthorized = |req: &RecordedRequest| {
            !req.header("authorization")
                .is_some_and(|a| a.starts_with("Basic "))
        };
        let found = issues.clone();
        server.route("POST", "/rest/api/3/search/jql", move |req| {
            if unauthorized(req) {
                return Canned::status(401);
            }
            let jql = req.json()["jql"].as_str().unwrap_or("").to_string();
            let Some(label) = jql
                .strip_prefix("labels = \"")
                .and_then(|s| s.strip_suffix('"'))
            else {
                return Canned::json(400, &json!({"errorMessages": [format!("unsupported JQL {jql}")]}));
            };
            let hits: Vec<Value> = lock(&found)
                .iter()
                .filter(|i| i.labels().iter().any(|l| l == label))
                .map(|i| json!({"id": i.key.trim_start_matches(|c: char| !c.is_ascii_digit()), "key": i.key}))
                .take(1)
                .collect();
            Canned::json(200, &json!({"issues": hits, "isLast": true}))
        });
        let commented = issues.clone();
        server.route("POST", "/rest/api/3/issue/", move |req| {
            if unauthorized(req) {
                return Canned::status(401);
            }
            let key = req
                .path
                .trim_start_matches("/rest/api/3/issue/")
                .trim_end_matches("/comment");
            let mut all = lock(&commented);
            match all.iter_mut().find(|i| i.key == key) {
                Some(issue) => {
                    issue.comments.push(req.json()["body"].clone());
                    Canned::json(201, &json!({"id": issue.comments.len().to_string()}))
                }
                None => Canned::json(404, &json!({"errorMessages": ["Issue does not exist"]})),
            }
        });
        let created = issues.clone();
        server.route("POST", "/rest/api/3/issue", move |req| {
            if unauthorized(req) {
                return Canned::status(401);
            }
            let fields = req.json()["fields"].clone();
            let project = fields["project"]["key"].as_str().unwrap_or("").to_string();
            if project.is_empty() || fields["summary"].as_str().is_none() {
                return Canned::json(400, &json!({"errors": {"project": "project is required"}}));
            }
            let mut all = lock(&created);
            let key = format!("{project}-{}", all.len() + 1);
            all.push(FakeIssue {
                key: key.clone(),
                fields,
                comments: Vec::new(),
            });
            Canned::json(
                201,
                &json!({"id": (10000 + all.len()).to_string(), "key": key, "self": "http://jira/rest/api/3/issue/1"}),
            )
        });
        Ok(FakeJira { server, issues })
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The issues created so far.
    pub fn issues(&self) -> Vec<FakeIssue> {
        lock(&self.issues).clone()
    }
}
