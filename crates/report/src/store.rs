//! Where the report reads the inventory from: the dated tables under one root, behind
//! [`InventoryStore`] so that the sweep can hand over S3-backed days and the command line a folder.

use std::future::Future;
use std::path::{Path, PathBuf};

use std::collections::BTreeMap;

use iamwatch_core::inventory::table::ROOT;
use iamwatch_core::inventory::{Day, Table};

/// One stored object of a table on one day: its name (said in messages, e.g. the key or path) and
/// its bytes as stored (gzip JSON Lines; plain JSON Lines is read too).
#[derive(Debug, Clone)]
pub struct TableObject {
    /// Where the object is, as a reader should see it in a message (`users/dt=.../1111.json.gz`).
    pub name: String,
    /// The object's bytes.
    pub bytes: Vec<u8>,
}

/// A store that could not be read (listing or reading failed as a whole).
#[derive(Debug, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct StoreError {
    /// What was being read (a folder, a key, a prefix).
    pub what: String,
    /// Why it failed.
    pub reason: String,
    /// Whether trying again may succeed (throttling, a network error).
    pub retryable: bool,
}

/// A read-only view of an inventory root (`<root>/inventory/v1/...`).
///
/// Contract:
/// - [`days`](InventoryStore::days) lists the partition folder names (`dt=YYYY-MM-DD`, given
///   without the `dt=` prefix or with it, in any order) of one table. A name that is not a date is
///   returned as it is: the report says it skipped it, and goes on.
/// - [`objects`](InventoryStore::objects) returns every object of one table on one day. A day with
///   no objects returns an empty list, not an error.
/// - An error means the store itself could not be read; the report fails with it. A bad object is
///   not an error of the store: return its bytes, and the report names it and reads the others.
pub trait InventoryStore: Sync {
    /// The partition names of `table`.
    fn days(&self, table: Table) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
    /// The objects of `table` on `day`.
    fn objects(
        &self,
        table: Table,
        day: Day,
    ) -> impl Future<Output = Result<Vec<TableObject>, StoreError>> + Send;
}

/// The inventory root as a folder: `<root>/inventory/v1/{users,accounts}/dt=YYYY-MM-DD/*.json.gz`.
#[derive(Debug, Clone)]
pub struct FolderStore {
    root: PathBuf,
}

impl FolderStore {
    /// A store over `root` (the folder that holds `inventory/`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder of the inventory's version-1 tables.
    pub fn base(&self) -> PathBuf {
        self.root.join("inventory").join("v1")
    }

    fn table_dir(&self, table: Table) -> PathBuf {
        self.base().join(table.name())
    }

    fn list_days(&self, table: Table) -> Result<Vec<String>, StoreError> {
        let dir = self.table_dir(table);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(&dir, &e)),
        };
        let mut days = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&dir, &e))?;
            if entry.path().is_dir() {
                days.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        Ok(days)
    }

    fn read_objects(&self, table: Table, day: Day) -> Result<Vec<TableObject>, StoreError> {
        let dir = self.table_dir(table).join(format!("dt={day}"));
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(&dir, &e)),
        };
        let mut paths = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| io_error(&dir, &e))?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if path.is_file()
                && name.is_some_and(|n| n.ends_with(".json.gz") || n.ends_with(".jsonl"))
            {
                paths.push(path);
            }
        }
        paths.sort();
        paths
            .into_iter()
            .map(|path| {
                let bytes = std::fs::read(&path).map_err(|e| io_error(&path, &e))?;
                Ok(TableObject {
                    name: path.display().to_string(),
                    bytes,
                })
            })
            .collect()
    }

    /// Writes a rendered report to `<root>/inventory/v1/report/dt=YYYY-MM-DD/index.html` and
    /// `<root>/inventory/v1/report/latest.html`; returns both paths.
    pub fn write_report(&self, report: &crate::Rendered) -> Result<[PathBuf; 2], StoreError> {
        let write = |key: String| -> Result<PathBuf, StoreError> {
            let path = self.root.join(key);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io_error(parent, &e))?;
            }
            // Write then rename, so that a reader never sees half a page.
            let tmp = path.with_extension("html.tmp");
            std::fs::write(&tmp, &report.html).map_err(|e| io_error(&tmp, &e))?;
            std::fs::rename(&tmp, &path).map_err(|e| io_error(&path, &e))?;
            Ok(path)
        };
        let [dated, latest] = crate::report_keys(report.day);
        Ok([write(dated)?, write(latest)?])
    }
}

impl InventoryStore for FolderStore {
    fn days(&self, table: Table) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send {
        std::future::ready(self.list_days(table))
    }

    fn objects(
        &self,
        table: Table,
        day: Day,
    ) -> impl Future<Output = Result<Vec<TableObject>, StoreError>> + Send {
        std::future::ready(self.read_objects(table, day))
    }
}

fn io_error(path: &Path, e: &std::io::Error) -> StoreError {
    StoreError {
        what: path.display().to_string(),
        reason: e.to_string(),
        retryable: false,
    }
}

/// An inventory root held in memory: objects by key (`inventory/v1/users/dt=.../<account>.json.gz`,
/// under an optional prefix), as a store fetched in bulk or a test hands them over.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    /// Objects by table name and partition (`dt=...`), then by key.
    tables: BTreeMap<(&'static str, String), BTreeMap<String, Vec<u8>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the object at `key`; a key outside the users and accounts tables (a
    /// report page) is ignored, as the report never reads it.
    pub fn put(&mut self, key: impl Into<String>, bytes: Vec<u8>) {
        let key = key.into();
        for table in [Table::Users, Table::Accounts] {
            if let Some(partition) = partition_of(table, &key) {
                self.tables
                    .entry((table.name(), partition.to_string()))
                    .or_default()
                    .insert(key, bytes);
                return;
            }
        }
    }
}

/// The day folder of a key of `table` (`dt=YYYY-MM-DD` right after `inventory/v1/<table>/`).
fn partition_of(table: Table, key: &str) -> Option<&str> {
    let (_, rest) = key.split_once(&format!("{ROOT}/{}/", table.name()))?;
    rest.split_once('/').map(|(partition, _)| partition)
}

impl InventoryStore for MemoryStore {
    fn days(&self, table: Table) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send {
        let days = self
            .tables
            .keys()
            .filter(|(t, _)| *t == table.name())
            .map(|(_, partition)| partition.clone())
            .collect();
        std::future::ready(Ok(days))
    }

    fn objects(
        &self,
        table: Table,
        day: Day,
    ) -> impl Future<Output = Result<Vec<TableObject>, StoreError>> + Send {
        let objects = self
            .tables
            .get(&(table.name(), format!("dt={day}")))
            .into_iter()
            .flatten()
            .map(|(key, bytes)| TableObject {
                name: key.clone(),
                bytes: bytes.clone(),
            })
            .collect();
        std::future::ready(Ok(objects))
    }
}
