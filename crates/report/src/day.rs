//! A day of the inventory: the `YYYY-MM-DD` of a `dt=` partition.

use std::fmt;

/// A calendar day `YYYY-MM-DD`, checked when made; ordered as the calendar.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(String);

impl Day {
    /// Reads `YYYY-MM-DD` or a partition name `dt=YYYY-MM-DD`; `None` for anything else
    /// (including impossible dates such as `2026-02-30`).
    pub fn parse(s: &str) -> Option<Day> {
        let s = s.strip_prefix("dt=").unwrap_or(s);
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &s[r];
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days_in_month)
            .contains(&day)
            .then(|| Day(s.to_string()))
    }

    /// `YYYY-MM-DD`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The partition folder name, `dt=YYYY-MM-DD`.
    pub fn partition(&self) -> String {
        format!("dt={}", self.0)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_partitions() {
        assert_eq!(Day::parse("dt=2026-12-01").unwrap().as_str(), "2026-12-01");
        assert_eq!(Day::parse("2024-02-29").unwrap().partition(), "dt=2024-02-29");
        for bad in ["2026-02-29", "2026-13-01", "2026-1-01", "dt=", "latest", "2026-12-0x", "+026-12-01"] {
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
        assert!(Day::parse("2026-11-30") < Day::parse("2026-12-01"));
    }
}
