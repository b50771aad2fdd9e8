//! The fast path for CloudTrail log files as CloudTrail writes them to S3.

use super::{classify, source_hits, DocError, DocStats, ItemError, ItemResult, Limits};
use crate::record::CloudTrailRecord;
use memchr::memmem;
use serde_json::Value;

/// How CloudTrail starts a log file, and each record in it.
const LOG_FILE_START: &[u8] = b"{\"Records\":[";
const RECORD_START: &[u8] = b"{\"eventVersion\":";

/// The fast path for log files exactly as CloudTrail writes them to S3: compact JSON,
/// `{"Records":[` and every record starting with `{"eventVersion":`. That byte sequence cannot
/// occur inside a JSON string (a quote there is escaped), so its occurrences are the record
/// starts: two SIMD substring passes find the records and the IAM hits, and only the records
/// holding a hit are parsed. Anything else (`None`) takes the structural reader: another
/// layout, a record that does not parse, a nested object that looks like a record start.
/// (One thing this path cannot see: such a nested object inside a record without a hit makes
/// the record count one too high; no record is missed by it.)
///
/// A record holding a hit is deserialized straight into a [`CloudTrailRecord`], skipping the
/// fields no rule reads, unless it holds a key that makes [`classify`] read it as something
/// else (`"detail-type"`, `"body"`) or does not deserialize: then it is parsed into a
/// [`Value`] and classified, so both ways give the same record or the same error.
pub(super) fn cloudtrail_log_file(
    buf: &[u8],
    first_line: usize,
    limits: &Limits,
    on_item: &mut dyn FnMut(ItemResult),
) -> Option<Result<DocStats, DocError>> {
    if !buf.starts_with(LOG_FILE_START) || !buf[LOG_FILE_START.len()..].starts_with(RECORD_START) {
        return None;
    }
    let end = buf.trim_ascii_end();
    if !end.ends_with(b"]}") {
        // Truncated or not what CloudTrail writes: let the structural reader say where.
        return None;
    }
    let starts: Vec<usize> = memchr::memmem::find_iter(buf, RECORD_START).collect();
    let mut stats = DocStats {
        items: starts.len() as u64,
        iam_records: 0,
    };
    let mut parsed_until = 0;
    let mut items = Vec::new();
    for (hit, _) in source_hits(buf) {
        if hit < parsed_until {
            continue; // another hit in a record already read
        }
        // The record holding the hit starts at the last record start before it.
        let i = starts.partition_point(|s| *s <= hit) - 1;
        let start = starts[i];
        let next = starts.get(i + 1).copied().unwrap_or(end.len());
        if next - start > limits.max_record {
            // An oversized record: the structural reader reports it with its place.
            return None;
        }
        let record = &buf[start..end.len() - 2];
        let parsed = match direct(&buf[start..next], record) {
            Some((r, len)) => {
                parsed_until = start + len;
                Parsed::Record(Box::new(r))
            }
            None => {
                let mut stream = serde_json::Deserializer::from_slice(record).into_iter::<Value>();
                match stream.next() {
                    Some(Ok(v)) => {
                        parsed_until = start + stream.byte_offset();
                        Parsed::Value(v)
                    }
                    // A record that does not parse: the structural reader says where it
                    // breaks.
                    Some(Err(_)) | None => return None,
                }
            }
        };
        if hit >= parsed_until || starts.get(i + 1).is_some_and(|next| *next < parsed_until) {
            // A nested object starts like a record (the hit is outside the object parsed, or
            // a record start lies inside it): not the layout this path assumes.
            return None;
        }
        items.push((i, start, parsed));
    }
    for (i, start, parsed) in items {
        let mut out = |item: Result<CloudTrailRecord, String>| match item {
            Ok(record) => {
                stats.iam_records += 1;
                on_item(Ok(record));
            }
            Err(reason) => {
                let line = first_line + memchr::memchr_iter(b'\n', &buf[..start]).count();
                let location = format!("record {} (line {line})", i + 1);
                on_item(Err(ItemError { location, reason }));
            }
        };
        match parsed {
            Parsed::Value(value) => classify(value, &mut out),
            // What `classify` does with a record of an accepted source.
            Parsed::Record(r) if crate::sources::accepted(&r.event_source) => {
                out(crate::engine::check(&r).map(|_| *r))
            }
            Parsed::Record(_) => {}
        }
    }
    Some(Ok(stats))
}

/// A record holding a hit, as read.
enum Parsed {
    /// Boxed: a record is large beside a `Value`.
    Record(Box<CloudTrailRecord>),
    Value(Value),
}

/// The record at the start of `record` deserialized straight into a [`CloudTrailRecord`], and
/// its length; `None` when [`classify`] could read it otherwise (`span`, the bytes up to the
/// next record start, holds a key it looks for before the record's fields) or it does not
/// deserialize (the caller then parses it into a [`Value`], which says why).
fn direct(span: &[u8], record: &[u8]) -> Option<(CloudTrailRecord, usize)> {
    if memmem::find(span, b"\"detail-type\"").is_some() || memmem::find(span, b"\"body\"").is_some()
    {
        return None;
    }
    let mut stream = serde_json::Deserializer::from_slice(record).into_iter::<CloudTrailRecord>();
    match stream.next() {
        Some(Ok(r)) => Some((r, stream.byte_offset())),
        _ => None,
    }
}
