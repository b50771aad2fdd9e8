//! Time left in an invocation. Lambda gives the deadline in epoch milliseconds
//! (`LambdaEvent::context.deadline`); 0 means none (a `Context::default()` of tests).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now, in epoch milliseconds (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Time left before `deadline_ms` (epoch milliseconds); `None` when there is no deadline (0).
pub fn time_left(deadline_ms: u64) -> Option<Duration> {
    if deadline_ms == 0 {
        return None;
    }
    Some(Duration::from_millis(deadline_ms.saturating_sub(now_ms())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_deadline_past_deadline_and_future_deadline() {
        assert_eq!(time_left(0), None);
        assert_eq!(time_left(1), Some(Duration::ZERO));
        let left = time_left(now_ms() + 10_000).unwrap();
        assert!(left > Duration::from_secs(9) && left <= Duration::from_secs(10));
    }
}
