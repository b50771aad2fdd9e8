//! The key layout CloudTrail writes to S3, and what a scan's flags keep of it. Pure: no SDK, no
//! I/O; [`crate::list`] does the listings this module plans.
//!
//! ```text
//! [KEY-PREFIX/]AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_...json.gz
//! ```
//!
//! Days are UTC days, numbered from the Unix epoch (day 0 is 1970-01-01). The day folders are
//! the days CloudTrail delivered the files in: an event of a day's last minutes may be in the
//! next day's folder.

use iamwatch_core::select::{self, is_region, parse_day_or_time, DayOrTime};
pub use iamwatch_core::select::{is_account, parse_day};
use iamwatch_core::time::format_millis;
use std::fmt;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// A bad `s3://` URL, prefix or flag, naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LayoutError(pub String);

fn bad(message: impl Into<String>) -> LayoutError {
    LayoutError(message.into())
}

/// `s3://BUCKET/PREFIX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    /// The key prefix (maybe empty), as given.
    pub prefix: String,
}

impl S3Url {
    /// Whether `s` is meant as an S3 URL (it starts with `s3://`).
    pub fn is_s3(s: &str) -> bool {
        s.starts_with("s3://")
    }

    /// Parses `s3://BUCKET` or `s3://BUCKET/PREFIX`.
    pub fn parse(s: &str) -> Result<S3Url, LayoutError> {
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| bad(format!("{s:?} is not an s3:// URL")))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid {
            return Err(bad(format!(
                "{s:?}: {bucket:?} is not a bucket name (3 to 63 lowercase letters, digits, '-' and '.')"
            )));
        }
        Ok(S3Url {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// How an object of this bucket is named in messages: `s3://BUCKET/KEY`.
    pub fn name(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

/// One end of the requested range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// A whole UTC day (`2024-08-01`), as its day number.
    Day(i64),
    /// An instant (RFC 3339), in milliseconds.
    Time(i64),
}

impl Bound {
    /// Parses `YYYY-MM-DD` or an RFC 3339 time.
    pub fn parse(s: &str) -> Result<Bound, LayoutError> {
        Ok(match parse_day_or_time(s).map_err(bad)? {
            DayOrTime::Day(d) => Bound::Day(d),
            DayOrTime::Time(ms) => Bound::Time(ms),
        })
    }

    /// The UTC day the bound falls in.
    pub fn day(self) -> i64 {
        match self {
            Bound::Day(d) => d,
            Bound::Time(ms) => ms.div_euclid(DAY_MS),
        }
    }
}

/// The requested time range, both ends included: a day from its start (`since`) or to its
/// end (`until`), a time from or up to that instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub since: Option<Bound>,
    pub until: Option<Bound>,
}

impl Window {
    /// Checks that the range is not empty.
    pub fn check(&self) -> Result<(), LayoutError> {
        if let (Some(since), Some(until)) = (self.since, self.until) {
            if self.last_ms(until) < self.first_ms(since) {
                return Err(bad("--since is after --until: the range is empty"));
            }
        }
        Ok(())
    }

    fn first_ms(&self, b: Bound) -> i64 {
        match b {
            Bound::Day(d) => d * DAY_MS,
            Bound::Time(ms) => ms,
        }
    }

    fn last_ms(&self, b: Bound) -> i64 {
        match b {
            Bound::Day(d) => (d + 1) * DAY_MS - 1,
            Bound::Time(ms) => ms,
        }
    }

    /// Whether a bound is set.
    pub fn is_bounded(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }

    /// Whether an end is an instant rather than a whole day: records of the boundary days are
    /// then kept by their event time too.
    pub fn has_times(&self) -> bool {
        matches!(self.since, Some(Bound::Time(_))) || matches!(self.until, Some(Bound::Time(_)))
    }

    /// Whether an event at `ms` lies in the range.
    pub fn admits(&self, ms: i64) -> bool {
        self.since.is_none_or(|b| ms >= self.first_ms(b))
            && self.until.is_none_or(|b| ms <= self.last_ms(b))
    }
}

/// What a scan keeps of the layout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub window: Window,
    /// Account ids; empty is every account.
    pub accounts: Vec<String>,
    /// Regions; empty is every region.
    pub regions: Vec<String>,
}

impl Filters {
    /// Whether any flag narrows the layout.
    pub fn is_empty(&self) -> bool {
        !self.window.is_bounded() && self.accounts.is_empty() && self.regions.is_empty()
    }
}

/// Whether `s` is an organization id as CloudTrail writes it in keys (`o-` and 10 to 32
/// lowercase letters or digits).
pub fn is_org(s: &str) -> bool {
    s.strip_prefix("o-").is_some_and(|id| {
        (10..=32).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// Splits a comma-separated list (`--accounts`) and checks each account id.
pub fn parse_accounts(s: &str) -> Result<Vec<String>, LayoutError> {
    select::parse_accounts(s).map_err(bad)
}

/// Splits a comma-separated list (`--regions`) and checks each region.
pub fn parse_regions(s: &str) -> Result<Vec<String>, LayoutError> {
    select::parse_regions(s).map_err(bad)
}

/// `(year, month, day)` of a day number.
pub fn civil(day: i64) -> (i64, u32, u32) {
    let s = format_millis(day * DAY_MS);
    let num = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap_or(0);
    (num(0..4), num(5..7) as u32, num(8..10) as u32)
}

/// The day number of the first of a month (`month` 13 is January of the next year).
fn month_start(year: i64, month: u32) -> i64 {
    let (y, m) = if month > 12 {
        (year + 1, month - 12)
    } else {
        (year, month)
    };
    parse_day(&format!("{y:04}-{m:02}-01")).unwrap_or(0)
}

/// Days `first..=last` as the fewest key prefixes below a region (`YYYY/`, `YYYY/MM/`,
/// `YYYY/MM/DD/`): a whole year or month in the range is one prefix, other days one each.
/// Nothing outside the range is named.
pub fn day_prefixes(first: i64, last: i64) -> Vec<String> {
    let mut out = Vec::new();
    let mut d = first;
    while d <= last {
        let (y, m, dd) = civil(d);
        let month_end = month_start(y, m + 1) - 1;
        if m == 1 && dd == 1 && month_start(y + 1, 1) - 1 <= last {
            out.push(format!("{y:04}/"));
            d = month_start(y + 1, 1);
        } else if dd == 1 && month_end <= last {
            out.push(format!("{y:04}/{m:02}/"));
            d = month_end + 1;
        } else {
            out.push(format!("{y:04}/{m:02}/{dd:02}/"));
            d += 1;
        }
    }
    out
}

/// The days a date prefix (`[year]`, `[year, month]`, `[year, month, day]`) covers.
fn date_period(date: &[u32]) -> Option<(i64, i64)> {
    match *date {
        [] => None,
        [y] => Some((
            month_start(y.into(), 1),
            month_start(i64::from(y) + 1, 1) - 1,
        )),
        [y, m] => Some((month_start(y.into(), m), month_start(y.into(), m + 1) - 1)),
        [y, m, d] => {
            let day = parse_day(&format!("{y:04}-{m:02}-{d:02}"))?;
            Some((day, day))
        }
        _ => None,
    }
}

/// Where a prefix points in the layout: the levels it names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    /// The key prefix up to and including `AWSLogs/`.
    pub base: String,
    /// The prefix named no `AWSLogs/`: it is taken as the trail's own key prefix, `AWSLogs/`
    /// below it.
    pub implied: bool,
    pub org: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    /// `[year]`, `[year, month]` or `[year, month, day]`.
    pub date: Vec<u32>,
    /// Below a day: the start of file names.
    pub file: Option<String>,
}

impl Position {
    /// Reads a key prefix against the layout. A last segment without `/` is taken whole (an
    /// account, a region, a day), except below a day, where it starts file names.
    pub fn parse(prefix: &str) -> Result<Position, LayoutError> {
        let segments: Vec<&str> = prefix.split('/').collect();
        let Some(at) = segments.iter().position(|s| *s == "AWSLogs") else {
            let mut base = prefix.to_string();
            if !base.is_empty() && !base.ends_with('/') {
                base.push('/');
            }
            base.push_str("AWSLogs/");
            return Ok(Position {
                base,
                implied: true,
                ..Position::default()
            });
        };
        let mut pos = Position {
            base: format!(
                "{}AWSLogs/",
                segments[..at]
                    .iter()
                    .map(|s| format!("{s}/"))
                    .collect::<String>()
            ),
            ..Position::default()
        };
        let below: Vec<&str> = segments[at + 1..]
            .iter()
            .copied()
            .filter(|s| !s.is_empty())
            .collect();
        let shown = || format!("prefix {prefix:?}");
        let mut it = below.into_iter().peekable();
        if let Some(s) = it.peek().copied() {
            if s.starts_with("o-") {
                if !is_org(s) {
                    return Err(bad(format!("{}: {s:?} is not an organization id", shown())));
                }
                pos.org = Some(s.to_string());
                it.next();
            }
        }
        if let Some(s) = it.next() {
            if !is_account(s) {
                return Err(bad(format!(
                    "{}: {s:?} is not an account id (12 digits) or an organization id (o-...)",
                    shown()
                )));
            }
            pos.account = Some(s.to_string());
        }
        if let Some(s) = it.next() {
            if s != "CloudTrail" {
                return Err(bad(format!(
                    "{}: {s:?}: only CloudTrail/ log files are read (not digests or Insights)",
                    shown()
                )));
            }
        }
        if let Some(s) = it.next() {
            if !is_region(s) {
                return Err(bad(format!("{}: {s:?} is not a region", shown())));
            }
            pos.region = Some(s.to_string());
        }
        for (width, max) in [(4, 9999), (2, 12), (2, 31)] {
            if let Some(s) = it.next() {
                let n = (s.len() == width && s.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| s.parse::<u32>().ok())
                    .flatten()
                    .filter(|n| (1..=max).contains(n));
                match n {
                    Some(n) => pos.date.push(n),
                    None => {
                        return Err(bad(format!(
                            "{}: {s:?} is not a {} of CloudTrail's YYYY/MM/DD folders",
                            shown(),
                            ["year", "month", "day"][pos.date.len()]
                        )))
                    }
                }
            }
        }
        if pos.date.len() == 3 && date_period(&pos.date).is_none() {
            return Err(bad(format!("{}: no such day", shown())));
        }
        if let Some(s) = it.next() {
            if it.next().is_some() || prefix.ends_with('/') {
                return Err(bad(format!(
                    "{}: nothing is below a day folder but log files",
                    shown()
                )));
            }
            pos.file = Some(s.to_string());
        }
        Ok(pos)
    }

    /// The days to read: the window within the days the prefix names. `None` bounds are
    /// open; `None` as a whole when they do not meet.
    pub fn days(&self, window: &Window) -> Option<(Option<i64>, Option<i64>)> {
        let period = date_period(&self.date);
        let first = max_opt(window.since.map(Bound::day), period.map(|p| p.0));
        let last = min_opt(window.until.map(Bound::day), period.map(|p| p.1));
        match (first, last) {
            (Some(f), Some(l)) if f > l => None,
            fl => Some(fl),
        }
    }

    /// The date part of the prefix, as written below a region (`2024/08/`).
    pub fn date_prefix(&self) -> String {
        let mut s = String::new();
        for (i, n) in self.date.iter().enumerate() {
            if i == 0 {
                s.push_str(&format!("{n:04}/"));
            } else {
                s.push_str(&format!("{n:02}/"));
            }
        }
        s
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Extensions of log files, as a local scan takes them in directories.
const EXTENSIONS: [&str; 3] = [".json", ".jsonl", ".ndjson"];

/// Whether a key names a log file by its ending (`.json`, `.jsonl`, `.ndjson`, and `.gz`).
pub fn is_log_name(key: &str) -> bool {
    let name = key.strip_suffix(".gz").unwrap_or(key);
    EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}

/// Whether a key is a CloudTrail log file of the layout (not a digest, not an Insights file,
/// not a folder marker).
pub fn is_trail_log(key: &str) -> bool {
    is_log_name(key) && key.split('/').any(|s| s == "CloudTrail")
}

/// The name of a listed child prefix: `AWSLogs/o-x/` below `AWSLogs/` is `o-x`.
pub fn child_name<'a>(parent: &str, child: &'a str) -> &'a str {
    child
        .strip_prefix(parent)
        .unwrap_or(child)
        .trim_end_matches('/')
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> i64 {
        parse_day(s).unwrap()
    }

    #[test]
    fn urls() {
        let u = S3Url::parse("s3://trail-bucket/logs/AWSLogs/").unwrap();
        assert_eq!(
            (u.bucket.as_str(), u.prefix.as_str()),
            ("trail-bucket", "logs/AWSLogs/")
        );
        assert_eq!(S3Url::parse("s3://b12").unwrap().prefix, "");
        assert_eq!(u.name("k.json.gz"), "s3://trail-bucket/k.json.gz");
        let e = S3Url::parse("s3://Bad_Bucket/x").unwrap_err().to_string();
        assert!(e.contains("\"Bad_Bucket\" is not a bucket name"), "{e}");
        assert!(S3Url::parse("/tmp/x").is_err());
    }

    #[test]
    fn bounds_and_windows() {
        assert_eq!(Bound::parse("1970-01-02").unwrap(), Bound::Day(1));
        assert_eq!(
            Bound::parse("2024-08-01T23:30:00-01:00").unwrap().day(),
            day("2024-08-02")
        );
        let e = Bound::parse("2024-02-30").unwrap_err().to_string();
        assert_eq!(e, "\"2024-02-30\" is not a date (YYYY-MM-DD)");
        assert!(Bound::parse("yesterday")
            .unwrap_err()
            .0
            .contains("RFC 3339"));
        let w = Window {
            since: Some(Bound::parse("2024-08-02").unwrap()),
            until: Some(Bound::parse("2024-08-01").unwrap()),
        };
        assert!(w
            .check()
            .unwrap_err()
            .0
            .contains("--since is after --until"));
        let w = Window {
            since: Some(Bound::parse("2024-08-01T12:00:00Z").unwrap()),
            until: Some(Bound::parse("2024-08-02").unwrap()),
        };
        w.check().unwrap();
        assert!(w.has_times());
        let at = |s: &str| iamwatch_core::time::parse_millis(s).unwrap();
        assert!(!w.admits(at("2024-08-01T11:59:59Z")));
        assert!(w.admits(at("2024-08-01T12:00:00Z")));
        assert!(w.admits(at("2024-08-02T23:59:59.999Z")));
        assert!(!w.admits(at("2024-08-03T00:00:00Z")));
    }

    #[test]
    fn flag_lists() {
        assert_eq!(
            parse_accounts("111122223333, 444455556666").unwrap(),
            ["111122223333", "444455556666"]
        );
        assert_eq!(
            parse_accounts("1234").unwrap_err().0,
            "account \"1234\": an account id is 12 digits"
        );
        assert_eq!(parse_regions("us-east-1,eu-west-1").unwrap().len(), 2);
        assert!(parse_regions("us east").is_err());
    }

    #[test]
    fn day_prefixes_name_only_the_range() {
        assert_eq!(
            day_prefixes(day("2024-07-30"), day("2024-08-02")),
            ["2024/07/30/", "2024/07/31/", "2024/08/01/", "2024/08/02/"]
        );
        // Whole months and years are one prefix each.
        assert_eq!(
            day_prefixes(day("2023-12-31"), day("2025-03-01")),
            [
                "2023/12/31/",
                "2024/",
                "2025/01/",
                "2025/02/",
                "2025/03/01/"
            ]
        );
        assert_eq!(
            day_prefixes(day("2024-02-01"), day("2024-02-29")),
            ["2024/02/"]
        );
        assert!(day_prefixes(day("2024-02-02"), day("2024-02-01")).is_empty());
    }

    #[test]
    fn positions() {
        let p = Position::parse("").unwrap();
        assert_eq!((p.base.as_str(), p.implied), ("AWSLogs/", true));
        let p = Position::parse("trail").unwrap();
        assert_eq!(p.base, "trail/AWSLogs/");
        let p =
            Position::parse("logs/AWSLogs/o-abcdefghij/111122223333/CloudTrail/us-east-1/2024/08")
                .unwrap();
        assert_eq!(p.base, "logs/AWSLogs/");
        assert!(!p.implied);
        assert_eq!(p.org.as_deref(), Some("o-abcdefghij"));
        assert_eq!(p.account.as_deref(), Some("111122223333"));
        assert_eq!(p.region.as_deref(), Some("us-east-1"));
        assert_eq!(p.date, [2024, 8]);
        assert_eq!(p.date_prefix(), "2024/08/");
        let p = Position::parse("AWSLogs/111122223333/CloudTrail/eu-west-1/2024/08/01/111122223333_CloudTrail_eu-west-1_20240801T13")
            .unwrap();
        assert_eq!(p.org, None);
        assert_eq!(
            p.file.as_deref(),
            Some("111122223333_CloudTrail_eu-west-1_20240801T13")
        );
        let e = Position::parse("AWSLogs/111122223333/CloudTrail-Digest/").unwrap_err();
        assert!(e.0.contains("only CloudTrail/ log files"), "{e}");
        let e = Position::parse("AWSLogs/12345/").unwrap_err();
        assert!(e.0.contains("\"12345\" is not an account id"), "{e}");
        let e = Position::parse("AWSLogs/111122223333/CloudTrail/us-east-1/2024/13/").unwrap_err();
        assert!(e.0.contains("\"13\" is not a month"), "{e}");
    }

    #[test]
    fn the_window_within_the_prefix() {
        let p = Position::parse("AWSLogs/111122223333/CloudTrail/us-east-1/2024/08/").unwrap();
        let w = Window {
            since: Some(Bound::parse("2024-07-20").unwrap()),
            until: Some(Bound::parse("2024-08-03").unwrap()),
        };
        assert_eq!(
            p.days(&w),
            Some((Some(day("2024-08-01")), Some(day("2024-08-03"))))
        );
        assert_eq!(
            p.days(&Window::default()),
            Some((Some(day("2024-08-01")), Some(day("2024-08-31"))))
        );
        let w = Window {
            since: Some(Bound::parse("2024-09-01").unwrap()),
            until: None,
        };
        assert_eq!(p.days(&w), None);
    }

    #[test]
    fn log_keys() {
        assert!(is_trail_log("AWSLogs/1/CloudTrail/r/2024/08/01/a.json.gz"));
        assert!(!is_trail_log(
            "AWSLogs/1/CloudTrail-Digest/r/2024/08/01/a.json.gz"
        ));
        assert!(!is_trail_log("AWSLogs/1/CloudTrail/r/2024/08/01/"));
        assert!(is_log_name("export/x.jsonl"));
        assert_eq!(child_name("AWSLogs/", "AWSLogs/o-abc/"), "o-abc");
    }
}
