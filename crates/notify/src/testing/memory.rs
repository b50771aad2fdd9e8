//! `Memory*` doubles of the notifier ports: tickets and messages kept in memory, errors on
//! request.

use super::lock;
use iamwatch_core::finding_event::FindingEvent;
use iamwatch_core::ports::{Notifier, PortError, TicketRef, TicketSink};
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
