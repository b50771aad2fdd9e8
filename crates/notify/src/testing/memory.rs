//! `Memory*` doubles of the notifier ports: tickets and messages kept in memory, errors on
//! request.

use super::lock;
use iamwatch_core::finding_event::FindingEvent;
use iamwatch_core::ports::{Issue, IssueTracker, Notifier, PortError, TicketRef, TicketSink};
use std::collections::VecDeque;
use std::sync::Mutex;

/// A [`TicketSink`] in memory: one ticket per finding id (`MEM-1`, ...), later opens comment.
/// Queued errors are returned first, one per call.
#[derive(Default)]
pub struct MemoryTicketSink {
    tickets: Mutex<Vec<(String, TicketRef)>>,
    comments: Mutex<Vec<String>>,
    errors: Mutex<VecDeque<PortError>>,
}

impl MemoryTicketSink {
    pub fn fail_next(&self, error: PortError) {
        lock(&self.errors).push_back(error);
    }

    /// (finding id, ticket) of each ticket opened.
    pub fn tickets(&self) -> Vec<(String, TicketRef)> {
        lock(&self.tickets).clone()
    }

    /// Finding ids of each comment added to an existing ticket.
    pub fn comments(&self) -> Vec<String> {
        lock(&self.comments).clone()
    }
}

impl TicketSink for MemoryTicketSink {
    async fn open(&self, event: &FindingEvent) -> Result<TicketRef, PortError> {
        if let Some(e) = lock(&self.errors).pop_front() {
            return Err(e);
        }
        let mut tickets = lock(&self.tickets);
        if let Some((_, t)) = tickets.iter().find(|(id, _)| *id == event.finding_id) {
            lock(&self.comments).push(event.finding_id.clone());
            return Ok(TicketRef {
                created: false,
                ..t.clone()
            });
        }
        let key = format!("MEM-{}", tickets.len() + 1);
        let t = TicketRef {
            url: format!("memory://tickets/{key}"),
            key,
            created: true,
        };
        tickets.push((event.finding_id.clone(), t.clone()));
        Ok(t)
    }
}

/// A [`Notifier`] in memory: records (finding id, ticket key) of each message. Queued errors
/// are returned first, one per call.
#[derive(Default)]
pub struct MemoryNotifier {
    sent: Mutex<Vec<(String, Option<String>)>>,
    errors: Mutex<VecDeque<PortError>>,
}

impl MemoryNotifier {
    pub fn fail_next(&self, error: PortError) {
        lock(&self.errors).push_back(error);
    }

    pub fn sent(&self) -> Vec<(String, Option<String>)> {
        lock(&self.sent).clone()
    }
}

impl Notifier for MemoryNotifier {
    async fn notify(
        &self,
        event: &FindingEvent,
        ticket: Option<&TicketRef>,
    ) -> Result<(), PortError> {
        if let Some(e) = lock(&self.errors).pop_front() {
            return Err(e);
        }
        lock(&self.sent).push((event.finding_id.clone(), ticket.map(|t| t.key.clone())));
        Ok(())
    }
}

/// An [`IssueTracker`] in memory: issues by episode label (`MEM-1`, ...), each with its status
/// and the calls made on it. Queued errors are returned first, one per call.
#[derive(Default)]
pub struct MemoryIssueTracker {
    state: Mutex<TrackerState>,
    errors: Mutex<VecDeque<PortError>>,
    /// Whether a done issue may be reopened (a configured reopen transition).
    pub reopen: bool,
}

#[derive(Default)]
struct TrackerState {
    /// (episode label, issue, done)
    issues: Vec<(String, Issue, bool)>,
    /// (issue key, what happened: `closed`, `recurred`, `reopened`)
    events: Vec<(String, &'static str)>,
}

impl MemoryIssueTracker {
    /// A tracker whose done issues may be reopened (a reopen transition is configured).
    pub fn reopening() -> MemoryIssueTracker {
        MemoryIssueTracker {
            reopen: true,
            ..MemoryIssueTracker::default()
        }
    }

    pub fn fail_next(&self, error: PortError) {
        lock(&self.errors).push_back(error);
    }

    /// (episode label, issue key) of each issue created.
    pub fn issues(&self) -> Vec<(String, String)> {
        lock(&self.state)
            .issues
            .iter()
            .map(|(l, i, _)| (l.clone(), i.key.clone()))
            .collect()
    }

    /// (issue key, `closed` / `recurred` / `reopened`) of each lifecycle call, in order.
    pub fn events(&self) -> Vec<(String, &'static str)> {
        lock(&self.state).events.clone()
    }

    /// Whether the issue is done.
    pub fn is_done(&self, key: &str) -> bool {
        lock(&self.state)
            .issues
            .iter()
            .any(|(_, i, done)| i.key == key && *done)
    }
}

impl IssueTracker for MemoryIssueTracker {
    async fn open(
        &self,
        event: &FindingEvent,
        episode: u32,
        _known: &[String],
    ) -> Result<(Issue, bool), PortError> {
        if let Some(e) = lock(&self.errors).pop_front() {
            return Err(e);
        }
        let label = crate::episode_label(&event.finding_id, episode);
        let mut st = lock(&self.state);
        if let Some((_, i, _)) = st.issues.iter().find(|(l, _, _)| *l == label) {
            return Ok((i.clone(), false));
        }
        let n = st.issues.len() + 1;
        let issue = Issue {
            key: format!("MEM-{n}"),
            id: (10000 + n).to_string(),
            url: format!("memory://tickets/MEM-{n}"),
        };
        st.issues.push((label, issue.clone(), false));
        Ok((issue, true))
    }

    async fn close(&self, issue: &Issue, _event: &FindingEvent) -> Result<(), PortError> {
        if let Some(e) = lock(&self.errors).pop_front() {
            return Err(e);
        }
        let mut st = lock(&self.state);
        for (_, i, done) in st.issues.iter_mut() {
            if i.key == issue.key {
                *done = true;
            }
        }
        st.events.push((issue.key.clone(), "closed"));
        Ok(())
    }

    async fn recur(&self, issue: &Issue, _event: &FindingEvent) -> Result<bool, PortError> {
        if let Some(e) = lock(&self.errors).pop_front() {
            return Err(e);
        }
        let mut st = lock(&self.state);
        let done = st
            .issues
            .iter()
            .any(|(_, i, done)| i.key == issue.key && *done);
        if done && !self.reopen {
            return Ok(false);
        }
        for (_, i, d) in st.issues.iter_mut() {
            if i.key == issue.key {
                *d = false;
            }
        }
        st.events.push((
            issue.key.clone(),
            if done { "reopened" } else { "recurred" },
        ));
        Ok(true)
    }
}
