//! Test support (feature `test-support`), by what it fakes:
//!
//! - [`server`]: the HTTP test server ([`server::serve`], the one accept loop of the tests;
//!   [`RecordingServer`], recording requests and answering from routes);
//! - [`jira`]: [`FakeJira`], Jira Cloud on a recording server;
//! - [`slack`]: [`FakeSlack`], a Slack incoming webhook on a recording server;
//! - [`memory`]: [`MemoryIssueTracker`], [`MemoryTicketSink`] and [`MemoryNotifier`], the ports
//!   in memory;
//! - [`sample`]: [`sample_event`], a finding event as the detect function publishes it.

pub mod jira;
pub mod memory;
pub mod sample;
pub mod server;
pub mod slack;

pub use jira::{FakeIssue, FakeJira};
pub use memory::{MemoryIssueTracker, MemoryNotifier, MemoryTicketSink};
pub use sample::sample_event;
pub use server::{Canned, RecordedRequest, RecordingServer};
pub use slack::FakeSlack;

use std::sync::{Mutex, MutexGuard};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
