//! [`JiraTicketSink`]: tickets in Jira Cloud (REST API v3).
//!
//! One issue per finding. The issue carries the label `iamwatch` and the label of the finding's
//! episode ([`episode_label`]: the finding's own label, [`finding_label`], for the first). As an
//! [`IssueTracker`] (what the ticket function uses, with its ledger):
//!
//! - **open**: search the episode's label (`POST /rest/api/3/search/jql`) with
//!   `reconcileIssues` naming the issue ids the caller knows and those this sink created lately
//!   (the search index is eventually consistent; reconciliation makes those ids current), and
//!   adopt the issue found; else create it (`POST /rest/api/3/issue`). A create is retried only
//!   when Jira certainly did not act on it (429, connection refused); a timeout or a 5xx fails
//!   retryably, and the next open searches before creating again.
//! - **close** (the finding was archived): the configured close transition
//!   (`GET`/`POST /rest/api/3/issue/{key}/transitions`) when set and available, and a comment
//!   saying why; without one, the comment alone.
//! - **recur** (active again): the issue's status category (`GET /rest/api/3/issue/{key}`);
//!   a comment on an open issue; a done issue is reopened with the configured reopen transition
//!   and commented on, or, without one, left for the caller to open a new issue.
//!
//! As a [`TicketSink`], `open` comments on the issue found instead of creating a second one.
//! Descriptions and comments are Atlassian Document Format. Authentication is basic auth with
//! the account's email and an API token; a 401 is reported as such ([`crate::is_unauthorized`])
//! so the caller may fetch rotated credentials.

use crate::content;
use crate::http::{self, RetryPolicy};
use crate::secret::JiraCredentials;
use crate::NotifyError;
use iamwatch_core::finding::fields;
use iamwatch_core::finding_event::FindingEvent;
use iamwatch_core::ports::{Issue, IssueTracker, PortError, TicketRef, TicketSink};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Mutex;

/// The label every iamwatch issue carries.
pub const IAMWATCH_LABEL: &str = "iamwatch";
/// Jira's longest summary.
const MAX_SUMMARY: usize = 255;

/// The label that ties a Jira issue to one finding: `iamwatch-` and the first 32 hex digits
/// (128 bits) of the SHA-256 of the finding id. Deterministic, no spaces, 41 characters.
pub fn finding_label(finding_id: &str) -> String {
    let digest = Sha256::digest(finding_id.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{IAMWATCH_LABEL}-{hex}")
}

/// The label of one episode of a finding: [`finding_label`] for the first, with `-e<n>` after it
/// for episode `n` > 1 (used only when the earlier issue is done and cannot be reopened).
pub fn episode_label(finding_id: &str, episode: u32) -> String {
    let label = finding_label(finding_id);
    if episode <= 1 {
        label
    } else {
        format!("{label}-e{episode}")
    }
}

/// The issue ids this sink created lately that are kept for `reconcileIssues` (Jira takes 50).
const RECENT_ISSUES: usize = 50;

/// Where and how issues are opened.
#[derive(Debug, Clone)]
pub struct JiraConfig {
    /// The site, e.g. `https://example.atlassian.net` (a trailing `/` is ignored).
    pub base_url: String,
    /// Project key, e.g. `SEC`.
    pub project_key: String,
    /// Issue type name; [`JiraConfig::DEFAULT_ISSUE_TYPE`] unless the project wants another.
    pub issue_type: String,
    pub credentials: JiraCredentials,
    pub retry: RetryPolicy,
    /// The transition that closes an issue when its finding is archived (its name or the name
    /// of its target status, any case); `None`: the issue is commented on only.
    pub close_transition: Option<String>,
    /// The transition that reopens a done issue when its finding recurs; `None`: a new issue is
    /// opened for the new episode instead.
    pub reopen_transition: Option<String>,
}

impl JiraConfig {
    pub const DEFAULT_ISSUE_TYPE: &'static str = "Task";

    /// A configuration with the default issue type and retry policy.
    pub fn new(base_url: &str, project_key: &str, credentials: JiraCredentials) -> JiraConfig {
        JiraConfig {
            base_url: base_url.to_string(),
            project_key: project_key.to_string(),
            issue_type: Self::DEFAULT_ISSUE_TYPE.to_string(),
            credentials,
            retry: RetryPolicy::default(),
            close_transition: None,
            reopen_transition: None,
        }
    }
}

/// Opens Jira issues for findings; see the module docs.
#[derive(Debug)]
pub struct JiraTicketSink {
    client: reqwest::Client,
    base_url: String,
    project_key: String,
    issue_type: String,
    credentials: JiraCredentials,
    retry: RetryPolicy,
    close_transition: Option<String>,
    reopen_transition: Option<String>,
    /// Ids of the issues created lately by this sink, newest last.
    recent: Mutex<Vec<String>>,
}

#[derive(Deserialize)]
struct SearchResponse {
    #[serde(default)]
    issues: Vec<IssueKey>,
}

#[derive(Deserialize)]
struct IssueKey {
    key: String,
    #[serde(default)]
    id: String,
}

#[derive(Deserialize)]
struct Transitions {
    #[serde(default)]
    transitions: Vec<Transition>,
}

#[derive(Deserialize)]
struct Transition {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    to: Option<Status>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    name: String,
    #[serde(default, rename = "statusCategory")]
    category: Option<StatusCategory>,
}

#[derive(Deserialize)]
struct StatusCategory {
    #[serde(default)]
    key: String,
}

fn unexpected(operation: &str, e: serde_json::Error) -> PortError {
    PortError {
        operation: operation.to_string(),
        message: format!("unexpected response: {e}"),
        retryable: false,
    }
}

fn optional(name: Option<String>) -> Option<String> {
    name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty())
}

impl JiraTicketSink {
    /// Validates the configuration (URL, project key, credentials present) and builds the client.
    pub fn new(config: JiraConfig) -> Result<JiraTicketSink, NotifyError> {
        let base_url = config.base_url.trim().trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base_url).map_err(|e| NotifyError::Config {
            what: "Jira base URL",
            message: format!("{base_url:?} is not a URL: {e}"),
        })?;
        if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
            return Err(NotifyError::Config {
                what: "Jira base URL",
                message: format!("{base_url:?} is not an http(s) URL with a host"),
            });
        }
        let project_key = config.project_key.trim().to_string();
        if project_key.is_empty() {
            return Err(NotifyError::Config {
                what: "Jira project key",
                message: "is empty".to_string(),
            });
        }
        if config.credentials.email.is_empty() || config.credentials.api_token.is_empty() {
            return Err(NotifyError::Config {
                what: "Jira credentials",
                message: "email and api_token must both be set".to_string(),
            });
        }
        let issue_type = match config.issue_type.trim() {
            "" => JiraConfig::DEFAULT_ISSUE_TYPE.to_string(),
            t => t.to_string(),
        };
        Ok(JiraTicketSink {
            client: crate::client()?,
            base_url,
            project_key,
            issue_type,
            credentials: config.credentials,
            retry: config.retry,
            close_transition: optional(config.close_transition),
            reopen_transition: optional(config.reopen_transition),
            recent: Mutex::new(Vec::new()),
        })
    }

    /// The browse URL of an issue.
    pub fn issue_url(&self, key: &str) -> String {
        format!("{}/browse/{key}", self.base_url)
    }

    async fn post(&self, operation: &str, path: &str, body: &Value) -> Result<Value, PortError> {
        self.request(operation, reqwest::Method::POST, path, Some(body), true)
            .await
    }

    async fn get(&self, operation: &str, path: &str) -> Result<Value, PortError> {
        self.request(operation, reqwest::Method::GET, path, None, true)
            .await
    }

    /// One call; `idempotent = false` retries only what Jira certainly did not act on.
    async fn request(
        &self,
        operation: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        idempotent: bool,
    ) -> Result<Value, PortError> {
        let url = format!("{}{path}", self.base_url);
        let make = || {
            let req = self
                .client
                .request(method.clone(), &url)
                .basic_auth(&self.credentials.email, Some(&self.credentials.api_token))
                .header(reqwest::header::ACCEPT, "application/json");
            match body {
                Some(b) => req.json(b),
                None => req,
            }
        };
        let reply = http::send_with(&self.retry, operation, idempotent, make).await?;
        if reply.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&reply.body).map_err(|e| PortError {
            operation: operation.to_string(),
            message: format!("HTTP {} with a body that is not JSON: {e}", reply.status),
            retryable: false,
        })
    }

    fn issue(&self, found: IssueKey) -> Issue {
        Issue {
            url: self.issue_url(&found.key),
            key: found.key,
            id: found.id,
        }
    }

    /// The issue that has `label`, if any. `reconcile`: issue ids whose latest state the search
    /// must reflect (Jira's `reconcileIssues`, at most 50; ids that are not numbers are left out).
    async fn find(&self, label: &str, reconcile: &[String]) -> Result<Option<Issue>, PortError> {
        let operation = "jira:search/jql";
        let mut body = json!({
            "jql": format!("labels = \"{label}\""),
            "fields": ["key"],
            "maxResults": 1,
        });
        let mut ids: Vec<u64> = reconcile.iter().filter_map(|i| i.parse().ok()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.truncate(RECENT_ISSUES);
        if !ids.is_empty() {
            body["reconcileIssues"] = json!(ids);
        }
        let value = self
            .post(operation, "/rest/api/3/search/jql", &body)
            .await?;
        let found: SearchResponse =
            serde_json::from_value(value).map_err(|e| unexpected(operation, e))?;
        Ok(found.issues.into_iter().next().map(|i| self.issue(i)))
    }

    async fn create(&self, event: &FindingEvent, label: &str) -> Result<Issue, PortError> {
        let operation = "jira:create issue";
        let body = json!({
            "fields": {
                "project": {"key": self.project_key},
                "issuetype": {"name": self.issue_type},
                "summary": summary(event),
                "description": description(event),
                "labels": [IAMWATCH_LABEL, label],
            }
        });
        let value = self
            .request(
                operation,
                reqwest::Method::POST,
                "/rest/api/3/issue",
                Some(&body),
                false,
            )
            .await?;
        let created: IssueKey =
            serde_json::from_value(value).map_err(|e| unexpected(operation, e))?;
        let issue = self.issue(created);
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.push(issue.id.clone());
        if recent.len() > RECENT_ISSUES {
            recent.remove(0);
        }
        Ok(issue)
    }

    /// The issue's status category key (`new`, `indeterminate`, `done`).
    async fn status_category(&self, key: &str) -> Result<String, PortError> {
        let operation = format!("jira:get issue {key}");
        let value = self
            .get(
                &operation,
                &format!("/rest/api/3/issue/{key}?fields=status"),
            )
            .await?;
        let status: Status = serde_json::from_value(value["fields"]["status"].clone())
            .map_err(|e| unexpected(&operation, e))?;
        Ok(status.category.map(|c| c.key).unwrap_or_default())
    }

    /// Applies the transition called `name` (or leading to a status called `name`) when the
    /// issue offers it; false when it does not.
    async fn transition(&self, key: &str, name: &str) -> Result<bool, PortError> {
        let operation = format!("jira:transitions of {key}");
        let path = format!("/rest/api/3/issue/{key}/transitions");
        let value = self.get(&operation, &path).await?;
        let offered: Transitions =
            serde_json::from_value(value).map_err(|e| unexpected(&operation, e))?;
        let wanted = |t: &&Transition| {
            t.name.eq_ignore_ascii_case(name)
                || t.to
                    .as_ref()
                    .is_some_and(|s| s.name.eq_ignore_ascii_case(name))
        };
        let Some(t) = offered.transitions.iter().find(wanted) else {
            return Ok(false);
        };
        let operation = format!("jira:transition {key} ({name})");
        self.post(&operation, &path, &json!({"transition": {"id": t.id}}))
            .await?;
        Ok(true)
    }

    async fn comment_doc(&self, key: &str, body: Value) -> Result<(), PortError> {
        let operation = format!("jira:comment on {key}");
        self.post(
            &operation,
            &format!("/rest/api/3/issue/{key}/comment"),
            &json!({ "body": body }),
        )
        .await?;
        Ok(())
    }

    async fn comment(&self, key: &str, event: &FindingEvent) -> Result<(), PortError> {
        self.comment_doc(key, comment(event)).await
    }

    fn known_ids(&self, known: &[String]) -> Vec<String> {
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        known.iter().chain(recent.iter()).cloned().collect()
    }
}

impl IssueTracker for JiraTicketSink {
    async fn open(
        &self,
        event: &FindingEvent,
        episode: u32,
        known: &[String],
    ) -> Result<(Issue, bool), PortError> {
        let label = episode_label(&event.finding_id, episode);
        if let Some(issue) = self.find(&label, &self.known_ids(known)).await? {
            tracing::info!(finding_id = %event.finding_id, ticket = %issue.key, "found the episode's Jira issue");
            return Ok((issue, false));
        }
        let issue = self.create(event, &label).await?;
        tracing::info!(finding_id = %event.finding_id, ticket = %issue.key, "opened a Jira issue");
        Ok((issue, true))
    }

    async fn close(&self, issue: &Issue, event: &FindingEvent) -> Result<(), PortError> {
        let transitioned = match &self.close_transition {
            Some(name) => {
                let done = self.transition(&issue.key, name).await?;
                if !done {
                    tracing::warn!(ticket = %issue.key, transition = %name, "the issue does not offer the close transition; commenting only");
                }
                done
            }
            None => false,
        };
        self.comment_doc(&issue.key, archived_comment(event, transitioned))
            .await
    }

    async fn recur(&self, issue: &Issue, event: &FindingEvent) -> Result<bool, PortError> {
        if self.status_category(&issue.key).await? == "done" {
            let Some(name) = &self.reopen_transition else {
                return Ok(false);
            };
            if !self.transition(&issue.key, name).await? {
                tracing::warn!(ticket = %issue.key, transition = %name, "the done issue does not offer the reopen transition");
                return Ok(false);
            }
        }
        self.comment_doc(&issue.key, recurred_comment(event))
            .await?;
        Ok(true)
    }
}

impl TicketSink for JiraTicketSink {
    async fn open(&self, event: &FindingEvent) -> Result<TicketRef, PortError> {
        let label = finding_label(&event.finding_id);
        if let Some(issue) = self.find(&label, &self.known_ids(&[])).await? {
            self.comment(&issue.key, event).await?;
            tracing::info!(finding_id = %event.finding_id, ticket = %issue.key, "commented on the existing Jira issue");
            return Ok(issue.ticket(false));
        }
        let issue = self.create(event, &label).await?;
        tracing::info!(finding_id = %event.finding_id, ticket = %issue.key, "opened a Jira issue");
        Ok(issue.ticket(true))
    }
}

/// The issue summary: the finding title, within Jira's 255 characters, on one line.
fn summary(event: &FindingEvent) -> String {
    let mut s = content::one_line(&event.finding.title);
    if s.is_empty() {
        s = format!("iamwatch: {} in {}", event.rule_id, event.account_id);
    }
    // Jira counts characters, truncate counts bytes: bytes are the stricter bound.
    iamwatch_core::finding::truncate(&s, MAX_SUMMARY)
}

// Atlassian Document Format building blocks.

fn text(s: &str) -> Value {
    json!({"type": "text", "text": s})
}

fn strong(s: &str) -> Value {
    json!({"type": "text", "text": s, "marks": [{"type": "strong"}]})
}

fn code(s: &str) -> Value {
    json!({"type": "text", "text": s, "marks": [{"type": "code"}]})
}

fn link(s: &str, href: &str) -> Value {
    json!({"type": "text", "text": s, "marks": [{"type": "link", "attrs": {"href": href}}]})
}

fn paragraph(content: Vec<Value>) -> Value {
    // ADF rejects empty text nodes.
    let content: Vec<Value> = content
        .into_iter()
        .filter(|n| n["text"].as_str().is_none_or(|t| !t.is_empty()))
        .collect();
    json!({"type": "paragraph", "content": content})
}

fn heading(level: u8, s: &str) -> Value {
    json!({"type": "heading", "attrs": {"level": level}, "content": [text(s)]})
}

fn bullet_list(items: Vec<Value>) -> Value {
    let items: Vec<Value> = items
        .into_iter()
        .map(|p| json!({"type": "listItem", "content": [p]}))
        .collect();
    json!({"type": "bulletList", "content": items})
}

fn ordered_list(items: Vec<Value>) -> Value {
    let items: Vec<Value> = items
        .into_iter()
        .map(|p| json!({"type": "listItem", "content": [p]}))
        .collect();
    json!({"type": "orderedList", "attrs": {"order": 1}, "content": items})
}

fn code_block(language: &str, s: &str) -> Value {
    json!({"type": "codeBlock", "attrs": {"language": language}, "content": [text(s)]})
}

fn field(name: &str, value: Value) -> Value {
    paragraph(vec![strong(&format!("{name}: ")), value])
}

fn doc(content: Vec<Value>) -> Value {
    json!({"type": "doc", "version": 1, "content": content})
}

/// The facts of a finding, as a bullet list.
fn facts(event: &FindingEvent) -> Value {
    let mut items = vec![
        field(
            "Severity",
            text(&format!("{} (score {})", event.label.as_str(), event.score)),
        ),
        field("Why", text(&content::factors(event))),
        field("Account", text(&content::account(event))),
        field("OU", text(&content::ou_path(event))),
        field("Actor", code(content::actor(event))),
    ];
    if let Some(target) = event.target.as_deref().filter(|t| !t.is_empty()) {
        items.push(field("Target", code(target)));
    }
    items.push(field("Rule", code(&event.rule_id)));
    items.push(field("Finding", code(&event.finding_id)));
    bullet_list(items)
}

/// The finding's console pages (Security Hub, the IAM user or role) as one paragraph of links.
fn console(event: &FindingEvent) -> Value {
    let mut parts = vec![strong("Console: ")];
    for (i, (label, url)) in content::console_links(event).into_iter().enumerate() {
        if i > 0 {
            parts.push(text(", "));
        }
        parts.push(link(label, &url));
    }
    paragraph(parts)
}

fn runbook(event: &FindingEvent) -> Value {
    if event.runbook_url.is_empty() {
        paragraph(vec![
            strong("Runbook: "),
            code(&content::runbook_path(&event.rule_id)),
            text(&format!(" ({})", content::NO_RUNBOOK_BASE_URL)),
        ])
    } else {
        paragraph(vec![
            strong("Runbook: "),
            link(&event.rule_id, &event.runbook_url),
        ])
    }
}

/// The runbook's first triage steps and containment command for the rule: a heading, an
/// ordered list and a bash code block; nothing when the rule has no runbook.
fn first_steps(event: &FindingEvent) -> Vec<Value> {
    let Some(essentials) = content::essentials(&event.rule_id) else {
        return Vec::new();
    };
    let steps: Vec<Value> = essentials
        .triage
        .iter()
        .map(|s| content::one_line(s))
        .filter(|s| !s.is_empty())
        .map(|s| paragraph(vec![text(&s)]))
        .collect();
    let command = content::code_block(&essentials.command.join("\n"));
    let mut nodes = Vec::new();
    if steps.is_empty() && command.trim().is_empty() {
        return nodes;
    }
    nodes.push(heading(3, "First steps"));
    if !steps.is_empty() {
        nodes.push(ordered_list(steps));
    }
    if !command.trim().is_empty() {
        nodes.push(code_block("bash", &command));
    }
    nodes
}

/// The issue description (ADF): what happened, then the facts (severity and why, account and
/// OU, actor, target, rule, finding id), then the runbook as a link (or its path in the project
/// when no runbook base URL is set), the finding's console pages, then the runbook's first steps
/// and containment command.
pub(crate) fn description(event: &FindingEvent) -> Value {
    let mut content = vec![
        heading(3, "What happened"),
        paragraph(vec![text(&event.finding.description)]),
        heading(3, "Details"),
        facts(event),
        runbook(event),
        console(event),
    ];
    content.extend(first_steps(event));
    doc(content)
}

/// A comment (ADF) on the issue of a finding seen again.
pub(crate) fn comment(event: &FindingEvent) -> Value {
    seen_again(event, "")
}

/// A comment (ADF) on the issue of a finding seen `again` (after what, or nothing): when it was
/// last observed, its description, facts and runbook.
fn seen_again(event: &FindingEvent, again: &str) -> Value {
    doc(vec![
        paragraph(vec![text(&format!(
            "iamwatch saw this finding again{again} (last observed {}).",
            event.finding.last_observed_at
        ))]),
        paragraph(vec![text(&event.finding.description)]),
        facts(event),
        runbook(event),
    ])
}

/// The comment (ADF) on the issue of a finding that was archived.
pub(crate) fn archived_comment(event: &FindingEvent, transitioned: bool) -> Value {
    let mut why = format!(
        "iamwatch archived this finding at {}",
        event.finding.updated_at
    );
    if let Some(by) = event.finding.field(fields::RESOLVED_BY) {
        why.push_str(&format!(" (resolved by {by})"));
    }
    why.push_str(if transitioned {
        "; the issue was closed."
    } else {
        ". Close the issue when the triage is done."
    });
    doc(vec![paragraph(vec![text(&content::one_line(&why))])])
}

/// The comment (ADF) on the issue of a finding active again after it was archived.
pub(crate) fn recurred_comment(event: &FindingEvent) -> Value {
    seen_again(event, " after it was archived")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_label_is_deterministic_and_jira_safe() {
        let a = finding_label("iamwatch/111122223333/iam-user-created/alice");
        assert_eq!(
            a,
            finding_label("iamwatch/111122223333/iam-user-created/alice")
        );
        assert_ne!(
            a,
            finding_label("iamwatch/111122223333/iam-user-created/bob")
        );
        assert_eq!(a.len(), "iamwatch-".len() + 32);
        assert!(a.starts_with("iamwatch-"));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        // A very long id still gives a short label.
        assert_eq!(finding_label(&"x".repeat(5000)).len(), a.len());
    }

    #[test]
    fn config_is_validated() {
        let creds = JiraCredentials {
            email: "a@example.com".into(),
            api_token: "t".into(),
        };
        let bad_url = JiraTicketSink::new(JiraConfig::new("not a url", "SEC", creds.clone()));
        assert!(matches!(
            bad_url,
            Err(NotifyError::Config {
                what: "Jira base URL",
                ..
            })
        ));
        let no_project = JiraTicketSink::new(JiraConfig::new(
            "https://x.atlassian.net",
            " ",
            creds.clone(),
        ));
        assert!(matches!(
            no_project,
            Err(NotifyError::Config {
                what: "Jira project key",
                ..
            })
        ));
        let sink =
            JiraTicketSink::new(JiraConfig::new("https://x.atlassian.net/", "SEC", creds)).unwrap();
        assert_eq!(
            sink.issue_url("SEC-1"),
            "https://x.atlassian.net/browse/SEC-1"
        );
    }

    #[test]
    fn the_summary_is_one_safe_line() {
        let mut event = crate::content::tests::hostile_event();
        event.finding.title =
            "IAM user created: a\u{2028}b\u{000b}c\u{0000}d\u{001b}e\u{202e}f".into();
        assert_eq!(summary(&event), "IAM user created: a b c d e f");
        event.finding.title = "\u{0007}\u{2029}".into();
        assert!(
            summary(&event).starts_with("iamwatch: "),
            "an empty title is replaced"
        );
    }

    fn texts_of(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(t) = m.get("text").and_then(Value::as_str) {
                    out.push(t.to_string());
                }
                m.values().for_each(|x| texts_of(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| texts_of(x, out)),
            _ => {}
        }
    }

    #[test]
    fn the_description_carries_the_runbooks_first_steps_and_command() {
        let event = crate::content::tests::hostile_event();
        let essentials = content::essentials(&event.rule_id).expect("a rule runbook");
        let doc = description(&event);
        let nodes = doc["content"].as_array().unwrap();
        let at = nodes
            .iter()
            .position(|n| n["type"] == "heading" && n["content"][0]["text"] == "First steps")
            .expect("a First steps heading");
        let list = &nodes[at + 1];
        assert_eq!(list["type"], "orderedList");
        let items = list["content"].as_array().unwrap();
        assert_eq!(items.len(), essentials.triage.len());
        for (item, step) in items.iter().zip(essentials.triage) {
            assert_eq!(item["content"][0]["content"][0]["text"], *step);
        }
        let code = &nodes[at + 2];
        assert_eq!(code["type"], "codeBlock");
        assert_eq!(code["attrs"]["language"], "bash");
        assert_eq!(code["content"][0]["text"], essentials.command.join("\n"));
        assert!(essentials.command[0].starts_with("aws "), "{essentials:?}");
        // No empty text nodes anywhere (Jira rejects them).
        let mut all = Vec::new();
        texts_of(&doc, &mut all);
        assert!(all.iter().all(|t| !t.is_empty()), "{all:?}");
    }

    #[test]
    fn without_a_runbook_base_url_the_description_gives_the_runbook_path() {
        let mut event = crate::content::tests::hostile_event();
        event.runbook_url = String::new();
        let mut all = Vec::new();
        texts_of(&description(&event), &mut all);
        let joined = all.join("");
        assert!(
            joined.contains(&format!(
                "Runbook: runbooks/{}.md (no runbook base URL is set)",
                event.rule_id
            )),
            "{joined}"
        );
        let adf = description(&event).to_string();
        let hrefs: Vec<&str> = adf
            .split("\"href\":\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert!(!hrefs.is_empty(), "the console links stay");
        assert!(
            hrefs.iter().all(|h| !h.ends_with(".md")),
            "no link to a runbook is made up: {hrefs:?}"
        );
        let mut all = Vec::new();
        texts_of(&comment(&event), &mut all);
        assert!(all.join("").contains("no runbook base URL is set"));
    }

    #[test]
    fn a_rule_without_a_runbook_has_no_first_steps() {
        let mut event = crate::content::tests::hostile_event();
        event.rule_id = "no-such-rule".into();
        assert!(first_steps(&event).is_empty());
        assert!(!description(&event).to_string().contains("First steps"));
    }

    /// The issue links the finding in Security Hub and the user in IAM, in the finding's
    /// partition and region, as `iamwatch_core::links` makes them.
    #[test]
    fn the_description_links_the_console_pages() {
        let event = crate::content::tests::hostile_event();
        let adf = description(&event).to_string();
        let region_url =
            iamwatch_core::links::securityhub_finding("aws", "us-east-1", &event.finding_id);
        assert!(adf.contains(&region_url), "{adf}");
        let user = event
            .finding
            .field(iamwatch_core::finding::fields::USER)
            .unwrap();
        assert!(
            adf.contains(&iamwatch_core::links::iam_user_credentials("aws", user)),
            "{adf}"
        );
    }
}
