//! Where a scan's logs come from.
//!
//! A [`Source`] lists [`Object`]s (a name, a size when known) and opens them for reading. The
//! scan needs nothing else of it: a folder of files ([`crate::local::LocalFiles`]), the
//! objects under an S3 prefix (`iamwatch-s3`: a `ListObjectsV2` page gives the key and the
//! size, a `GetObject` body is the reader).

use crate::Reporter;
use std::io::Read;

/// One object to read: a file, an S3 object.
pub trait Object: Send + Sync {
    /// How the object is named in messages (a path, a key). Its ending also tells the form
    /// of the content: `.jsonl` and `.ndjson` (optionally `.gz`) are read line by line, in
    /// chunks; anything else is read as one document.
    fn name(&self) -> &str;
    /// Its size in bytes as stored, when the source knows it before reading.
    fn size(&self) -> Option<u64>;
}

/// A set of objects to scan.
///
/// Contract: [`Source::list`] is called once, before any object is opened; it returns the
/// objects in the order they should be read (findings do not depend on it, messages do) and
/// tells `reporter` what it could not list ([`Reporter::error`]: counted, the scan goes on)
/// and what it left out on purpose ([`Reporter::note`]). [`Source::open`] is then called
/// once per object, from worker threads, possibly several at once.
pub trait Source: Sync {
    type Object: Object;
    /// The objects to read.
    fn list(&self, reporter: &dyn Reporter) -> Vec<Self::Object>;
    /// A reader of the object's bytes as stored (gzip is told by content, not here). An
    /// error is reported with the object's name; the other objects are read as usual.
    fn open<'a>(&'a self, object: &'a Self::Object) -> std::io::Result<Box<dyn Read + 'a>>;
}
