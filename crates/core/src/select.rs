//! What a read of an organization's CloudTrail history selects (`--accounts`, `--regions`,
//! `--since`, `--until`), checked before it reaches an Athena query or an S3 key prefix. Errors
//! say what is wrong with the value; the caller names the flag.

use crate::time::{format_millis, parse_millis};

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// Whether `s` is an account id (12 digits).
pub fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` can be a region: lowercase letters, digits and `-`.
pub fn is_region(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn list(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').map(str::trim).filter(|x| !x.is_empty())
}

/// Splits a comma-separated list (`--accounts`) and checks each account id.
pub fn parse_accounts(s: &str) -> Result<Vec<String>, String> {
    list(s)
        .map(|a| {
            if is_account(a) {
                Ok(a.to_string())
            } else {
                Err(format!("account {a:?}: an account id is 12 digits"))
            }
        })
        .collect()
}

/// Splits a comma-separated list (`--regions`) and checks each region.
pub fn parse_regions(s: &str) -> Result<Vec<String>, String> {
    list(s)
        .map(|r| {
            if is_region(r) {
                Ok(r.to_string())
            } else {
                Err(format!(
                    "region {r:?}: only lowercase letters, digits and - are accepted"
                ))
            }
        })
        .collect()
}

/// The day number (days since 1970-01-01) of `YYYY-MM-DD`, if that day exists.
pub fn parse_day(s: &str) -> Option<i64> {
    if s.len() != 10 {
        return None;
    }
    let ms = parse_millis(&format!("{s}T00:00:00Z"))?;
    // parse_millis accepts a 31st of any month: check the day exists.
    (format_millis(ms)[..10] == *s).then_some(ms.div_euclid(DAY_MS))
}

/// One end of a read: a whole UTC day or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayOrTime {
    /// A whole UTC day (`2024-08-01`), as its day number.
    Day(i64),
    /// An instant (RFC 3339), in milliseconds.
    Time(i64),
}

/// Parses `YYYY-MM-DD` or an RFC 3339 time (surrounding white space aside).
pub fn parse_day_or_time(s: &str) -> Result<DayOrTime, String> {
    let s = s.trim();
    if s.len() == 10 {
        return parse_day(s)
            .map(DayOrTime::Day)
            .ok_or_else(|| format!("{s:?} is not a date (YYYY-MM-DD)"));
    }
    match parse_millis(s) {
        Some(ms) if s.len() > 19 => Ok(DayOrTime::Time(ms)),
        _ => Err(format!(
            "{s:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 time (2024-08-01T13:00:00Z)"
        )),
    }
}
