//! Reading the tables through a [`TableStore`] (the days there are, the accounts of a day, the
//! rows of one object; the layout and encoding are the core's
//! [`iamwatch_core::inventory::table`]), and [`FolderStore`], the store of a local folder.

use crate::ports::TableStore;
use iamwatch_core::inventory::table::read_jsonl_gz;
use iamwatch_core::inventory::{Day, Table};
use iamwatch_core::ports::PortError;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// `inventory/v1/<table>/`.
pub fn table_prefix(table: Table) -> String {
    format!(
        "{}/{}/",
        iamwatch_core::inventory::table::ROOT,
        table.name()
    )
}

/// The days that have a folder under `table`, sorted.
pub async fn days<S: TableStore>(store: &S, table: Table) -> Result<Vec<Day>, PortError> {
    let prefix = table_prefix(table);
    let mut out: Vec<Day> = store
        .list(&prefix)
        .await?
        .into_iter()
        .filter_map(|k| {
            let rest = k.strip_prefix(&prefix)?;
            rest.strip_prefix("dt=")?.strip_suffix('/')?.parse().ok()
        })
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// The accounts that have an object under `table` on `day`, sorted.
pub async fn accounts_on<S: TableStore>(
    store: &S,
    table: Table,
    day: Day,
) -> Result<Vec<String>, PortError> {
    Ok(store
        .list(&table.day_prefix(day))
        .await?
        .iter()
        .filter_map(|k| table.account_of_key(k).map(str::to_string))
        .collect())
}

/// Reads the rows of `table` for `account` on `day`; `None` when there is no file.
pub async fn read_rows<S: TableStore, T: DeserializeOwned>(
    store: &S,
    table: Table,
    day: Day,
    account: &str,
) -> Result<Option<Vec<T>>, PortError> {
    let key = table.object_key(day, account);
    let Some(bytes) = store.get(&key).await? else {
        return Ok(None);
    };
    read_jsonl_gz(&bytes).map(Some).map_err(|e| PortError {
        operation: format!("read {}", store.location(&key)),
        message: e.to_string(),
        retryable: false,
    })
}

/// A [`TableStore`] over a local folder: keys are relative paths, writes go to a temporary
/// file first and are renamed into place, so a reader never sees half a file.
#[derive(Debug, Clone)]
pub struct FolderStore {
    root: PathBuf,
}

impl FolderStore {
    pub fn new(root: impl Into<PathBuf>) -> FolderStore {
        FolderStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }
}

fn io_error(operation: String, e: std::io::Error) -> PortError {
    PortError {
        operation,
        message: e.to_string(),
        retryable: false,
    }
}

impl TableStore for FolderStore {
    async fn put(&self, key: &str, body: Vec<u8>, _content_type: &str) -> Result<(), PortError> {
        let path = self.path(key);
        let op = || format!("write {}", path.display());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io_error(op(), e))?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, body).map_err(|e| io_error(op(), e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io_error(op(), e))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        let path = self.path(key);
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(format!("read {}", path.display()), e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, PortError> {
        let dir = self.path(prefix);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(format!("list {}", dir.display()), e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error(format!("list {}", dir.display()), e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.contains(".tmp") {
                continue;
            }
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            out.push(format!("{prefix}{name}{}", if is_dir { "/" } else { "" }));
        }
        out.sort();
        Ok(out)
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        let path = self.path(key);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(format!("delete {}", path.display()), e)),
        }
    }

    fn location(&self, key: &str) -> String {
        self.path(key).display().to_string()
    }
}

/// A [`TableStore`] as the report reads it ([`iamwatch_report::InventoryStore`]).
pub struct ReportView<'a, S>(pub &'a S);

fn store_error(e: PortError) -> iamwatch_report::StoreError {
    iamwatch_report::StoreError {
        what: e.operation,
        reason: e.message,
        retryable: e.retryable,
    }
}

impl<S: TableStore> iamwatch_report::InventoryStore for ReportView<'_, S> {
    async fn days(&self, table: Table) -> Result<Vec<String>, iamwatch_report::StoreError> {
        let prefix = table_prefix(table);
        Ok(self
            .0
            .list(&prefix)
            .await
            .map_err(store_error)?
            .into_iter()
            .filter_map(|k| {
                k.strip_prefix(&prefix)?
                    .strip_suffix('/')
                    .map(str::to_string)
            })
            .collect())
    }

    async fn objects(
        &self,
        table: Table,
        day: Day,
    ) -> Result<Vec<iamwatch_report::TableObject>, iamwatch_report::StoreError> {
        let mut out = Vec::new();
        for key in self
            .0
            .list(&table.day_prefix(day))
            .await
            .map_err(store_error)?
        {
            if key.ends_with('/') {
                continue;
            }
            if let Some(bytes) = self.0.get(&key).await.map_err(store_error)? {
                out.push(iamwatch_report::TableObject { name: key, bytes });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_folder_store_writes_lists_overwrites_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let s = FolderStore::new(dir.path());
        let day: Day = "2026-12-01".parse().unwrap();
        let k = Table::Users.object_key(day, "111122223333");
        assert_eq!(s.get(&k).await.unwrap(), None);
        s.put(&k, b"one".to_vec(), "x").await.unwrap();
        s.put(&k, b"two".to_vec(), "x").await.unwrap();
        assert_eq!(s.get(&k).await.unwrap().as_deref(), Some(&b"two"[..]));
        s.put(
            &Table::Users.object_key(day.plus(-1), "444455556666"),
            vec![],
            "x",
        )
        .await
        .unwrap();
        assert_eq!(days(&s, Table::Users).await.unwrap(), [day.plus(-1), day]);
        assert_eq!(
            accounts_on(&s, Table::Users, day).await.unwrap(),
            ["111122223333"]
        );
        s.delete(&k).await.unwrap();
        s.delete(&k).await.unwrap();
        assert_eq!(s.get(&k).await.unwrap(), None);
        assert!(days(&s, Table::Accounts).await.unwrap().is_empty());
        // A bad object is named by its location.
        s.put(&k, b"not gzip".to_vec(), "x").await.unwrap();
        let err = read_rows::<_, serde_json::Value>(&s, Table::Users, day, "111122223333")
            .await
            .unwrap_err();
        assert!(err.operation.contains("111122223333.json.gz"), "{err}");
    }
}
