//! A calendar day (UTC), as the inventory's partitions (`dt=YYYY-MM-DD`) and `--as-of` name it.

use crate::time;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A UTC calendar day, stored as days since 1970-01-01. Ordered; displayed as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(i64);

impl Day {
    /// The day of a day number since 1970-01-01.
    pub fn from_days(days: i64) -> Day {
        Day(days)
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i64 {
        self.0
    }

    /// The UTC day of milliseconds since the Unix epoch.
    pub fn from_millis(ms: i64) -> Day {
        Day(ms.div_euclid(86_400_000))
    }

    /// The UTC day of an RFC 3339 / ISO 8601 timestamp.
    pub fn of_timestamp(s: &str) -> Option<Day> {
        time::parse_millis(s).map(Day::from_millis)
    }

    /// Milliseconds since the Unix epoch of this day's midnight (UTC).
    pub fn start_millis(self) -> i64 {
        self.0 * 86_400_000
    }

    /// Milliseconds since the Unix epoch of the last millisecond of this day (UTC): the
    /// instant ages are measured from when a check runs "as of" this day.
    pub fn end_millis(self) -> i64 {
        self.start_millis() + 86_400_000 - 1
    }

    /// The day `n` days later (earlier when negative).
    pub fn plus(self, n: i64) -> Day {
        Day(self.0 + n)
    }
}

/// Why a string is not a day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a date in the form YYYY-MM-DD")]
pub struct BadDay(pub String);

impl FromStr for Day {
    type Err = BadDay;

    fn from_str(s: &str) -> Result<Day, BadDay> {
        let bad = || BadDay(s.to_string());
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Result<i64, BadDay> {
            let part = &s[r];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return Err(bad());
        }
        let day = Day(time::days_from_civil(y, m, d));
        // 2023-02-30 would wrap into March: refuse it rather than move it.
        if time::civil_from_days(day.0) != (y, m, d) {
            return Err(bad());
        }
        Ok(day)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = time::civil_from_days(self.0);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Day, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let d: Day = "2026-12-01".parse().unwrap();
        assert_eq!(d.to_string(), "2026-12-01");
        assert_eq!("1970-01-01".parse::<Day>().unwrap().days(), 0);
        assert_eq!(d.plus(31).to_string(), "2027-01-01");
        assert_eq!(
            "2024-02-29".parse::<Day>().unwrap().plus(1).to_string(),
            "2024-03-01"
        );
        assert_eq!(Day::of_timestamp("2026-12-01T23:59:59+00:00"), Some(d));
        assert_eq!(Day::from_millis(d.end_millis()), d);
        assert_eq!(Day::from_millis(d.end_millis() + 1), d.plus(1));
    }

    #[test]
    fn refuses_what_is_not_a_day() {
        for bad in [
            "2026-1-01",
            "2026-13-01",
            "2023-02-29",
            "2026-12-1x",
            "",
            "2026/12/01",
        ] {
            let e = bad.parse::<Day>().unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("`{bad}` is not a date in the form YYYY-MM-DD")
            );
        }
    }
}
