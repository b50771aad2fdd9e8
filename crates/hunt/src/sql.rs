//! The query of a hunt: only the in-scope IAM calls, only the partitions of the requested range,
//! accounts and regions, over the CloudTrail table of the Athena documentation ("Create the
//! table for CloudTrail logs in Athena using partition projection"): a date partition
//! `timestamp` projected as `yyyy/MM/dd`, and for an organization trail `account` and `region`
//! partitions in front of it. The partition names are the caller's to change ([`Layout`]).
//!
//! Every value that reaches the SQL text is checked first (an account id is 12 digits, a region
//! is `[a-z0-9-]`, a name is `[A-Za-z0-9_]`), then quoted; a string literal doubles its quotes.

use iamwatch_core::select::{self, parse_day_or_time, DayOrTime};
use iamwatch_core::time::format_millis;
use std::fmt::Write as _;

/// A value that cannot go into the query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SqlError(pub String);

fn bad(msg: impl Into<String>) -> SqlError {
    SqlError(msg.into())
}

/// The columns a hunt selects, in order: the name the result carries and the expression that
/// makes it. Structs come back as JSON text (`json_format(CAST(... AS JSON))`) so that a row
/// maps onto the record without parsing Athena's struct notation.
pub const COLUMNS: &[(&str, &str)] = &[
    ("eventversion", "eventversion"),
    ("eventtime", "eventtime"),
    ("eventsource", "eventsource"),
    ("eventname", "eventname"),
    ("awsregion", "awsregion"),
    ("sourceipaddress", "sourceipaddress"),
    ("useragent", "useragent"),
    ("useridentity", "json_format(CAST(useridentity AS JSON))"),
    ("errorcode", "errorcode"),
    ("errormessage", "errormessage"),
    ("requestparameters", "requestparameters"),
    ("responseelements", "responseelements"),
    ("additionaleventdata", "additionaleventdata"),
    ("requestid", "requestid"),
    ("eventid", "eventid"),
    ("eventtype", "eventtype"),
    ("recipientaccountid", "recipientaccountid"),
];

/// `DB.TABLE`, both names checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub database: String,
    pub table: String,
}

impl Table {
    /// Parses `DB.TABLE`.
    pub fn parse(s: &str) -> Result<Table, SqlError> {
        let (database, table) = s
            .split_once('.')
            .ok_or_else(|| bad(format!("table {s:?}: give it as DATABASE.TABLE")))?;
        for (what, name) in [("database", database), ("table", table)] {
            check_name(what, name)?;
        }
        Ok(Table {
            database: database.to_string(),
            table: table.to_string(),
        })
    }
}

fn check_name(what: &str, name: &str) -> Result<(), SqlError> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(bad(format!(
            "{what} name {name:?}: only letters, digits and _ are accepted"
        )));
    }
    Ok(())
}

/// How the date partition's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateFormat {
    /// `yyyy/MM/dd`, as the projected `timestamp` partition of the Athena documentation.
    Slashes,
    /// `yyyy-MM-dd`.
    Dashes,
}

impl DateFormat {
    /// Parses the projection format (`yyyy/MM/dd` or `yyyy-MM-dd`).
    pub fn parse(s: &str) -> Result<DateFormat, SqlError> {
        match s {
            "yyyy/MM/dd" => Ok(DateFormat::Slashes),
            "yyyy-MM-dd" => Ok(DateFormat::Dashes),
            _ => Err(bad(format!(
                "date partition format {s:?}: yyyy/MM/dd or yyyy-MM-dd"
            ))),
        }
    }

    /// The partition value of a `YYYY-MM-DD` date.
    fn value(self, date: &str) -> String {
        match self {
            DateFormat::Slashes => date.replace('-', "/"),
            DateFormat::Dashes => date.to_string(),
        }
    }
}

/// The partition columns of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The account partition (`account`).
    pub account: String,
    /// The region partition (`region`).
    pub region: String,
    /// The date partition (`timestamp`).
    pub date: String,
    /// How the date partition is written (`yyyy/MM/dd`).
    pub date_format: DateFormat,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            account: "account".to_string(),
            region: "region".to_string(),
            date: "timestamp".to_string(),
            date_format: DateFormat::Slashes,
        }
    }
}

impl Layout {
    /// Checks the column names.
    pub fn check(&self) -> Result<(), SqlError> {
        check_name("account partition", &self.account)?;
        check_name("region partition", &self.region)?;
        check_name("date partition", &self.date)
    }
}

/// One end of the requested range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// A whole UTC day (`2024-08-01`), as milliseconds of its first instant.
    Day(i64),
    /// An instant (RFC 3339), in milliseconds.
    Time(i64),
}

const DAY: i64 = 86_400_000;

impl Bound {
    /// Parses `YYYY-MM-DD` or an RFC 3339 time.
    pub fn parse(s: &str) -> Result<Bound, SqlError> {
        Ok(match parse_day_or_time(s).map_err(bad)? {
            DayOrTime::Day(d) => Bound::Day(d * DAY),
            DayOrTime::Time(ms) => Bound::Time(ms),
        })
    }

    fn millis(self) -> i64 {
        match self {
            Bound::Day(ms) | Bound::Time(ms) => ms,
        }
    }
}

/// What a hunt looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub table: Table,
    pub layout: Layout,
    /// Inclusive: a day from its start, a time from that instant.
    pub since: Option<Bound>,
    /// Inclusive: a day to its end, a time up to that instant.
    pub until: Option<Bound>,
    /// Account ids (12 digits); empty is every account.
    pub accounts: Vec<String>,
    /// Regions; empty is every region.
    pub regions: Vec<String>,
}

/// Splits a comma-separated list and checks each account id.
pub fn parse_accounts(s: &str) -> Result<Vec<String>, SqlError> {
    select::parse_accounts(s).map_err(bad)
}

/// Splits a comma-separated list and checks each region.
pub fn parse_regions(s: &str) -> Result<Vec<String>, SqlError> {
    select::parse_regions(s).map_err(bad)
}

/// `'text'` with quotes doubled.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `"name"` with quotes doubled.
pub fn identifier(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn in_list<'a>(column: &str, values: impl IntoIterator<Item = &'a str>) -> String {
    let values: Vec<String> = values.into_iter().map(literal).collect();
    format!("{column} IN ({})", values.join(", "))
}

impl Query {
    /// Checks what the parsers could not: the layout's names, and that the range is not empty.
    pub fn check(&self) -> Result<(), SqlError> {
        self.layout.check()?;
        check_name("database", &self.table.database)?;
        check_name("table", &self.table.table)?;
        // Values may have been set without the parsers.
        parse_accounts(&self.accounts.join(","))?;
        parse_regions(&self.regions.join(","))?;
        if let (Some(since), Some(until)) = (self.since, self.until) {
            if self.end(until) < since.millis() {
                return Err(bad("--since is after --until: the range is empty"));
            }
        }
        Ok(())
    }

    /// The UTC day (`YYYY-MM-DD`) of a bound.
    fn day(&self, b: Bound) -> String {
        format_millis(b.millis())[..10].to_string()
    }

    /// The last instant a bound lets in.
    fn end(&self, b: Bound) -> i64 {
        match b {
            Bound::Day(ms) => ms + DAY - 1,
            Bound::Time(ms) => ms,
        }
    }

    /// The SQL (Trino / Athena engine 3) of the hunt.
    pub fn sql(&self) -> Result<String, SqlError> {
        self.check()?;
        let mut sql = String::from("SELECT\n");
        let select: Vec<String> = COLUMNS
            .iter()
            .map(|(name, expr)| {
                if name == expr {
                    format!("  {name}")
                } else {
                    format!("  {expr} AS {name}")
                }
            })
            .collect();
        sql.push_str(&select.join(",\n"));
        let _ = write!(
            sql,
            "\nFROM {}.{}\nWHERE ",
            identifier(&self.table.database),
            identifier(&self.table.table)
        );
        let mut conditions = Vec::new();
        let date = identifier(&self.layout.date);
        let fmt = self.layout.date_format;
        // Partitions first: Athena prunes on them before reading an object.
        match (self.since, self.until) {
            (Some(s), Some(u)) => conditions.push(format!(
                "{date} BETWEEN {} AND {}",
                literal(&fmt.value(&self.day(s))),
                literal(&fmt.value(&self.day(u)))
            )),
            (Some(s), None) => {
                conditions.push(format!("{date} >= {}", literal(&fmt.value(&self.day(s)))))
            }
            (None, Some(u)) => {
                conditions.push(format!("{date} <= {}", literal(&fmt.value(&self.day(u)))))
            }
            (None, None) => {}
        }
        if !self.accounts.is_empty() {
            conditions.push(in_list(
                &identifier(&self.layout.account),
                self.accounts.iter().map(String::as_str),
            ));
        }
        if !self.regions.is_empty() {
            conditions.push(in_list(
                &identifier(&self.layout.region),
                self.regions.iter().map(String::as_str),
            ));
        }
        conditions.push(in_list(
            "eventsource",
            iamwatch_core::sources::SOURCES
                .iter()
                .map(|s| s.event_source),
        ));
        conditions.push(in_list(
            "eventname",
            iamwatch_core::rules::in_scope_event_names(),
        ));
        // Exact times trim the first and last day.
        if let Some(Bound::Time(ms)) = self.since {
            conditions.push(format!(
                "from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp({})",
                literal(&format_millis(ms))
            ));
        }
        if let Some(Bound::Time(ms)) = self.until {
            conditions.push(format!(
                "from_iso8601_timestamp(eventtime) <= from_iso8601_timestamp({})",
                literal(&format_millis(ms))
            ));
        }
        sql.push_str(&conditions.join("\n  AND "));
        sql.push_str("\nORDER BY eventtime");
        Ok(sql)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query() -> Query {
        Query {
            table: Table::parse("security.cloudtrail_logs_pp").unwrap(),
            layout: Layout::default(),
            since: None,
            until: None,
            accounts: vec![],
            regions: vec![],
        }
    }

    #[test]
    fn in_scope_names_and_sources_come_from_the_core() {
        let sql = query().sql().unwrap();
        for name in iamwatch_core::rules::in_scope_event_names() {
            assert!(sql.contains(&format!("'{name}'")), "{name} missing:\n{sql}");
        }
        let sources: Vec<String> = iamwatch_core::sources::SOURCES
            .iter()
            .map(|s| format!("'{}'", s.event_source))
            .collect();
        assert!(
            sql.contains(&format!("eventsource IN ({})", sources.join(", "))),
            "{sql}"
        );
        assert!(
            sql.contains("FROM \"security\".\"cloudtrail_logs_pp\""),
            "{sql}"
        );
        assert!(
            sql.contains("json_format(CAST(useridentity AS JSON)) AS useridentity"),
            "{sql}"
        );
        // No range, no accounts: no partition predicate at all.
        assert!(!sql.contains("\"timestamp\""), "{sql}");
        assert!(!sql.contains("\"account\""), "{sql}");
    }

    #[test]
    fn dates_prune_whole_days_and_times_trim_them() {
        let mut q = query();
        q.since = Some(Bound::parse("2024-07-30").unwrap());
        q.until = Some(Bound::parse("2024-08-02").unwrap());
        let sql = q.sql().unwrap();
        assert!(
            sql.contains("\"timestamp\" BETWEEN '2024/07/30' AND '2024/08/02'"),
            "{sql}"
        );
        assert!(!sql.contains("from_iso8601_timestamp"), "{sql}");

        q.since = Some(Bound::parse("2024-07-30T22:15:00+02:00").unwrap());
        q.until = Some(Bound::parse("2024-08-02T01:00:00.5Z").unwrap());
        let sql = q.sql().unwrap();
        // 22:15 at +02:00 is 20:15 UTC, still the 30th.
        assert!(
            sql.contains("\"timestamp\" BETWEEN '2024/07/30' AND '2024/08/02'"),
            "{sql}"
        );
        assert!(
            sql.contains("from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp('2024-07-30T20:15:00.000Z')"),
            "{sql}"
        );
        assert!(
            sql.contains("from_iso8601_timestamp(eventtime) <= from_iso8601_timestamp('2024-08-02T01:00:00.500Z')"),
            "{sql}"
        );

        q.since = Some(Bound::parse("2024-07-31T23:30:00-01:00").unwrap());
        q.until = None;
        let sql = q.sql().unwrap();
        assert!(sql.contains("\"timestamp\" >= '2024/08/01'"), "{sql}");
    }

    #[test]
    fn accounts_regions_and_layout() {
        let mut q = query();
        q.accounts = parse_accounts("111111111111, 222222222222").unwrap();
        q.regions = parse_regions("us-east-1,eu-west-3").unwrap();
        q.layout = Layout {
            account: "acct".to_string(),
            region: "reg".to_string(),
            date: "dt".to_string(),
            date_format: DateFormat::parse("yyyy-MM-dd").unwrap(),
        };
        q.until = Some(Bound::parse("2024-08-02").unwrap());
        let sql = q.sql().unwrap();
        assert!(
            sql.contains("\"acct\" IN ('111111111111', '222222222222')"),
            "{sql}"
        );
        assert!(
            sql.contains("\"reg\" IN ('us-east-1', 'eu-west-3')"),
            "{sql}"
        );
        assert!(sql.contains("\"dt\" <= '2024-08-02'"), "{sql}");
    }

    #[test]
    fn values_that_could_escape_are_refused() {
        assert!(parse_accounts("11111111111").is_err());
        assert!(parse_accounts("1111111111111").is_err());
        assert!(parse_accounts("111111111111' OR '1'='1").is_err());
        assert!(parse_regions("us-east-1'--").is_err());
        assert!(parse_regions("US-EAST-1").is_err());
        assert!(Table::parse("db").is_err());
        assert!(Table::parse("db.t\" --").is_err());
        assert!(Table::parse("db.t.x").is_err());
        assert!(Bound::parse("2024-02-30").is_err());
        assert!(Bound::parse("2024-08-01T10:00").is_err());
        assert!(Bound::parse("yesterday").is_err());
        assert!(DateFormat::parse("dd/MM/yyyy").is_err());
        let mut q = query();
        q.layout.date = "timestamp\" OR 1=1 --".to_string();
        assert!(q.sql().is_err());
        let mut q = query();
        q.accounts = vec!["1' OR '1'='1".to_string()];
        assert!(q.sql().is_err());
        // Literals double their quotes, identifiers too.
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(identifier("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn an_empty_range_is_an_error() {
        let mut q = query();
        q.since = Some(Bound::parse("2024-08-02").unwrap());
        q.until = Some(Bound::parse("2024-08-01").unwrap());
        assert!(q.sql().is_err());
        q.since = Some(Bound::parse("2024-08-01T12:00:00Z").unwrap());
        q.until = Some(Bound::parse("2024-08-01T11:00:00Z").unwrap());
        assert!(q.sql().is_err());
        // The same day as both ends is one day.
        q.since = Some(Bound::parse("2024-08-01").unwrap());
        q.until = Some(Bound::parse("2024-08-01").unwrap());
        assert!(q
            .sql()
            .unwrap()
            .contains("BETWEEN '2024/08/01' AND '2024/08/01'"));
    }
}
