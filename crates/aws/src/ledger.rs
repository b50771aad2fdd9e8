//! [`DynamoDbLedger`]: the core's [`TicketLedger`] over a DynamoDB table, and
//! [`MemoryLedger`], its double for tests (feature `test-support`).
//!
//! The table (`IAMWATCH_LEDGER_TABLE`, `docs/ticketing.md`) has the partition key `findingId`
//! (string) and the sort key `episode` (number). An item holds one episode of a finding:
//!
//! | attribute | type | meaning |
//! |---|---|---|
//! | `findingId`, `episode` | S, N | the key |
//! | `filedIn`, `productArn` | S | where the finding was filed: the only write-back target |
//! | `openedAt` | S | `LastObservedAt` of the event that began the episode |
//! | `archivedAt` | S | `UpdatedAt` of the event that archived it (absent while active) |
//! | `issueKey`, `issueId`, `issueUrl` | S | the episode's Jira issue (absent until opened) |
//! | `previousIssueKey`, `previousIssueId`, `previousIssueUrl` | S | the issue of the episode before |
//! | `issueCreated`, `issueClosed`, `slackSent`, `writtenBack` | BOOL | each output's state |
//! | `claimToken`, `claimUntil` | S, N | the delivery working on the episode, until when (Unix s) |
//! | `version` | N | compare-and-set version |
//!
//! The latest episode is a `Query` on the finding id, newest first, one item, consistent read.
//! Writes are `PutItem` with a condition: `attribute_not_exists(findingId)` for a new item,
//! `version = :v` for an update; a failed condition is `Ok(false)`, never an error.

use crate::error::port_error;
use aws_sdk_dynamodb::types::AttributeValue;
use iamwatch_core::ports::{Issue, LedgerEntry, PortError, TicketLedger};
use std::collections::HashMap;

/// The ticket ledger in DynamoDB. Build once per container.
#[derive(Clone)]
pub struct DynamoDbLedger {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoDbLedger {
    pub fn new(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> DynamoDbLedger {
        DynamoDbLedger {
            client: aws_sdk_dynamodb::Client::new(sdk),
            table: table.into(),
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }
}

type Item = HashMap<String, AttributeValue>;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The item of an entry, at version `entry.version + 1`.
pub fn to_item(entry: &LedgerEntry) -> Item {
    let mut item = Item::new();
    item.insert("findingId".into(), s(&entry.finding_id));
    item.insert("episode".into(), n(u64::from(entry.episode)));
    item.insert("filedIn".into(), s(&entry.filed_in));
    item.insert("productArn".into(), s(&entry.product_arn));
    item.insert("openedAt".into(), s(&entry.opened_at));
    if let Some(a) = &entry.archived_at {
        item.insert("archivedAt".into(), s(a));
    }
    for (prefix, issue) in [
        ("issue", &entry.issue),
        ("previousIssue", &entry.previous_issue),
    ] {
        if let Some(i) = issue {
            item.insert(format!("{prefix}Key"), s(&i.key));
            item.insert(format!("{prefix}Id"), s(&i.id));
            item.insert(format!("{prefix}Url"), s(&i.url));
        }
    }
    for (name, value) in [
        ("issueCreated", entry.issue_created),
        ("issueClosed", entry.issue_closed),
        ("slackSent", entry.slack_sent),
        ("writtenBack", entry.written_back),
    ] {
        item.insert(name.into(), AttributeValue::Bool(value));
    }
    if let Some((token, until)) = &entry.claim {
        item.insert("claimToken".into(), s(token));
        item.insert("claimUntil".into(), n(*until));
    }
    item.insert("version".into(), n(entry.version + 1));
    item
}

/// An entry read back from its item; errors name the attribute.
pub fn from_item(item: &Item) -> Result<LedgerEntry, String> {
    let text = |name: &str| -> Option<String> {
        match item.get(name) {
            Some(AttributeValue::S(v)) => Some(v.clone()),
            _ => None,
        }
    };
    let required = |name: &str| text(name).ok_or_else(|| format!("attribute {name} is missing"));
    let number = |name: &str| -> Result<Option<u64>, String> {
        match item.get(name) {
            Some(AttributeValue::N(v)) => v
                .parse()
                .map(Some)
                .map_err(|_| format!("attribute {name} is not a whole number: {v:?}")),
            None => Ok(None),
            Some(_) => Err(format!("attribute {name} is not a number")),
        }
    };
    let flag = |name: &str| matches!(item.get(name), Some(AttributeValue::Bool(true)));
    let issue = |prefix: &str| -> Option<Issue> {
        Some(Issue {
            key: text(&format!("{prefix}Key"))?,
            id: text(&format!("{prefix}Id")).unwrap_or_default(),
            url: text(&format!("{prefix}Url")).unwrap_or_default(),
        })
    };
    let episode = number("episode")?.ok_or("attribute episode is missing")?;
    let claim = match (text("claimToken"), number("claimUntil")?) {
        (Some(t), Some(u)) => Some((t, u)),
        _ => None,
    };
    Ok(LedgerEntry {
        finding_id: required("findingId")?,
        episode: u32::try_from(episode).map_err(|_| format!("episode {episode} is too large"))?,
        filed_in: required("filedIn")?,
        product_arn: required("productArn")?,
        opened_at: required("openedAt")?,
        archived_at: text("archivedAt"),
        previous_issue: issue("previousIssue"),
        issue: issue("issue"),
        issue_created: flag("issueCreated"),
        issue_closed: flag("issueClosed"),
        slack_sent: flag("slackSent"),
        written_back: flag("writtenBack"),
        claim,
        version: number("version")?.ok_or("attribute version is missing")?,
    })
}

impl TicketLedger for DynamoDbLedger {
    async fn latest(&self, finding_id: &str) -> Result<Option<LedgerEntry>, PortError> {
        let operation = format!("dynamodb:Query {} {finding_id}", self.table);
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("findingId = :f")
            .expression_attribute_values(":f", s(finding_id))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error(operation.clone(), &e))?;
        match out.items().first() {
            None => Ok(None),
            Some(item) => from_item(item).map(Some).map_err(|message| PortError {
                operation,
                message: format!("the ledger item is unreadable: {message}"),
                retryable: false,
            }),
        }
    }

    async fn put(&self, entry: &LedgerEntry) -> Result<bool, PortError> {
        let operation = format!(
            "dynamodb:PutItem {} {} episode {}",
            self.table, entry.finding_id, entry.episode
        );
        let mut req = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(entry)));
        req = if entry.version == 0 {
            req.condition_expression("attribute_not_exists(findingId)")
        } else {
            req.condition_expression("version = :v")
                .expression_attribute_values(":v", n(entry.version))
        };
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if crate::error::code(&e) == Some("ConditionalCheckFailedException") => {
                Ok(false)
            }
            Err(e) => Err(port_error(operation, &e)),
        }
    }
}

/// A [`TicketLedger`] in memory, with the same compare-and-set rule; queued errors are returned
/// first, one per call.
#[cfg(any(test, feature = "test-support"))]
#[derive(Default)]
pub struct MemoryLedger {
    entries: std::sync::Mutex<Vec<LedgerEntry>>,
    errors: std::sync::Mutex<std::collections::VecDeque<PortError>>,
}

#[cfg(any(test, feature = "test-support"))]
impl MemoryLedger {
    pub fn fail_next(&self, error: PortError) {
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(error);
    }

    /// Every stored entry, at its stored version, in the order first stored.
    pub fn entries(&self) -> Vec<LedgerEntry> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn error(&self) -> Option<PortError> {
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
    }
}

#[cfg(any(test, feature = "test-support"))]
impl TicketLedger for MemoryLedger {
    async fn latest(&self, finding_id: &str) -> Result<Option<LedgerEntry>, PortError> {
        if let Some(e) = self.error() {
            return Err(e);
        }
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        Ok(entries
            .iter()
            .filter(|e| e.finding_id == finding_id)
            .max_by_key(|e| e.episode)
            .cloned())
    }

    async fn put(&self, entry: &LedgerEntry) -> Result<bool, PortError> {
        if let Some(e) = self.error() {
            return Err(e);
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let stored = entries
            .iter_mut()
            .find(|e| e.finding_id == entry.finding_id && e.episode == entry.episode);
        let next = LedgerEntry {
            version: entry.version + 1,
            ..entry.clone()
        };
        match stored {
            None if entry.version == 0 => entries.push(next),
            Some(s) if s.version == entry.version => *s = next,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> LedgerEntry {
        LedgerEntry {
            finding_id: "iamwatch/111122223333/iam-user-created/alice".into(),
            episode: 2,
            filed_in: "111122223333".into(),
            product_arn: "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default"
                .into(),
            opened_at: "2026-01-01T00:00:00Z".into(),
            archived_at: Some("2026-01-02T00:00:00Z".into()),
            previous_issue: Some(Issue {
                key: "SEC-1".into(),
                id: "10001".into(),
                url: "https://x/browse/SEC-1".into(),
            }),
            issue: Some(Issue {
                key: "SEC-2".into(),
                id: "10002".into(),
                url: "https://x/browse/SEC-2".into(),
            }),
            issue_created: true,
            issue_closed: true,
            slack_sent: true,
            written_back: false,
            claim: Some(("token".into(), 1_800_000_000)),
            version: 3,
        }
    }

    #[test]
    fn an_entry_round_trips_through_its_item_one_version_up() {
        let e = entry();
        let back = from_item(&to_item(&e)).unwrap();
        assert_eq!(back, LedgerEntry { version: 4, ..e });
        let bare = LedgerEntry {
            archived_at: None,
            previous_issue: None,
            issue: None,
            claim: None,
            version: 0,
            ..entry()
        };
        assert_eq!(
            from_item(&to_item(&bare)).unwrap(),
            LedgerEntry { version: 1, ..bare }
        );
    }

    #[test]
    fn an_unreadable_item_names_the_attribute() {
        let mut item = to_item(&entry());
        item.remove("filedIn");
        assert_eq!(
            from_item(&item).unwrap_err(),
            "attribute filedIn is missing"
        );
        item.insert("filedIn".into(), s("111122223333"));
        item.insert("version".into(), AttributeValue::N("x".into()));
        assert!(from_item(&item).unwrap_err().contains("version"));
    }

    #[tokio::test]
    async fn the_memory_ledger_compares_and_sets() {
        let l = MemoryLedger::default();
        let e = LedgerEntry {
            version: 0,
            ..entry()
        };
        assert!(l.put(&e).await.unwrap());
        assert!(!l.put(&e).await.unwrap(), "a second create loses");
        let stored = l.latest(&e.finding_id).await.unwrap().unwrap();
        assert_eq!(stored.version, 1);
        assert!(l.put(&stored).await.unwrap());
        assert!(!l.put(&stored).await.unwrap(), "a stale version loses");
        assert_eq!(l.latest("other").await.unwrap(), None);
    }
}
