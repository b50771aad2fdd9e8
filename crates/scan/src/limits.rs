//! The limits a scan applies to what it reads, and a bounded reader.
//!
//! Logs come from places nobody here controls: an endless file (`/dev/zero`), a huge one or a
//! line that never ends must cost one error for that object, not the scan's memory. Every
//! object is read through [`read_bounded`] or [`Capped`]; past a limit the object (or the
//! line) is reported with a [`LimitError`] naming the limit, and the scan goes on.

use std::fmt;
use std::io::{self, Read};

/// 1 MiB.
pub const MIB: u64 = 1 << 20;

/// The most bytes read from a configuration file (a policy file, an org snapshot).
pub const CONFIG_FILE_LIMIT: u64 = 16 * MIB;

/// What a scan reads at most. The field names are those of the CLI flags
/// (`--max-file-size`, `--max-record-size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes of one object, as stored (compressed or not). A larger object is an
    /// error for that object; a regular file is measured before it is read.
    pub max_file_size: u64,
    /// The longest record: a line of a JSON Lines object (after decompression). A longer
    /// line is an error for that line; the lines after it are read as usual.
    pub max_record_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 256 * MIB,
            max_record_size: 16 * MIB,
        }
    }
}

/// Which limit was passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// [`Limits::max_file_size`].
    File,
    /// [`Limits::max_record_size`].
    Record,
    /// [`CONFIG_FILE_LIMIT`].
    Config,
}

/// An object or a record past its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub struct LimitError {
    pub limit: Limit,
    /// The limit, in bytes.
    pub bytes: u64,
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let size = format_size(self.bytes);
        match self.limit {
            Limit::File => write!(
                f,
                "larger than {size}, the limit on a file (--max-file-size)"
            ),
            Limit::Record => write!(
                f,
                "longer than {size}, the limit on a record (--max-record-size)"
            ),
            Limit::Config => write!(
                f,
                "larger than {size}, the limit on a policy or org snapshot file"
            ),
        }
    }
}

impl From<LimitError> for io::Error {
    fn from(e: LimitError) -> io::Error {
        io::Error::new(io::ErrorKind::FileTooLarge, e)
    }
}

/// The [`LimitError`] inside an I/O error, if that is what it is.
pub fn limit_error(e: &io::Error) -> Option<&LimitError> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<LimitError>())
}

const UNITS: [(&str, u64); 10] = [
    ("gib", 1 << 30),
    ("mib", 1 << 20),
    ("kib", 1 << 10),
    ("gb", 1_000_000_000),
    ("mb", 1_000_000),
    ("kb", 1_000),
    ("g", 1 << 30),
    ("m", 1 << 20),
    ("k", 1 << 10),
    ("b", 1),
];

/// Parses a size: bytes, or a number with a unit: `KiB`, `MiB`, `GiB` (and `K`, `M`, `G`,
/// the same), `KB`, `MB`, `GB` (powers of 1000), in any case. Zero is refused.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_lowercase();
    let (digits, unit) = UNITS
        .iter()
        .find_map(|(suffix, unit)| t.strip_suffix(suffix).map(|d| (d.trim_end(), *unit)))
        .unwrap_or((t.as_str(), 1));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size (bytes, or a number with KiB, MiB, GiB)"))?;
    match n.checked_mul(unit) {
        Some(0) => Err(format!("{s:?}: a size must be at least 1 byte")),
        Some(bytes) => Ok(bytes),
        None => Err(format!("{s:?} is too large")),
    }
}

/// A size for people: `256 MiB`, `1 KiB`, `1000 bytes`.
pub fn format_size(bytes: u64) -> String {
    for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{} {unit}", bytes / size);
        }
    }
    format!("{bytes} bytes")
}

/// Reads everything `reader` gives, up to `max` bytes: more is a [`LimitError`] of kind
/// `limit`. `size_hint` (the size a source gave) sizes the buffer in one allocation; without
/// it the buffer grows by doubling up to `max + 1` bytes, never beyond, and an allocation that
/// fails is an error, not an abort.
pub fn read_bounded(
    reader: &mut dyn Read,
    max: u64,
    limit: Limit,
    size_hint: Option<u64>,
) -> io::Result<Vec<u8>> {
    let cap = usize::try_from(max.saturating_add(1)).unwrap_or(usize::MAX);
    let first = match size_hint {
        Some(n) => usize::try_from(n.saturating_add(1)).unwrap_or(usize::MAX),
        None => 64 << 10,
    }
    .min(cap);
    let mut buf = Vec::new();
    reserve(&mut buf, first)?;
    loop {
        let spare = buf.capacity() - buf.len();
        // Read at most what fits: the buffer never grows behind our back.
        let n = (&mut *reader).take(spare as u64).read_to_end(&mut buf)?;
        if n < spare {
            return Ok(buf);
        }
        if buf.len() >= cap {
            return Err(LimitError { limit, bytes: max }.into());
        }
        let want = buf.capacity().saturating_mul(2).clamp(64 << 10, cap);
        reserve(&mut buf, want)?;
    }
}

fn reserve(buf: &mut Vec<u8>, capacity: usize) -> io::Result<()> {
    buf.try_reserve_exact(capacity.saturating_sub(buf.len()))
        .map_err(|e| io::Error::new(io::ErrorKind::OutOfMemory, e))
}

/// A reader that fails with a [`LimitError`] once more than `max` bytes came through.
pub struct Capped<R> {
    inner: R,
    max: u64,
    limit: Limit,
    /// Bytes read so far.
    pub read: u64,
}

impl<R: Read> Capped<R> {
    pub fn new(inner: R, max: u64, limit: Limit) -> Self {
        Capped {
            inner,
            max,
            limit,
            read: 0,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // One byte past the limit tells a file of exactly `max` bytes from a larger one.
        let room = self.max.saturating_add(1).saturating_sub(self.read);
        let len = usize::try_from(room).unwrap_or(usize::MAX).min(buf.len());
        let n = self.inner.read(&mut buf[..len])?;
        self.read += n as u64;
        if self.read > self.max {
            return Err(LimitError {
                limit: self.limit,
                bytes: self.max,
            }
            .into());
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("64 mib"), Ok(64 << 20));
        assert_eq!(parse_size("2M"), Ok(2 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("16KB"), Ok(16_000));
        assert_eq!(parse_size("512b"), Ok(512));
        assert!(parse_size("lots").unwrap_err().contains("not a size"));
        assert!(parse_size("0MiB").unwrap_err().contains("at least 1 byte"));
        assert!(parse_size("99999999999GiB")
            .unwrap_err()
            .contains("too large"));
        assert!(parse_size("-1").is_err());
    }

    #[test]
    fn sizes_print_in_the_largest_exact_unit() {
        assert_eq!(format_size(256 << 20), "256 MiB");
        assert_eq!(format_size(1024), "1 KiB");
        assert_eq!(format_size(1000), "1000 bytes");
        assert_eq!(format_size(3 << 30), "3 GiB");
    }

    #[test]
    fn read_bounded_stops_at_the_limit() {
        let mut zero = io::repeat(0);
        let e = read_bounded(&mut zero, 1 << 20, Limit::File, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "larger than 1 MiB, the limit on a file (--max-file-size)"
        );
        assert!(limit_error(&e).is_some());
        // Exactly at the limit is fine, with or without a size hint (even a wrong one).
        for hint in [None, Some(10), Some(1 << 20), Some(u64::MAX)] {
            let data = vec![7u8; 1 << 20];
            let got = read_bounded(&mut &data[..], 1 << 20, Limit::File, hint).unwrap();
            assert_eq!(got, data, "{hint:?}");
            assert!(got.capacity() <= (1 << 20) + 1, "{hint:?}");
        }
        let mut short = &b"abc"[..];
        assert_eq!(
            read_bounded(&mut short, 10, Limit::Config, Some(3)).unwrap(),
            b"abc"
        );
    }

    #[test]
    fn capped_reader_fails_past_the_limit() {
        let mut r = Capped::new(&b"0123456789"[..], 10, Limit::File);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!((out.len(), r.read), (10, 10));
        let mut r = Capped::new(io::repeat(1), 100, Limit::File);
        let e = r.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(limit_error(&e).map(|l| l.bytes), Some(100));
    }
}
