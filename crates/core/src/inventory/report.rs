//! The IAM credential report, read as `GetCredentialReport` returns it (its `Content`, decoded):
//! CSV with a header row, one row per IAM user and one `<root_account>` row.
//!
//! Values are read as AWS writes them: `true`/`false` in any case; ISO 8601 times
//! (`2026-11-02T10:00:00+00:00`); `N/A` (not applicable: no password, a key never used),
//! `no_information` (a password never used, or not since IAM began tracking it) and
//! `not_supported` (the root row's `password_enabled` and `password_last_changed`). A row that
//! cannot be read is a [`RowProblem`] naming its line and what is wrong; the other rows are read.
//! The account is the one the rows' ARNs name.

use crate::time;
use std::fmt;

/// The user name AWS gives the root user's row.
pub const ROOT_ROW: &str = "<root_account>";

/// A yes/no column: `true`, `false` (any case), or `not_supported`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    True,
    False,
    /// `not_supported`: AWS writes it for the root row's `password_enabled`.
    NotSupported,
}

impl Flag {
    /// Whether the flag is `true`.
    pub fn is_true(self) -> bool {
        self == Flag::True
    }
}

/// A time column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// A time, in milliseconds since the Unix epoch.
    At(i64),
    /// `N/A`: not applicable (no password, a key never used, no key).
    NotApplicable,
    /// `no_information`: never used, or not since IAM began tracking use.
    NoInformation,
    /// `not_supported`: AWS does not keep it (the root row's `password_last_changed`).
    NotSupported,
}

impl When {
    /// The time, when there is one.
    pub fn at(self) -> Option<i64> {
        match self {
            When::At(ms) => Some(ms),
            _ => None,
        }
    }

    /// The time in ASFF's form (`2026-11-02T10:00:00.000Z`), when there is one.
    pub fn iso(self) -> Option<String> {
        self.at().map(time::format_millis)
    }

    /// The UTC date (`2026-11-02`) of the time, or the word AWS wrote.
    pub fn describe(self) -> String {
        match self {
            When::At(ms) => time::format_millis(ms)[..10].to_string(),
            When::NotApplicable => "N/A".to_string(),
            When::NoInformation => "no_information".to_string(),
            When::NotSupported => "not_supported".to_string(),
        }
    }
}

/// One access key slot of a row (`access_key_1_*` or `access_key_2_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySlot {
    /// 1 or 2.
    pub slot: u8,
    /// The key id: the report does not give it; a live sweep fills it from `ListAccessKeys`.
    pub id: Option<String>,
    pub active: bool,
    /// When the key was created or last rotated (`N/A` when the slot holds no key).
    pub last_rotated: When,
    /// When it was last used (`N/A` when never).
    pub last_used: When,
    /// The region and service of its last use, when used.
    pub last_used_region: Option<String>,
    pub last_used_service: Option<String>,
}

impl KeySlot {
    /// Slot `slot` holding no key.
    pub fn empty(slot: u8) -> KeySlot {
        KeySlot {
            slot,
            id: None,
            active: false,
            last_rotated: When::NotApplicable,
            last_used: When::NotApplicable,
            last_used_region: None,
            last_used_service: None,
        }
    }
}

/// One row of the report: a user, or the root user (`<root_account>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    /// The line of the file the row starts on (the header is line 1).
    pub line: u64,
    /// The user name; [`ROOT_ROW`] for the root user.
    pub user: String,
    pub arn: String,
    pub created: When,
    pub password_enabled: Flag,
    pub password_last_used: When,
    /// `N/A` when there is no password or the column is absent.
    pub password_last_changed: When,
    pub mfa_active: bool,
    pub keys: [KeySlot; 2],
}

impl ReportRow {
    /// Whether this is the root user's row.
    pub fn is_root(&self) -> bool {
        self.user == ROOT_ROW
    }

    /// The name findings use for the row's user: `root` for the root row.
    pub fn subject_user(&self) -> &str {
        if self.is_root() {
            "root"
        } else {
            &self.user
        }
    }

    /// The active keys of the row.
    pub fn active_keys(&self) -> impl Iterator<Item = &KeySlot> {
        self.keys.iter().filter(|k| k.active)
    }
}

/// A row that could not be read, and why; the report's other rows are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub line: u64,
    pub problem: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.problem)
    }
}

/// A credential report: its account, the rows read and the rows that could not be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialReport {
    /// The 12-digit account id the rows' ARNs name.
    pub account_id: String,
    /// The partition of the ARNs (`aws`, `aws-us-gov`, `aws-cn`).
    pub partition: String,
    pub rows: Vec<ReportRow>,
    pub problems: Vec<RowProblem>,
}

impl CredentialReport {
    /// The rows of IAM users (every row but the root row).
    pub fn users(&self) -> impl Iterator<Item = &ReportRow> {
        self.rows.iter().filter(|r| !r.is_root())
    }

    /// The root user's row, when the report has one.
    pub fn root(&self) -> Option<&ReportRow> {
        self.rows.iter().find(|r| r.is_root())
    }
}

/// Why a file is not a credential report at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("not a credential report: {0}")]
    NotCsv(String),
    #[error("not a credential report: the header lacks column{} {}", if .0.len() == 1 { "" } else { "s" }, .0.join(", "))]
    MissingColumns(Vec<&'static str>),
    #[error("no row with a readable ARN names the account")]
    NoAccount,
}

const REQUIRED: [&str; 14] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_service",
];

/// Column positions, found by name so that a reordered or widened report still reads.
struct Columns {
    index: std::collections::HashMap<String, usize>,
}

impl Columns {
    fn get<'r>(&self, rec: &'r csv::StringRecord, name: &str) -> Option<&'r str> {
        self.index.get(name).and_then(|&i| rec.get(i))
    }
}

fn flag(v: &str, column: &str, not_supported_ok: bool) -> Result<Flag, String> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("true") {
        Ok(Flag::True)
    } else if v.eq_ignore_ascii_case("false") {
        Ok(Flag::False)
    } else if not_supported_ok && v.eq_ignore_ascii_case("not_supported") {
        Ok(Flag::NotSupported)
    } else {
        Err(format!(
            "column {column}: {v:?} is not true or false{}",
            if not_supported_ok {
                " (or not_supported)"
            } else {
                ""
            }
        ))
    }
}

fn when(v: &str, column: &str) -> Result<When, String> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("N/A") {
        return Ok(When::NotApplicable);
    }
    if v.eq_ignore_ascii_case("no_information") {
        return Ok(When::NoInformation);
    }
    if v.eq_ignore_ascii_case("not_supported") {
        return Ok(When::NotSupported);
    }
    time::parse_millis(v).map(When::At).ok_or_else(|| {
        format!(
            "column {column}: {v:?} is not an ISO 8601 time, N/A, no_information or not_supported"
        )
    })
}

/// The partition and account of an IAM ARN (`arn:aws:iam::123456789012:user/x`, `...:root`).
fn arn_account(arn: &str) -> Result<(&str, &str), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource]
            if !partition.is_empty() && !resource.is_empty() =>
        {
            if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
                Ok((partition, account))
            } else {
                Err(format!(
                    "column arn: {arn:?} names account {account:?}, not a 12-digit account id"
                ))
            }
        }
        _ => Err(format!("column arn: {arn:?} is not an IAM ARN")),
    }
}

fn read_row(rec: &csv::StringRecord, cols: &Columns, line: u64) -> Result<ReportRow, String> {
    let get = |name: &str| -> Result<&str, String> {
        cols.get(rec, name)
            .ok_or_else(|| format!("column {name} is missing from this row"))
    };
    let opt = |name: &str| -> Option<String> {
        cols.get(rec, name)
            .map(str::trim)
            .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("N/A"))
            .map(str::to_string)
    };
    let user = get("user")?.trim().to_string();
    if user.is_empty() {
        return Err("column user is empty".to_string());
    }
    let root = user == ROOT_ROW;
    let key = |slot: u8| -> Result<KeySlot, String> {
        let c = |what: &str| format!("access_key_{slot}_{what}");
        Ok(KeySlot {
            slot,
            id: None,
            active: flag(get(&c("active"))?, &c("active"), false)?.is_true(),
            last_rotated: when(get(&c("last_rotated"))?, &c("last_rotated"))?,
            last_used: when(get(&c("last_used_date"))?, &c("last_used_date"))?,
            last_used_region: opt(&c("last_used_region")),
            last_used_service: opt(&c("last_used_service")),
        })
    };
    Ok(ReportRow {
        line,
        arn: get("arn")?.trim().to_string(),
        created: when(get("user_creation_time")?, "user_creation_time")?,
        password_enabled: flag(get("password_enabled")?, "password_enabled", root)?,
        password_last_used: when(get("password_last_used")?, "password_last_used")?,
        password_last_changed: match cols.get(rec, "password_last_changed") {
            Some(v) => when(v, "password_last_changed")?,
            None => When::NotApplicable,
        },
        mfa_active: flag(get("mfa_active")?, "mfa_active", false)?.is_true(),
        keys: [key(1)?, key(2)?],
        user,
    })
}

/// Reads a credential report. Only a file that is not one at all (not CSV, a header without
/// the report's columns, no row naming the account) is an error; a bad row is a
/// [`RowProblem`] and the other rows are read.
pub fn parse(bytes: &[u8]) -> Result<CredentialReport, ReportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| ReportError::NotCsv(e.to_string()))?
        .clone();
    let index: std::collections::HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim().to_ascii_lowercase(), i))
        .collect();
    let missing: Vec<&'static str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| !index.contains_key(*c))
        .collect();
    if !missing.is_empty() {
        return Err(ReportError::MissingColumns(missing));
    }
    let cols = Columns { index };
    let width = headers.len();
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut record = csv::StringRecord::new();
    // Lines are counted from byte offsets, the same for LF and CRLF files.
    let line_at = |byte: u64| -> u64 {
        let mut end = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        // A record of a CRLF file starts, for the reader, at the `\n` ending the previous one.
        while end < bytes.len() && matches!(bytes[end], b'\r' | b'\n') {
            end += 1;
        }
        memchr::memchr_iter(b'\n', &bytes[..end]).count() as u64 + 1
    };
    loop {
        let line = line_at(reader.position().byte());
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, |p| line_at(p.byte()));
                if record.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                if record.len() != width {
                    problems.push(RowProblem {
                        line,
                        problem: format!("{} fields, the header has {width}", record.len()),
                    });
                    continue;
                }
                match read_row(&record, &cols, line) {
                    Ok(row) => rows.push(row),
                    Err(problem) => problems.push(RowProblem { line, problem }),
                }
            }
            Err(e) => {
                let line = e.position().map_or(line, |p| line_at(p.byte()));
                problems.push(RowProblem {
                    line,
                    problem: format!("not CSV: {e}"),
                });
                // Invalid UTF-8 in a field is the only error the reader goes on after; an I/O
                // error on a byte slice cannot happen. Stop on anything else.
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
            }
        }
    }
    // The account is the one the ARNs name: the first readable ARN's, and a row naming
    // another is a problem of that row.
    let mut account: Option<(String, String)> = None;
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows {
        match arn_account(&row.arn) {
            Err(problem) => problems.push(RowProblem {
                line: row.line,
                problem,
            }),
            Ok((partition, id)) => match &account {
                None => {
                    account = Some((partition.to_string(), id.to_string()));
                    kept.push(row);
                }
                Some((_, first)) if first == id => kept.push(row),
                Some((_, first)) => problems.push(RowProblem {
                    line: row.line,
                    problem: format!(
                        "column arn: {:?} names account {id}, the report's rows name {first}",
                        row.arn
                    ),
                }),
            },
        }
    }
    problems.sort_by_key(|p| p.line);
    let (partition, account_id) = account.ok_or(ReportError::NoAccount)?;
    Ok(CredentialReport {
        account_id,
        partition,
        rows: kept,
        problems,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    pub const ROOT: &str = "<root_account>,arn:aws:iam::111122223333:root,2019-03-04T10:00:00+00:00,not_supported,2026-11-20T08:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";

    #[test]
    fn reads_aws_values() {
        let text = format!(
            "{HEADER}\n{ROOT}\n\
             alice,arn:aws:iam::111122223333:user/ops/alice,2021-01-01T00:00:00+00:00,TRUE,no_information,2021-01-01T00:00:00+00:00,N/A,False,true,2021-01-01T00:00:00+00:00,2026-11-30T10:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
        );
        let r = parse(text.as_bytes()).unwrap();
        assert_eq!(r.account_id, "111122223333");
        assert_eq!(r.partition, "aws");
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let root = r.root().unwrap();
        assert!(root.is_root() && root.mfa_active);
        assert_eq!(root.subject_user(), "root");
        assert_eq!(root.password_enabled, Flag::NotSupported);
        assert_eq!(root.password_last_changed, When::NotSupported);
        let alice = r.users().next().unwrap();
        assert_eq!((alice.user.as_str(), alice.line), ("alice", 3));
        assert_eq!(alice.password_enabled, Flag::True);
        assert_eq!(alice.password_last_used, When::NoInformation);
        assert!(!alice.mfa_active);
        let k = &alice.keys[0];
        assert!(k.active && k.id.is_none());
        assert_eq!(
            k.last_used.iso().as_deref(),
            Some("2026-11-30T10:00:00.000Z")
        );
        assert_eq!(k.last_used_service.as_deref(), Some("s3"));
        assert_eq!(alice.keys[1].last_rotated, When::NotApplicable);
        assert_eq!(alice.keys[1].last_used_service, None);
        assert_eq!(alice.active_keys().count(), 1);
    }

    #[test]
    fn bad_rows_are_named_and_the_rest_is_read() {
        let text = format!(
            "\u{feff}{HEADER}\r\n{ROOT}\r\n\
             bob,arn:aws:iam::111122223333:user/bob,2021-01-01T00:00:00+00:00,yes,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\r\n\
             carol,arn:aws:iam::111122223333:user/carol,2021-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,last tuesday,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\r\n\
             dave,arn:aws:iam::111122223333:user/dave,2021-01-01\r\n\
             \r\n\
             erin,arn:aws:iam::999999999999:user/erin,2021-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\r\n\
             frank,not-an-arn,2021-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\r\n\
             grace,arn:aws:iam::111122223333:user/grace,2021-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\r\n"
        );
        let r = parse(text.as_bytes()).unwrap();
        let problems: Vec<String> = r.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            problems,
            [
                "line 3: column password_enabled: \"yes\" is not true or false",
                "line 4: column access_key_1_last_rotated: \"last tuesday\" is not an ISO 8601 time, N/A, no_information or not_supported",
                "line 5: 3 fields, the header has 22",
                "line 7: column arn: \"arn:aws:iam::999999999999:user/erin\" names account 999999999999, the report's rows name 111122223333",
                "line 8: column arn: \"not-an-arn\" is not an IAM ARN",
            ]
        );
        let users: Vec<&str> = r.users().map(|u| u.user.as_str()).collect();
        assert_eq!(users, ["grace"]);
        assert!(r.root().is_some());
    }

    #[test]
    fn what_is_not_a_report_is_an_error() {
        assert_eq!(
            parse(b"name,arn\nx,y\n").unwrap_err().to_string(),
            "not a credential report: the header lacks columns user, user_creation_time, \
             password_enabled, password_last_used, mfa_active, access_key_1_active, \
             access_key_1_last_rotated, access_key_1_last_used_date, \
             access_key_1_last_used_service, access_key_2_active, access_key_2_last_rotated, \
             access_key_2_last_used_date, access_key_2_last_used_service"
        );
        let only_bad = format!("{HEADER}\nx,nope,2021-01-01T00:00:00Z\n");
        assert_eq!(
            parse(only_bad.as_bytes()).unwrap_err(),
            ReportError::NoAccount
        );
        assert!(parse(b"").is_err());
    }

    proptest::proptest! {
        /// Any bytes: an error or a report, never a panic.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = parse(&bytes);
            let mut text = format!("{HEADER}\n").into_bytes();
            text.extend_from_slice(&bytes);
            let _ = parse(&text);
        }

        /// One cell of a good report replaced by anything: its row is read or named by its line,
        /// and every other row is read.
        #[test]
        fn one_bad_cell_costs_at_most_its_row(
            row in 0usize..3,
            column in 2usize..22,
            value in "[ -!#-+\\--~]{0,24}",
        ) {
            let users: Vec<String> = ["ann", "ben", "cat"]
                .iter()
                .map(|u| format!("{u},arn:aws:iam::111122223333:user/{u},2021-01-01T00:00:00+00:00,true,2026-11-01T00:00:00+00:00,2021-01-01T00:00:00+00:00,N/A,false,true,2021-01-01T00:00:00+00:00,2026-11-30T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"))
                .collect();
            let mut cells: Vec<String> = users[row].split(',').map(String::from).collect();
            cells[column] = value;
            let mut lines = vec![HEADER.to_string(), ROOT.to_string()];
            for (i, u) in users.iter().enumerate() {
                lines.push(if i == row { cells.join(",") } else { u.clone() });
            }
            let r = parse(lines.join("\n").as_bytes()).unwrap();
            proptest::prop_assert_eq!(r.rows.len() + r.problems.len(), 4);
            for p in &r.problems {
                proptest::prop_assert_eq!(p.line, row as u64 + 3);
            }
        }
    }

    #[test]
    fn columns_are_found_by_name() {
        // The columns of a user row in another order, without the optional ones.
        let text = "arn,user,mfa_active,password_enabled,password_last_used,user_creation_time,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_service,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_service\n\
             arn:aws-us-gov:iam::111122223333:user/x,x,false,false,N/A,2021-01-01T00:00:00Z,false,N/A,N/A,N/A,true,2021-01-01T00:00:00Z,N/A,N/A\n";
        let r = parse(text.as_bytes()).unwrap();
        assert_eq!(r.partition, "aws-us-gov");
        let x = &r.rows[0];
        assert!(x.keys[0].active && !x.keys[1].active);
        assert_eq!(x.password_last_changed, When::NotApplicable);
    }
}
