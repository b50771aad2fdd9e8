//! Getting an account's credential report: `GenerateCredentialReport`, then
//! `GetCredentialReport`, waiting with backoff while the report is in progress or generation is
//! refused with `LimitExceeded`, and generating again when the report is not there (expired).

use crate::ports::{AccountIam, CredentialReport, ReportError, ReportState};
use iamwatch_core::ports::{backoff, PortError};
use std::time::Duration;

/// How long to wait for a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportWait {
    /// Calls in all (generate and get) before giving up.
    pub attempts: u32,
    /// The first wait; doubled per wait, with jitter.
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for ReportWait {
    /// About two minutes in all: AWS generates a report in seconds for most accounts.
    fn default() -> Self {
        ReportWait {
            attempts: 12,
            base: Duration::from_millis(500),
            max: Duration::from_secs(20),
        }
    }
}

/// What waiting for the report took, for the logs and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportStats {
    pub generate_calls: u32,
    pub get_calls: u32,
    pub waits: u32,
}

fn gave_up(account: &str, wait: &ReportWait, last: &str) -> PortError {
    PortError {
        operation: format!("iam:GetCredentialReport in {account}"),
        message: format!(
            "no credential report after {} calls (last: {last})",
            wait.attempts
        ),
        retryable: true,
    }
}

/// The account's credential report, generated if needed.
pub async fn fetch<A: AccountIam>(
    iam: &A,
    account: &str,
    wait: &ReportWait,
) -> Result<(CredentialReport, ReportStats), PortError> {
    let mut stats = ReportStats::default();
    let mut generate = true;
    let mut last = String::from("none");
    let mut calls = 0u32;
    while calls < wait.attempts {
        calls += 1;
        if generate {
            stats.generate_calls += 1;
            match iam.generate_report().await {
                Ok(ReportState::Complete) => generate = false,
                Ok(state) => {
                    // Started or in progress: a get now would say ReportInProgress.
                    generate = false;
                    last = format!("{state:?}");
                    stats.waits += 1;
                    tokio::time::sleep(backoff(stats.waits, wait.base, wait.max)).await;
                    continue;
                }
                Err(ReportError::LimitExceeded) => {
                    last = "LimitExceeded".to_string();
                    stats.waits += 1;
                    tokio::time::sleep(backoff(stats.waits, wait.base, wait.max)).await;
                    continue;
                }
                Err(ReportError::Failed(e)) => return Err(e),
                Err(other) => {
                    last = format!("{other:?}");
                    continue;
                }
            }
            continue;
        }
        stats.get_calls += 1;
        match iam.get_report().await {
            Ok(report) => return Ok((report, stats)),
            Err(ReportError::InProgress) | Err(ReportError::LimitExceeded) => {
                last = "ReportInProgress".to_string();
                stats.waits += 1;
                tokio::time::sleep(backoff(stats.waits, wait.base, wait.max)).await;
            }
            Err(ReportError::NotPresent) => {
                last = "ReportNotPresent".to_string();
                generate = true;
            }
            Err(ReportError::Failed(e)) => return Err(e),
        }
    }
    Err(gave_up(account, wait, &last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{Authorization, LiveKey};
    use std::sync::Mutex;

    /// Answers from scripts: each call takes the next answer.
    struct Scripted {
        generate: Mutex<Vec<Result<ReportState, ReportError>>>,
        get: Mutex<Vec<Result<CredentialReport, ReportError>>>,
    }

    fn report() -> CredentialReport {
        CredentialReport {
            content: b"user,arn\n".to_vec(),
            generated: "2026-12-01T06:00:00Z".into(),
        }
    }

    impl AccountIam for Scripted {
        async fn generate_report(&self) -> Result<ReportState, ReportError> {
            self.generate.lock().unwrap().remove(0)
        }
        async fn get_report(&self) -> Result<CredentialReport, ReportError> {
            self.get.lock().unwrap().remove(0)
        }
        async fn authorization(&self) -> Result<Authorization, PortError> {
            Ok(Authorization::default())
        }
        async fn access_keys(&self, _: &str) -> Result<Vec<LiveKey>, PortError> {
            Ok(vec![])
        }
        async fn mfa_devices(&self, _: &str) -> Result<Vec<String>, PortError> {
            Ok(vec![])
        }
    }

    const FAST: ReportWait = ReportWait {
        attempts: 6,
        base: Duration::from_millis(1),
        max: Duration::from_millis(2),
    };

    #[tokio::test]
    async fn waits_through_limit_exceeded_and_in_progress_and_regenerates_when_absent() {
        let iam = Scripted {
            generate: Mutex::new(vec![
                Err(ReportError::LimitExceeded),
                Ok(ReportState::Started),
                Ok(ReportState::Complete),
            ]),
            get: Mutex::new(vec![
                Err(ReportError::InProgress),
                Err(ReportError::NotPresent),
                Ok(report()),
            ]),
        };
        let (r, stats) = fetch(&iam, "111122223333", &FAST).await.unwrap();
        assert_eq!(r, report());
        assert_eq!(
            stats,
            ReportStats {
                generate_calls: 3,
                get_calls: 3,
                waits: 3
            }
        );
    }

    #[tokio::test]
    async fn gives_up_after_the_attempts_and_says_why() {
        let iam = Scripted {
            generate: Mutex::new(vec![Ok(ReportState::Complete)]),
            get: Mutex::new((0..10).map(|_| Err(ReportError::InProgress)).collect()),
        };
        let err = fetch(&iam, "111122223333", &FAST).await.unwrap_err();
        assert!(err.retryable);
        assert!(
            err.message
                .contains("after 6 calls (last: ReportInProgress)"),
            "{err}"
        );
        assert!(err.operation.contains("111122223333"));
    }

    #[tokio::test]
    async fn other_errors_end_at_once() {
        let denied = PortError {
            operation: "iam:GenerateCredentialReport".into(),
            message: "AccessDenied".into(),
            retryable: false,
        };
        let iam = Scripted {
            generate: Mutex::new(vec![Err(ReportError::Failed(denied.clone()))]),
            get: Mutex::new(vec![]),
        };
        assert_eq!(fetch(&iam, "1", &FAST).await.unwrap_err(), denied);
    }
}
