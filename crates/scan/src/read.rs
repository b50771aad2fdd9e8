//! Reading one object, within the [`Limits`]: a whole document, or JSON Lines in chunks that
//! end at a line break.

use crate::limits::{self, Capped, Limit, LimitError, Limits};
use iamwatch_core::input::{self, DocStats, ItemError, ItemResult};
use std::io::{self, BufRead, BufReader, Read};

/// Size of the chunks JSON Lines files are read in.
const CHUNK: usize = 8 << 20;

/// Whether an object of this name is JSON Lines (read line by line) rather than one document.
pub fn is_json_lines(name: &str) -> bool {
    let name = name.strip_suffix(".gz").unwrap_or(name);
    name.ends_with(".jsonl") || name.ends_with(".ndjson")
}

/// What was read of an object, also when it could not be read to its end.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ObjectRead {
    /// Items and IAM records seen.
    pub stats: DocStats,
    /// Bytes read, as stored.
    pub bytes: u64,
}

/// Counts what reaches `on_item`: the records of a document that breaks half-way are read
/// and count, though the document's own totals are lost with its error.
fn counting<'a>(
    seen: &'a mut DocStats,
    on_item: &'a mut dyn FnMut(ItemResult),
) -> impl FnMut(ItemResult) + 'a {
    move |item| {
        seen.items += 1;
        seen.iam_records += u64::from(item.is_ok());
        on_item(item)
    }
}

/// A worker's buffers for whole documents: the bytes as stored and as inflated. They are reused
/// from object to object, so a scan allocates, zeroes and faults in no new memory per object
/// once they fit the largest one; past [`KEEP`] they are let go after use, so one huge object
/// does not hold its memory for the rest of the scan.
#[derive(Default)]
struct Buffers {
    raw: Vec<u8>,
    inflated: Vec<u8>,
}

/// The largest buffer a worker keeps between objects (CloudTrail log files are a few MiB).
const KEEP: usize = 64 << 20;

thread_local! {
    static BUFFERS: std::cell::RefCell<Buffers> = std::cell::RefCell::default();
}

/// Reads a whole document (plain or gzip) of at most `limits.max_file_size` bytes as stored.
pub fn read_whole(
    reader: &mut dyn Read,
    size: Option<u64>,
    limits: &Limits,
    on_item: &mut dyn FnMut(ItemResult),
    read: &mut ObjectRead,
) -> Result<(), String> {
    // A worker's buffers, or fresh ones when this thread is already reading (not the case in
    // a scan, whose workers read one object at a time).
    let mut taken = BUFFERS
        .with(|b| b.try_borrow_mut().map(|mut b| std::mem::take(&mut *b)))
        .unwrap_or_default();
    let result = read_whole_in(reader, size, limits, on_item, read, &mut taken);
    for buf in [&mut taken.raw, &mut taken.inflated] {
        if buf.capacity() > KEEP {
            *buf = Vec::new();
        }
    }
    BUFFERS.with(|b| {
        if let Ok(mut b) = b.try_borrow_mut() {
            *b = taken;
        }
    });
    result
}

fn read_whole_in(
    reader: &mut dyn Read,
    size: Option<u64>,
    limits: &Limits,
    on_item: &mut dyn FnMut(ItemResult),
    read: &mut ObjectRead,
    bufs: &mut Buffers,
) -> Result<(), String> {
    read_bounded_into(
        reader,
        limits.max_file_size,
        Limit::File,
        size,
        &mut bufs.raw,
    )
    .map_err(|e| e.to_string())?;
    read.bytes += bufs.raw.len() as u64;
    // Inflated within the same limit as the stored bytes; what came out before a break is
    // read, and the break is reported after it.
    let (data, problem) = if input::gzip::is_gzip(&bufs.raw) {
        let problem =
            input::gzip::inflate_into(&bufs.raw, limits.max_file_size, &mut bufs.inflated);
        (&bufs.inflated, problem)
    } else {
        (&bufs.raw, None)
    };
    let problem = problem.map(|p| {
        let keeps = p.keeps_data();
        (format!("cannot decompress: {p}"), keeps)
    });
    if let Some((message, false)) = problem {
        return Err(message);
    }
    let core_limits = input::Limits {
        max_inflated: limits.max_file_size,
        max_record: usize::try_from(limits.max_record_size).unwrap_or(usize::MAX),
    };
    let mut seen = DocStats::default();
    let result =
        input::read_document_with(data, 1, &core_limits, &mut counting(&mut seen, on_item));
    let problem = problem.map(|(message, _)| message);
    match result {
        Ok(stats) => {
            read.stats += stats;
            problem.map_or(Ok(()), Err)
        }
        Err(e) => {
            read.stats += seen;
            Err(match problem {
                Some(p) => format!("{p}; {e}"),
                None => e.to_string(),
            })
        }
    }
}

/// [`limits::read_bounded`] into `buf` (cleared first, its allocation reused): at most `max`
/// bytes, else a [`LimitError`] naming `limit`.
fn read_bounded_into(
    reader: &mut dyn Read,
    max: u64,
    limit: Limit,
    size_hint: Option<u64>,
    buf: &mut Vec<u8>,
) -> io::Result<()> {
    buf.clear();
    let cap = usize::try_from(max.saturating_add(1)).unwrap_or(usize::MAX);
    let first = match size_hint {
        Some(n) => usize::try_from(n.saturating_add(1)).unwrap_or(usize::MAX),
        None => 64 << 10,
    }
    .min(cap);
    reserve(buf, first)?;
    loop {
        // Read at most what fits (the buffer never grows behind our back), and never past
        // the limit, however large the buffer a previous object left.
        let spare = buf.capacity().min(cap) - buf.len();
        let n = (&mut *reader).take(spare as u64).read_to_end(buf)?;
        if n < spare {
            return Ok(());
        }
        if buf.len() >= cap {
            return Err(LimitError { limit, bytes: max }.into());
        }
        let want = buf.capacity().saturating_mul(2).clamp(64 << 10, cap);
        reserve(buf, want)?;
    }
}

/// Makes room for `capacity` bytes in all.
fn reserve(buf: &mut Vec<u8>, capacity: usize) -> io::Result<()> {
    buf.try_reserve_exact(capacity.saturating_sub(buf.len()))
        .map_err(|e| io::Error::new(io::ErrorKind::OutOfMemory, e))
}

/// Reads a JSON Lines object (plain or gzip) in chunks that end at a line break. The object
/// may have at most `limits.max_file_size` bytes as stored, a line at most
/// `limits.max_record_size` bytes; a longer line is reported and skipped without being held.
pub fn read_lines(
    reader: &mut dyn Read,
    limits: &Limits,
    on_item: &mut dyn FnMut(ItemResult),
    read: &mut ObjectRead,
) -> Result<(), String> {
    let mut stored = Capped::new(reader, limits.max_file_size, Limit::File);
    let result = read_lines_from(&mut stored, limits, on_item, &mut read.stats);
    read.bytes += stored.read;
    result
}

/// An I/O error while reading line `line`; a limit passed is the object's, not the line's.
fn describe(e: io::Error, line: usize) -> String {
    match limits::limit_error(&e) {
        Some(limit) => limit.to_string(),
        None => format!("line {line}: {e}"),
    }
}

fn read_lines_from(
    stored: &mut dyn Read,
    limits: &Limits,
    on_item: &mut dyn FnMut(ItemResult),
    stats: &mut DocStats,
) -> Result<(), String> {
    let mut reader = BufReader::new(stored);
    let gz = reader
        .fill_buf()
        .map_err(|e| describe(e, 1))?
        .starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn BufRead> = if gz {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(reader)))
    } else {
        Box::new(reader)
    };
    let max_line = usize::try_from(limits.max_record_size).unwrap_or(usize::MAX);
    let mut line = 1;
    let mut chunk = Vec::with_capacity(CHUNK + 4096);
    loop {
        chunk.clear();
        (&mut reader)
            .take(CHUNK as u64)
            .read_to_end(&mut chunk)
            .map_err(|e| describe(e, line))?;
        if chunk.is_empty() {
            break;
        }
        if !chunk.ends_with(b"\n") {
            // Finish the last line of the chunk, keeping at most one byte past the limit:
            // the rest of a longer line is skipped unread, the line reported below.
            let tail = chunk.len() - memchr::memrchr(b'\n', &chunk).map_or(0, |i| i + 1);
            let room = max_line.saturating_add(1).saturating_sub(tail);
            let complete =
                read_line_within(&mut reader, &mut chunk, room).map_err(|e| describe(e, line))?;
            if !complete && skip_line(&mut reader).map_err(|e| describe(e, line))? {
                chunk.push(b'\n');
            }
        }
        // Line by line: a bad line is reported and the next one is read as usual.
        for text in chunk.split(|b| *b == b'\n') {
            if text.len() > max_line {
                stats.items += 1;
                on_item(Err(ItemError {
                    location: format!("line {line}"),
                    reason: LimitError {
                        limit: Limit::Record,
                        bytes: limits.max_record_size,
                    }
                    .to_string(),
                }));
            } else if !text.trim_ascii().is_empty() {
                let mut seen = DocStats::default();
                let result = input::read_document(text, line, &mut counting(&mut seen, on_item));
                match result {
                    Ok(s) => *stats += s,
                    Err(e) => {
                        // The records before the break were read; the line counts once at
                        // least.
                        stats.items += seen.items.max(1);
                        stats.iam_records += seen.iam_records;
                        on_item(Err(ItemError {
                            location: format!("line {line}"),
                            reason: e.reason,
                        }));
                    }
                }
            }
            line += 1;
        }
        // `split` yields one piece after the final line break: it is no line.
        line -= usize::from(chunk.ends_with(b"\n"));
    }
    Ok(())
}

/// Appends to `out` up to and including the next line break, reading at most `max` bytes.
/// Returns false when `max` bytes came without a line break (the line goes on).
fn read_line_within(reader: &mut dyn BufRead, out: &mut Vec<u8>, max: usize) -> io::Result<bool> {
    let mut left = max;
    loop {
        let avail = match reader.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(true);
        }
        if let Some(i) = memchr::memchr(b'\n', avail).filter(|i| *i < left) {
            out.extend_from_slice(&avail[..=i]);
            reader.consume(i + 1);
            return Ok(true);
        }
        let n = avail.len().min(left);
        out.extend_from_slice(&avail[..n]);
        reader.consume(n);
        left -= n;
        if left == 0 {
            return Ok(false);
        }
    }
}

/// Skips the rest of a line, its line break included. Returns false at the end of the data.
fn skip_line(reader: &mut dyn BufRead) -> io::Result<bool> {
    loop {
        let avail = match reader.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(false);
        }
        match memchr::memchr(b'\n', avail) {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(true);
            }
            None => {
                let n = avail.len();
                reader.consume(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[u8], max_record_size: u64) -> (Vec<String>, Result<(), String>) {
        let limits = Limits {
            max_file_size: 1 << 20,
            max_record_size,
        };
        let mut errors = Vec::new();
        let mut read = ObjectRead::default();
        let result = read_lines(
            &mut &text[..],
            &limits,
            &mut |item| {
                if let Err(e) = item {
                    errors.push(e.to_string())
                }
            },
            &mut read,
        );
        assert_eq!(read.bytes, text.len().min((1 << 20) + 1) as u64);
        (errors, result)
    }

    #[test]
    fn a_long_line_is_reported_and_the_next_ones_read() {
        let mut text = b"{}\n".to_vec();
        text.extend(vec![b'x'; 5000]);
        text.extend(b"\n{}\n");
        let (errors, result) = lines(&text, 100);
        assert_eq!(result, Ok(()));
        assert_eq!(
            errors,
            [
                "line 1: empty object is not a record",
                "line 2: longer than 100 bytes, the limit on a record (--max-record-size)",
                "line 3: empty object is not a record",
            ]
        );
        // A line of exactly the limit is read.
        let (errors, _) = lines(b"{}   \n{}", 5);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().all(|e| e.contains("empty object")));
    }

    /// A worker's buffers carry nothing from one object to the next: a larger buffer left by
    /// a big object does not let a later one past the file limit, nor its bytes into it.
    #[test]
    fn reused_buffers_keep_the_limits_and_nothing_else() {
        let read = |text: &[u8], max_file_size: u64| {
            let limits = Limits {
                max_file_size,
                max_record_size: 1 << 20,
            };
            let (mut errors, mut read) = (Vec::new(), ObjectRead::default());
            let result = read_whole(
                &mut &text[..],
                None,
                &limits,
                &mut |item| errors.push(item.map(|r| r.event_name)),
                &mut read,
            );
            (result, errors, read)
        };
        let rec = r#"{"eventVersion":"1.09","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","eventID":"e","requestParameters":{"userName":"u"}}"#;
        let big = format!(r#"{{"Records":[{}]}}"#, vec![rec; 4000].join(","));
        let (result, items, r) = read(big.as_bytes(), 64 << 20);
        assert_eq!((result, items.len(), r.stats.items), (Ok(()), 4000, 4000));
        // Smaller than the buffers the big one left, larger than its own limit.
        let small = format!(r#"{{"Records":[{rec}]}}"#);
        let (result, items, _) = read(small.as_bytes(), small.len() as u64 - 1);
        assert!(result.unwrap_err().contains("--max-file-size"));
        assert!(items.is_empty());
        let (result, items, r) = read(small.as_bytes(), small.len() as u64);
        assert_eq!(
            (result, items.len(), r.bytes),
            (Ok(()), 1, small.len() as u64)
        );
        // The same through gzip: the inflated buffer holds this object only.
        let gz = {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(small.as_bytes()).unwrap();
            e.finish().unwrap()
        };
        let (result, items, r) = read(&gz, 1 << 20);
        assert_eq!((result, r.stats.items), (Ok(()), 1));
        assert_eq!(items, [Ok("CreateUser".to_string())]);
    }

    #[test]
    fn an_object_past_the_file_limit_is_one_error() {
        let text = vec![b'\n'; (1 << 20) + 10];
        let (errors, result) = lines(&text, 100);
        assert!(errors.is_empty());
        assert_eq!(
            result,
            Err("larger than 1 MiB, the limit on a file (--max-file-size)".to_string())
        );
    }
}
