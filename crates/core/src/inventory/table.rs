//! The inventory's tables: one gzip JSON Lines object per table, account and day, under
//! `inventory/v1/` of one root (a folder or `s3://bucket/prefix`):
//!
//! - `inventory/v1/users/dt=YYYY-MM-DD/<account>.json.gz`: a [`UserRow`] per IAM user;
//! - `inventory/v1/accounts/dt=YYYY-MM-DD/<account>.json.gz`: one [`AccountRow`];
//! - `inventory/v1/report/dt=YYYY-MM-DD/index.html` and `inventory/v1/report/latest.html`.
//!
//! A re-run of the same day overwrites the day's objects whole. The Glue tables of the CDK app
//! read these paths with date partition projection on `dt`, so the field names and types here
//! are a contract with them: add fields, never rename or retype one.

use super::day::Day;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};

/// The version folder every inventory object sits under.
pub const ROOT: &str = "inventory/v1";

/// The latest report, overwritten by every sweep.
pub const LATEST_REPORT_KEY: &str = "inventory/v1/report/latest.html";

/// One table of the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    /// `inventory/v1/users/`: a [`UserRow`] per IAM user.
    Users,
    /// `inventory/v1/accounts/`: an [`AccountRow`] per account.
    Accounts,
}

impl Table {
    /// The table's folder name (`users`, `accounts`), also its Glue table name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Users => "users",
            Table::Accounts => "accounts",
        }
    }

    /// The folder of one day of this table: `inventory/v1/<table>/dt=YYYY-MM-DD/`.
    pub fn day_prefix(self, day: Day) -> String {
        format!("{ROOT}/{}/dt={day}/", self.name())
    }

    /// The object of one account and day: `inventory/v1/<table>/dt=YYYY-MM-DD/<account>.json.gz`.
    pub fn object_key(self, day: Day, account_id: &str) -> String {
        format!("{}{account_id}.json.gz", self.day_prefix(day))
    }

    /// The account id of an object key of this table's day folder (`<account>.json.gz`), so a
    /// reader listing a day knows whose object it holds.
    pub fn account_of_key(self, key: &str) -> Option<&str> {
        let name = key.rsplit('/').next()?;
        let account = name.strip_suffix(".json.gz")?;
        (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
    }
}

/// The object key of one table, day and account: `inventory/v1/users/dt=2026-12-01/111111111111.json.gz`.
pub fn object_key(table: Table, day: Day, account_id: &str) -> String {
    table.object_key(day, account_id)
}

/// The report page of one day: `inventory/v1/report/dt=YYYY-MM-DD/index.html`.
pub fn report_key(day: Day) -> String {
    format!("{ROOT}/report/dt={day}/index.html")
}

/// The day of a key under a `dt=YYYY-MM-DD/` folder, as a reader walking the root finds them.
pub fn day_of_key(key: &str) -> Option<Day> {
    key.split('/')
        .find_map(|part| part.strip_prefix("dt="))
        .and_then(|d| d.parse().ok())
}

/// One access key of a user, from the credential report (slot 1 or 2) and, in a live sweep,
/// `ListAccessKeys` / `GetAccessKeyLastUsed`. Times are ISO 8601 UTC, `null` when never or unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKeyRow {
    /// The access key id (`AKIA...`); `null` when only the credential report was read (it names
    /// keys by slot only).
    pub id: Option<String>,
    /// Whether the key is active.
    pub active: bool,
    /// When the key was created or last rotated.
    pub last_rotated: Option<String>,
    /// When the key was last used; `null` when never used (`N/A` in the report).
    pub last_used: Option<String>,
    /// The service of the last use (`s3`, `iam`, ...); `null` when never used.
    pub last_used_service: Option<String>,
}

/// One IAM user of one account on one day: a row of `inventory/v1/users/`.
///
/// The root user is not an IAM user and has no row; its hygiene findings count on the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    /// The 12-digit account id.
    pub account_id: String,
    /// The account's name, when known (Organizations or the org snapshot).
    pub account_name: Option<String>,
    /// The account's OU path from the root, outermost first (empty when unknown or at the root).
    pub ou_path: Vec<String>,
    /// The user name.
    pub user: String,
    /// The user's ARN.
    pub arn: String,
    /// When the user was created (ISO 8601 UTC).
    pub created: Option<String>,
    /// Whether the user has a console password.
    pub password_enabled: bool,
    /// When the password was last used; `null` when never or unknown.
    pub password_last_used: Option<String>,
    /// Whether the user has an MFA device.
    pub mfa_active: bool,
    /// The user's access keys (at most two).
    pub access_keys: Vec<AccessKeyRow>,
    /// Whether the user has admin access (an admin policy attached directly or through a group,
    /// or an admin inline policy).
    pub admin: bool,
    /// What makes the user admin: policy ARNs, inline policy names, group names.
    pub admin_via: Vec<String>,
    /// The user's groups.
    pub groups: Vec<String>,
    /// The user's tags.
    pub tags: BTreeMap<String, String>,
    /// The owner, from the first `owner_tags` tag the user has.
    pub owner: Option<String>,
    /// Who created the user (the actor of its real-time `iam-user-created` finding), when known.
    pub creator: Option<String>,
    /// The highest score of the user's hygiene findings (0 when none).
    pub score: u8,
    /// The ids of the hygiene rules that fire on this user.
    pub rules: Vec<String>,
    /// When the credential report this row was read from was generated (ISO 8601 UTC).
    pub report_time: String,
}

/// Whether an account was swept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    /// Swept: its users are in the users table.
    Ok,
    /// Not swept (role missing, access denied, throttled past retries): `error` says why.
    Error,
}

/// One account on one day: the row of `inventory/v1/accounts/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    /// The 12-digit account id.
    pub account_id: String,
    /// The account's name, when known.
    pub account_name: Option<String>,
    /// The account's OU path from the root, outermost first.
    pub ou_path: Vec<String>,
    /// How many IAM users the account has (0 when it could not be swept).
    pub users: u32,
    /// How many of them have at least one hygiene finding.
    pub risky_users: u32,
    /// How many access keys its users have (active or not).
    pub access_keys: u32,
    /// When its credential report was generated; `null` when it could not be read.
    pub report_time: Option<String>,
    /// `ok` or `error`.
    pub status: AccountStatus,
    /// Why the sweep of this account failed; `null` when `status` is `ok`.
    pub error: Option<String>,
}

/// Rows as gzip JSON Lines, one object per line, the form of every table object.
pub fn write_jsonl_gz<T: Serialize>(rows: &[T]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for row in rows {
        // Serializing the row types here cannot fail (string keys, no non-finite floats), and
        // writing to a Vec cannot fail either.
        if let Ok(line) = serde_json::to_vec(row) {
            let _ = gz.write_all(&line);
            let _ = gz.write_all(b"\n");
        }
    }
    gz.finish().unwrap_or_default()
}

/// Why a table object could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TableReadError {
    /// Not gzip, or cut short.
    #[error("not a readable gzip object: {0}")]
    Gzip(#[from] std::io::Error),
    /// A line that is not a row of the table.
    #[error("line {line}: {source}")]
    Row {
        line: usize,
        #[source]
        source: serde_json::Error,
    },
}

/// The rows of a gzip JSON Lines table object. Blank lines are skipped; the first line that is
/// not a row is an error naming its line number.
pub fn read_jsonl_gz<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<Vec<T>, TableReadError> {
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut text)?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let row = serde_json::from_str(&line).map_err(|source| TableReadError::Row {
            line: i + 1,
            source,
        })?;
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> UserRow {
        UserRow {
            account_id: "111111111111".into(),
            account_name: Some("payments-prod".into()),
            ou_path: vec!["Workloads".into(), "Prod".into()],
            user: "ci-deploy".into(),
            arn: "arn:aws:iam::111111111111:user/ci-deploy".into(),
            created: Some("2021-03-04T10:00:00.000Z".into()),
            password_enabled: false,
            password_last_used: None,
            mfa_active: false,
            access_keys: vec![AccessKeyRow {
                id: Some("AKIAEXAMPLE000000001".into()),
                active: true,
                last_rotated: Some("2021-03-04T10:00:00.000Z".into()),
                last_used: Some("2026-11-30T08:00:00.000Z".into()),
                last_used_service: Some("s3".into()),
            }],
            admin: true,
            admin_via: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
            groups: vec!["deployers".into()],
            tags: BTreeMap::from([("owner".to_string(), "team-payments".to_string())]),
            owner: Some("team-payments".into()),
            creator: None,
            score: 45,
            rules: vec!["access-key-not-rotated".into()],
            report_time: "2026-12-01T06:00:00.000Z".into(),
        }
    }

    #[test]
    fn user_row_has_the_documented_fields_and_round_trips() {
        let row = user();
        let v = serde_json::to_value(&row).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = vec![
            "account_id",
            "account_name",
            "ou_path",
            "user",
            "arn",
            "created",
            "password_enabled",
            "password_last_used",
            "mfa_active",
            "access_keys",
            "admin",
            "admin_via",
            "groups",
            "tags",
            "owner",
            "creator",
            "score",
            "rules",
            "report_time",
        ];
        let mut got = keys.clone();
        got.sort_unstable();
        expected.sort_unstable();
        assert_eq!(got, expected);
        assert_eq!(
            v["access_keys"][0],
            json!({"id": "AKIAEXAMPLE000000001", "active": true,
                   "last_rotated": "2021-03-04T10:00:00.000Z",
                   "last_used": "2026-11-30T08:00:00.000Z", "last_used_service": "s3"})
        );
        assert_eq!(v["creator"], json!(null));
        assert_eq!(v["tags"], json!({"owner": "team-payments"}));
        let back: UserRow = serde_json::from_value(v).unwrap();
        assert_eq!(back, row);
    }

    #[test]
    fn account_row_round_trips_with_status_words() {
        let ok = AccountRow {
            account_id: "111111111111".into(),
            account_name: None,
            ou_path: vec![],
            users: 3,
            risky_users: 1,
            access_keys: 4,
            report_time: Some("2026-12-01T06:00:00.000Z".into()),
            status: AccountStatus::Ok,
            error: None,
        };
        let failed = AccountRow {
            account_id: "222222222222".into(),
            users: 0,
            risky_users: 0,
            access_keys: 0,
            report_time: None,
            status: AccountStatus::Error,
            error: Some("AssumeRole iamwatch-member: AccessDenied".into()),
            ..ok.clone()
        };
        let v = serde_json::to_value(&failed).unwrap();
        assert_eq!(
            v,
            json!({"account_id": "222222222222", "account_name": null, "ou_path": [],
                   "users": 0, "risky_users": 0, "access_keys": 0, "report_time": null,
                   "status": "error", "error": "AssumeRole iamwatch-member: AccessDenied"})
        );
        assert_eq!(serde_json::to_value(&ok).unwrap()["status"], json!("ok"));
        let bytes = write_jsonl_gz(&[ok.clone(), failed.clone()]);
        let back: Vec<AccountRow> = read_jsonl_gz(&bytes).unwrap();
        assert_eq!(back, vec![ok, failed]);
    }

    #[test]
    fn users_table_round_trips_through_gzip_json_lines() {
        let rows = vec![
            user(),
            UserRow {
                user: "bob".into(),
                ..user()
            },
        ];
        let bytes = write_jsonl_gz(&rows);
        assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
        let back: Vec<UserRow> = read_jsonl_gz(&bytes).unwrap();
        assert_eq!(back, rows);
        let empty: Vec<UserRow> = read_jsonl_gz(&write_jsonl_gz::<UserRow>(&[])).unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn a_bad_line_is_named() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"account_id\":\"1\"}\n").unwrap();
        let err = read_jsonl_gz::<AccountRow>(&gz.finish().unwrap()).unwrap_err();
        assert!(
            err.to_string().starts_with("line 1: missing field"),
            "{err}"
        );
        assert!(read_jsonl_gz::<AccountRow>(b"not gzip").is_err());
    }

    #[test]
    fn keys_of_tables_days_and_reports() {
        let day: Day = "2026-12-01".parse().unwrap();
        assert_eq!(
            object_key(Table::Users, day, "111111111111"),
            "inventory/v1/users/dt=2026-12-01/111111111111.json.gz"
        );
        assert_eq!(
            Table::Accounts.object_key(day, "222222222222"),
            "inventory/v1/accounts/dt=2026-12-01/222222222222.json.gz"
        );
        assert_eq!(
            Table::Users.day_prefix(day),
            "inventory/v1/users/dt=2026-12-01/"
        );
        assert_eq!(
            report_key(day),
            "inventory/v1/report/dt=2026-12-01/index.html"
        );
        assert_eq!(
            day_of_key("prefix/inventory/v1/users/dt=2026-12-01/111111111111.json.gz"),
            Some(day)
        );
        assert_eq!(day_of_key("inventory/v1/users/dt=junk/x.json.gz"), None);
        assert_eq!(
            Table::Users.account_of_key("inventory/v1/users/dt=2026-12-01/111111111111.json.gz"),
            Some("111111111111")
        );
        assert_eq!(
            Table::Users.account_of_key("inventory/v1/users/dt=2026-12-01/x.json"),
            None
        );
    }
}
