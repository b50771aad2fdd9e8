//! A [`Source`] of local files and directories.

use crate::source::{Object, Source};
use crate::Reporter;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Extensions read inside directories.
const EXTENSIONS: [&str; 3] = [".json", ".jsonl", ".ndjson"];

/// Files and directories named by a user. Directories are walked recursively, taking the log
/// files among them (`*.json`, `*.jsonl`, `*.ndjson` and their `.gz` forms); a file named
/// itself is always read.
pub struct LocalFiles {
    paths: Vec<PathBuf>,
}

/// A file of a [`LocalFiles`] source.
pub struct LocalFile {
    path: PathBuf,
    name: String,
    size: Option<u64>,
}

impl LocalFile {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Object for LocalFile {
    fn name(&self) -> &str {
        &self.name
    }

    fn size(&self) -> Option<u64> {
        self.size
    }
}

impl LocalFiles {
    pub fn new(paths: impl IntoIterator<Item = PathBuf>) -> Self {
        LocalFiles {
            paths: paths.into_iter().collect(),
        }
    }
}

impl Source for LocalFiles {
    type Object = LocalFile;

    fn list(&self, reporter: &dyn Reporter) -> Vec<LocalFile> {
        let mut out = Vec::new();
        for path in &self.paths {
            collect(path, true, &mut out, reporter);
        }
        out
    }

    fn open<'a>(&'a self, object: &'a LocalFile) -> std::io::Result<Box<dyn Read + 'a>> {
        Ok(Box::new(File::open(&object.path)?))
    }
}

/// Adds `path` (a file, or a directory walked recursively) to `out`, sorted for a stable order.
fn collect(path: &Path, named: bool, out: &mut Vec<LocalFile>, reporter: &dyn Reporter) {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return reporter.error(&format!("{}: {e}", path.display())),
    };
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                return reporter.error(&format!("{}: cannot read directory: {e}", path.display()))
            }
        };
        entries.sort();
        for e in entries {
            collect(&e, false, out, reporter);
        }
    } else if named || wanted(path) {
        out.push(LocalFile {
            path: path.to_path_buf(),
            name: path.display().to_string(),
            size: Some(meta.len()),
        });
    }
}

fn wanted(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let name = name.strip_suffix(".gz").unwrap_or(name);
    EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}
