//! A [`Source`] of local files and directories.
//!
//! The walk reads only what can end: regular files (a FIFO or a device met in a directory is
//! skipped, and said), each directory and file once, however many links lead to it (they are
//! told apart by device and inode, so symbolic-link loops end). A file named by the user is
//! always read, whatever its name or type (`/dev/stdin`, a process substitution): the limits
//! of the scan still bound it.

use crate::source::{Object, Source};
use crate::Reporter;
use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Extensions read inside directories.
const EXTENSIONS: [&str; 3] = [".json", ".jsonl", ".ndjson"];

/// Files and directories named by a user. Directories are walked recursively, in name order,
/// taking the log files among them (`*.json`, `*.jsonl`, `*.ndjson` and their `.gz` forms).
pub struct LocalFiles {
    paths: Vec<PathBuf>,
}

/// A file of a [`LocalFiles`] source.
pub struct LocalFile {
    path: PathBuf,
    name: String,
    size: Option<u64>,
    /// Found in a directory: must still be a regular file when opened.
    walked: bool,
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
        let mut walk = Walk {
            out: Vec::new(),
            seen: HashMap::new(),
            reporter,
        };
        for path in &self.paths {
            walk.visit(path, true);
        }
        walk.out
    }

    fn open<'a>(&'a self, object: &'a LocalFile) -> std::io::Result<Box<dyn Read + 'a>> {
        if !object.walked {
            return Ok(Box::new(File::open(&object.path)?));
        }
        // Listed as a regular file; if it was swapped for a FIFO since, opening must not
        // wait for a writer, and reading it must not start.
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
        let file = options.open(&object.path)?;
        if !file.metadata()?.is_file() {
            return Err(std::io::Error::other("no longer a regular file"));
        }
        Ok(Box::new(file))
    }
}

/// What tells two paths to the same file or directory apart.
#[cfg(unix)]
type Identity = (u64, u64);
#[cfg(not(unix))]
type Identity = PathBuf;

#[cfg(unix)]
fn identity(meta: &Metadata, _path: &Path) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_meta: &Metadata, path: &Path) -> Option<Identity> {
    std::fs::canonicalize(path).ok()
}

/// What kind of file this is, when not a regular file or a directory.
fn kind(meta: &Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "FIFO";
        } else if t.is_socket() {
            return "socket";
        } else if t.is_char_device() {
            return "character device";
        } else if t.is_block_device() {
            return "block device";
        }
    }
    let _ = meta;
    "special file"
}

struct Walk<'a> {
    out: Vec<LocalFile>,
    /// The first path each file and directory was found at.
    seen: HashMap<Identity, PathBuf>,
    reporter: &'a dyn Reporter,
}

impl Walk<'_> {
    /// The path `meta` was first found at, if it was; else remembers `path`.
    fn seen_before(&mut self, meta: &Metadata, path: &Path) -> Option<PathBuf> {
        let id = identity(meta, path)?;
        match self.seen.get(&id) {
            Some(first) => Some(first.clone()),
            None => {
                self.seen.insert(id, path.to_path_buf());
                None
            }
        }
    }

    /// Adds `path` (a file, or a directory walked recursively) to the list.
    fn visit(&mut self, path: &Path, named: bool) {
        let shown = path.display();
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink());
                if link && !named && !wanted(path) {
                    // Would not be read if it led somewhere: not an error.
                    return self.reporter.note(&format!(
                        "{shown}: skipped: a symbolic link to nothing ({e})"
                    ));
                }
                return self.reporter.error(&format!("{shown}: {e}"));
            }
        };
        if meta.is_dir() {
            if let Some(first) = self.seen_before(&meta, path) {
                return self.reporter.note(&format!(
                    "{shown}: skipped: the same directory as {}",
                    first.display()
                ));
            }
            let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
                Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(e) => {
                    return self
                        .reporter
                        .error(&format!("{shown}: cannot read directory: {e}"))
                }
            };
            entries.sort();
            for e in entries {
                self.visit(&e, false);
            }
        } else if !named && !wanted(path) {
            // Not a log file by its name (a README, a LICENSE).
        } else if !named && !meta.is_file() {
            self.reporter.note(&format!(
                "{shown}: skipped: not a regular file ({})",
                kind(&meta)
            ));
        } else if let Some(first) = self.seen_before(&meta, path) {
            self.reporter.note(&format!(
                "{shown}: skipped: the same file as {}",
                first.display()
            ));
        } else {
            self.out.push(LocalFile {
                path: path.to_path_buf(),
                name: shown.to_string(),
                size: meta.is_file().then_some(meta.len()),
                walked: !named,
            });
        }
    }
}

fn wanted(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let name = name.strip_suffix(".gz").unwrap_or(name);
    EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}
