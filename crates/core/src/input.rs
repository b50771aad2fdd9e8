//! Reading CloudTrail from files, fast: every input form of `iamwatch scan`, in one pass.
//!
//! Forms, told apart by their content (not their file names), any of them gzip-compressed:
//! CloudTrail log files as delivered to S3 (`{"Records": [...]}`), JSON arrays of records,
//! JSON Lines (or any sequence of JSON values), single EventBridge envelopes, SQS batches of
//! envelopes (`{"Records": [{"messageId": ..., "body": "<envelope>"}]}`), and bare records.
//!
//! Speed comes from not parsing what cannot matter: a structural splitter (strings, escapes and
//! brace depth, jumping with `memchr`) cuts the document into items, one SIMD substring pass
//! finds `iam.amazonaws.com`, and only items containing it are parsed. Everything else is
//! counted and skipped. A malformed item is reported with its place and the rest goes on; a
//! document whose structure breaks (truncated, not JSON) is an error for the file.

use crate::record::{CloudTrailRecord, Envelope, EnvelopeRejection, IAM_EVENT_SOURCE};
use memchr::memmem;
use serde_json::Value;
use std::io::Read;

/// A record read from a document, or why an item could not be read.
pub type ItemResult = Result<CloudTrailRecord, ItemError>;

/// A bad item inside a document that was otherwise readable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {reason}")]
pub struct ItemError {
    /// "record 12 (line 40)".
    pub location: String,
    pub reason: String,
}

/// A document that cannot be read as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, byte {offset}: {reason}")]
pub struct DocError {
    pub offset: usize,
    pub line: usize,
    pub reason: String,
}

/// What a document held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocStats {
    /// Items (records, envelopes, messages) seen.
    pub items: u64,
    /// IAM records among them (read and evaluated).
    pub iam_records: u64,
}

impl std::ops::AddAssign for DocStats {
    fn add_assign(&mut self, o: DocStats) {
        self.items += o.items;
        self.iam_records += o.iam_records;
    }
}

/// The largest file inflated in one call (a CloudTrail log file is a few MiB at most).
const ONE_SHOT_MAX: usize = 512 << 20;

/// Inflates gzip data (told by its magic bytes); other data is returned as it is.
///
/// A single-member gzip file whose trailer gives its size (every CloudTrail log file) is
/// inflated in one call by libdeflate, about twice as fast as a streaming inflater; anything
/// else (several members, over 4 GiB, a lying trailer) goes through flate2's streaming decoder.
pub fn decompress(data: Vec<u8>) -> std::io::Result<Vec<u8>> {
    if !data.starts_with(&[0x1f, 0x8b]) {
        return Ok(data);
    }
    // The gzip trailer holds the inflated size mod 2^32.
    let size = data
        .len()
        .checked_sub(4)
        .map(|i| u32::from_le_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]) as usize)
        .unwrap_or(0);
    // The trailer is only a claim: trust it for the one-shot path only within deflate's
    // largest possible ratio (1032:1) and a cap; a bigger or lying one takes the streaming
    // path, whose buffer grows with what really comes out.
    if size > 0 && size <= ONE_SHOT_MAX && size <= data.len().saturating_mul(1032) {
        if let Some(out) = crate::inflate::gzip_exact(&data, size) {
            return Ok(out);
        }
    }
    let mut out = Vec::new();
    out.try_reserve(size.min(data.len().saturating_mul(16)).min(ONE_SHOT_MAX))
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::OutOfMemory, e))?;
    flate2::read::MultiGzDecoder::new(&data[..]).read_to_end(&mut out)?;
    Ok(out)
}

/// Reads every IAM record of a document. `first_line` is the line number of `buf`'s first
/// line in its file (for chunks of JSON Lines files). Calls `on_item` for each IAM record and
/// each bad item, in document order.
pub fn read_document(
    buf: &[u8],
    first_line: usize,
    on_item: &mut dyn FnMut(ItemResult),
) -> Result<DocStats, DocError> {
    if let Some(result) = cloudtrail_log_file(buf, first_line, on_item) {
        return result;
    }
    let mut r = Reader {
        buf,
        first_line,
        hits: Hits::new(buf),
        stats: DocStats::default(),
        on_item,
    };
    let mut pos = 0;
    loop {
        pos = r.ws(pos);
        if pos >= buf.len() {
            break;
        }
        pos = r.top_level(pos)?;
    }
    Ok(r.stats)
}

const NEEDLE: &[u8] = b"iam.amazonaws.com";
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
fn cloudtrail_log_file(
    buf: &[u8],
    first_line: usize,
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
    let starts: Vec<usize> = memmem::find_iter(buf, RECORD_START).collect();
    let mut stats = DocStats {
        items: starts.len() as u64,
        iam_records: 0,
    };
    let mut parsed_until = 0;
    let mut items = Vec::new();
    for hit in memmem::find_iter(buf, NEEDLE) {
        if hit < parsed_until {
            continue; // another hit in a record already read
        }
        // The record holding the hit starts at the last record start before it.
        let i = starts.partition_point(|s| *s <= hit) - 1;
        let start = starts[i];
        let mut stream =
            serde_json::Deserializer::from_slice(&buf[start..end.len() - 2]).into_iter::<Value>();
        let value = match stream.next() {
            Some(Ok(v)) => {
                parsed_until = start + stream.byte_offset();
                v
            }
            // A record that does not parse: the structural reader says where it breaks.
            Some(Err(_)) | None => return None,
        };
        if hit >= parsed_until || starts.get(i + 1).is_some_and(|next| *next < parsed_until) {
            // A nested object starts like a record (the hit is outside the object parsed, or
            // a record start lies inside it): not the layout this path assumes.
            return None;
        }
        items.push((i, start, value));
    }
    for (i, start, value) in items {
        classify(value, &mut |item| match item {
            Ok(record) => {
                stats.iam_records += 1;
                on_item(Ok(record));
            }
            Err(reason) => {
                let line = first_line + memchr::memchr_iter(b'\n', &buf[..start]).count();
                let location = format!("record {} (line {line})", i + 1);
                on_item(Err(ItemError { location, reason }));
            }
        });
    }
    Some(Ok(stats))
}

/// Positions of the needle, consumed in increasing order.
struct Hits<'a> {
    iter: memmem::FindIter<'a, 'static>,
    next: Option<usize>,
}

impl<'a> Hits<'a> {
    fn new(buf: &'a [u8]) -> Self {
        let mut iter = memmem::find_iter(buf, NEEDLE);
        let next = iter.next();
        Hits { iter, next }
    }

    /// Whether a hit lies in `start..end`; hits before `start` are dropped.
    fn within(&mut self, start: usize, end: usize) -> bool {
        while let Some(h) = self.next {
            if h >= start {
                return h + NEEDLE.len() <= end;
            }
            self.next = self.iter.next();
        }
        false
    }
}

struct Reader<'a, 'f> {
    buf: &'a [u8],
    first_line: usize,
    hits: Hits<'a>,
    stats: DocStats,
    on_item: &'f mut dyn FnMut(ItemResult),
}

impl Reader<'_, '_> {
    fn line_of(&self, offset: usize) -> usize {
        self.first_line
            + memchr::memchr_iter(b'\n', &self.buf[..offset.min(self.buf.len())]).count()
    }

    fn err(&self, offset: usize, reason: impl Into<String>) -> DocError {
        DocError {
            offset,
            line: self.line_of(offset),
            reason: reason.into(),
        }
    }

    fn ws(&self, mut i: usize) -> usize {
        while i < self.buf.len() && matches!(self.buf[i], b' ' | b'\n' | b'\r' | b'\t') {
            i += 1;
        }
        i
    }

    fn expect(&self, i: usize, what: u8) -> Result<usize, DocError> {
        match self.buf.get(i) {
            Some(b) if *b == what => Ok(i + 1),
            Some(b) => Err(self.err(
                i,
                format!("expected '{}', found '{}'", what as char, b.escape_ascii()),
            )),
            None => Err(self.err(
                i,
                format!("unexpected end of data, expected '{}'", what as char),
            )),
        }
    }

    /// End of the string starting at `i` (a quote).
    fn skip_string(&self, i: usize) -> Result<usize, DocError> {
        let mut j = i + 1;
        loop {
            match memchr::memchr2(b'"', b'\\', &self.buf[j.min(self.buf.len())..]) {
                Some(k) if self.buf[j + k] == b'\\' => j += k + 2,
                Some(k) => return Ok(j + k + 1),
                None => return Err(self.err(i, "unterminated string")),
            }
        }
    }

    /// End of the value starting at `i`.
    fn skip_value(&self, i: usize) -> Result<usize, DocError> {
        let buf = self.buf;
        match buf.get(i) {
            None => Err(self.err(i, "unexpected end of data, expected a value")),
            Some(b'"') => self.skip_string(i),
            Some(&open @ (b'{' | b'[')) => {
                let close = if open == b'{' { b'}' } else { b']' };
                let mut depth = 0usize;
                let mut j = i;
                loop {
                    let Some(k) = memchr::memchr3(b'"', open, close, &buf[j..]) else {
                        return Err(self.err(i, "unterminated object or array (truncated file?)"));
                    };
                    let at = j + k;
                    match buf[at] {
                        b'"' => j = self.skip_string(at)?,
                        b if b == open => {
                            depth += 1;
                            j = at + 1;
                        }
                        _ => {
                            depth -= 1;
                            j = at + 1;
                            if depth == 0 {
                                return Ok(j);
                            }
                        }
                    }
                }
            }
            Some(_) => {
                let mut j = i;
                while j < buf.len()
                    && !matches!(buf[j], b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t')
                {
                    j += 1;
                }
                if j == i {
                    return Err(self.err(i, format!("unexpected '{}'", buf[i].escape_ascii())));
                }
                Ok(j)
            }
        }
    }

    /// One top-level value: a container of records, an array of items, or one item.
    fn top_level(&mut self, i: usize) -> Result<usize, DocError> {
        match self.buf[i] {
            b'{' => self.object(i),
            b'[' => self.array(i),
            b => Err(self.err(
                i,
                format!(
                    "expected a JSON object or array, found '{}'",
                    b.escape_ascii()
                ),
            )),
        }
    }

    /// An object: if it has a `Records` array, its elements are the items; otherwise the
    /// object itself is one.
    fn object(&mut self, start: usize) -> Result<usize, DocError> {
        let mut i = self.ws(start + 1);
        let mut container = false;
        if self.buf.get(i) == Some(&b'}') {
            return Err(self.err(start, "empty object is not a record"));
        }
        loop {
            i = self.ws(i);
            if self.buf.get(i) != Some(&b'"') {
                return Err(self.err(i, "expected an object key"));
            }
            let key_end = self.skip_string(i)?;
            let key = &self.buf[i + 1..key_end - 1];
            i = self.ws(key_end);
            i = self.expect(i, b':')?;
            i = self.ws(i);
            if key == b"Records" && self.buf.get(i) == Some(&b'[') {
                container = true;
                i = self.array(i)?;
            } else {
                i = self.skip_value(i)?;
            }
            i = self.ws(i);
            match self.buf.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => {
                    i += 1;
                    break;
                }
                _ => return Err(self.err(i, "expected ',' or '}' in object (truncated file?)")),
            }
        }
        if !container {
            self.item(start, i);
        }
        Ok(i)
    }

    /// An array whose elements are items.
    fn array(&mut self, start: usize) -> Result<usize, DocError> {
        let mut i = self.ws(start + 1);
        if self.buf.get(i) == Some(&b']') {
            return Ok(i + 1);
        }
        loop {
            i = self.ws(i);
            let end = self.skip_value(i)?;
            self.item(i, end);
            i = self.ws(end);
            match self.buf.get(i) {
                Some(b',') => i += 1,
                Some(b']') => return Ok(i + 1),
                _ => return Err(self.err(i, "expected ',' or ']' in array (truncated file?)")),
            }
        }
    }

    fn item(&mut self, start: usize, end: usize) {
        self.stats.items += 1;
        if !self.hits.within(start, end) {
            return;
        }
        let n = self.stats.items;
        let location = || format!("record {n} (line {})", self.line_of(start));
        let value: Value = match serde_json::from_slice(&self.buf[start..end]) {
            Ok(v) => v,
            Err(e) => {
                let location = location();
                (self.on_item)(Err(ItemError {
                    location,
                    reason: format!("invalid JSON: {e}"),
                }));
                return;
            }
        };
        let location = location();
        let (stats, on_item) = (&mut self.stats, &mut self.on_item);
        classify(value, &mut |item| match item {
            Ok(record) => {
                stats.iam_records += 1;
                on_item(Ok(record));
            }
            Err(reason) => on_item(Err(ItemError {
                location: location.clone(),
                reason,
            })),
        });
    }
}

/// Reads one item: calls `out` with each IAM record it holds (an item is one record, an
/// envelope or SQS message of one, or a nested log file of many), or with why it is bad.
/// Items out of scope (another service) make no call.
pub fn classify(v: Value, out: &mut dyn FnMut(Result<CloudTrailRecord, String>)) {
    let Value::Object(map) = &v else {
        return out(Err("not a JSON object".to_string()));
    };
    if map.contains_key("detail-type") {
        let envelope: Envelope = match serde_json::from_value(v) {
            Ok(e) => e,
            Err(e) => return out(Err(format!("bad EventBridge envelope: {e}"))),
        };
        return match envelope.into_iam_record() {
            Ok(r) => out(Ok(r)),
            Err(EnvelopeRejection::OutOfScope { .. }) => {}
            Err(e) => out(Err(e.to_string())),
        };
    }
    if let Some(Value::String(body)) = map.get("body") {
        let id = map
            .get("messageId")
            .and_then(Value::as_str)
            .unwrap_or("(no messageId)")
            .to_string();
        return match serde_json::from_str::<Value>(body) {
            Ok(inner) => classify(inner, &mut |item| {
                out(item.map_err(|e| format!("SQS message {id}: {e}")))
            }),
            Err(e) => out(Err(format!("SQS message {id}: body is not JSON: {e}"))),
        };
    }
    if map.contains_key("eventName") || map.contains_key("eventSource") {
        if map.get("eventSource").and_then(Value::as_str) != Some(IAM_EVENT_SOURCE) {
            return;
        }
        return out(serde_json::from_value::<CloudTrailRecord>(v)
            .map_err(|e| format!("bad CloudTrail record: {e}"))
            .and_then(|r| r.validate().map(|_| r)));
    }
    if let Value::Object(mut map) = v {
        if let Some(Value::Array(items)) = map.remove("Records") {
            // A log file nested in a sequence (one S3 log file per line, an SQS body).
            for item in items {
                classify(item, out);
            }
            return;
        }
    }
    out(Err(
        "not a CloudTrail record, EventBridge envelope or SQS message".to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Result<DocStats, DocError>, Vec<ItemResult>) {
        let mut items = Vec::new();
        let stats = read_document(text.as_bytes(), 1, &mut |i| items.push(i));
        (stats, items)
    }

    const IAM: &str = r#"{"eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","requestParameters":{"userName":"a\"}b"}}"#;
    const EC2: &str = r#"{"eventTime":"2024-01-01T00:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","requestParameters":{"x":"{[\\"}}"#;

    #[test]
    fn s3_log_file() {
        let (stats, items) = read(&format!(r#"{{"Records": [{IAM}, {EC2}, {IAM}]}}"#));
        assert_eq!(
            stats.unwrap(),
            DocStats {
                items: 3,
                iam_records: 2
            }
        );
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().unwrap().param("userName"), Some("a\"}b"));
    }

    #[test]
    fn array_lines_and_envelopes() {
        let (stats, items) = read(&format!("[{IAM},{EC2}]"));
        assert_eq!((stats.unwrap().items, items.len()), (2, 1));
        let (stats, items) = read(&format!("{IAM}\n{EC2}\n\n{IAM}\n"));
        assert_eq!((stats.unwrap().items, items.len()), (3, 2));
        let env = format!(
            r#"{{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":{IAM}}}"#
        );
        let (_, items) = read(&env);
        assert_eq!(items.len(), 1);
        let sqs = format!(
            r#"{{"Records":[{{"messageId":"m1","body":{}}}]}}"#,
            serde_json::to_string(&env).unwrap()
        );
        let (_, items) = read(&sqs);
        assert_eq!(items[0].as_ref().unwrap().event_name, "CreateUser");
    }

    #[test]
    fn bad_items_are_reported_and_the_rest_goes_on() {
        let bad = r#"{"eventSource":"iam.amazonaws.com","eventName":5}"#;
        let (stats, items) = read(&format!("[{bad},\n{IAM}]"));
        assert_eq!(stats.unwrap().items, 2);
        let err = items[0].as_ref().unwrap_err();
        assert_eq!(err.location, "record 1 (line 1)");
        assert!(err.reason.contains("bad CloudTrail record"), "{err}");
        assert!(items[1].is_ok());
    }

    #[test]
    fn truncated_document_is_an_error() {
        let (stats, items) = read(&format!(
            r#"{{"Records": [{IAM}, {{"eventSource": "iam.amazon"#
        ));
        assert!(stats.unwrap_err().reason.contains("unterminated"));
        assert_eq!(
            items.len(),
            1,
            "the records before the break are still read"
        );
        assert!(read("garbage").0.is_err());
        assert!(read("{}").0.is_err());
    }

    #[test]
    fn nested_log_files_give_every_record() {
        let bad_time = IAM.replace("2024-01-01T00:00:00Z", "01/02/2024 10:00");
        let doc = format!(r#"[{{"Records":[{IAM},{EC2},{IAM},{bad_time}]}}, {IAM}]"#);
        let (stats, items) = read(&doc);
        assert_eq!(stats.unwrap().iam_records, 3);
        assert_eq!(items.len(), 4);
        let err = items[2].as_ref().unwrap_err();
        assert_eq!(err.location, "record 1 (line 1)");
        assert!(err.reason.contains("bad eventTime"), "{err}");
    }

    #[test]
    fn forged_envelope_is_an_error() {
        let env = format!(
            r#"{{"detail-type":"AWS API Call via CloudTrail","source":"aws.s3","detail":{IAM}}}"#
        );
        let (_, items) = read(&env);
        assert!(items[0].as_ref().unwrap_err().reason.contains("forged"));
    }

    #[test]
    fn cloudtrail_fast_path_agrees_with_the_structural_reader() {
        let iam = r#"{"eventVersion":"1.09","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","requestParameters":{"userName":"x"},"userAgent":"iam.amazonaws.com"}"#;
        let ec2 = r#"{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","requestParameters":{"note":"{\"eventVersion\":1} iam.amazonaws.com"}}"#;
        let bad = r#"{"eventVersion":"1.09","eventSource":"iam.amazonaws.com","eventName":7}"#;
        let doc = format!(r#"{{"Records":[{iam},{ec2},{bad},{iam}]}}"#);
        let (fast, fast_items) = read(&doc);
        // The same records with a space after the brace take the structural reader.
        let (slow, slow_items) = read(&doc.replacen("{", "{ ", 1));
        assert_eq!(
            fast.unwrap(),
            DocStats {
                items: 4,
                iam_records: 2
            }
        );
        assert_eq!(
            slow.unwrap(),
            DocStats {
                items: 4,
                iam_records: 2
            }
        );
        assert_eq!(fast_items, slow_items);
        assert_eq!(
            fast_items[1].as_ref().unwrap_err().location,
            "record 3 (line 1)"
        );
        // Truncated: the structural reader reports it.
        assert!(read(&doc[..doc.len() - 2]).0.is_err());
    }

    proptest::proptest! {
        /// Whatever mix of records (IAM or not, bad, or with record-like nested objects), the
        /// fast path reads exactly what the structural reader reads.
        #[test]
        fn fast_path_agrees_on_any_mix(kinds in proptest::collection::vec(0u8..5, 1..12)) {
            let recs: Vec<String> = kinds.iter().enumerate().map(|(n, k)| match k {
                0 => format!(r#"{{"eventVersion":"1.09","eventTime":"2024-01-01T00:00:0{}Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","requestParameters":{{"userName":"u{n}"}}}}"#, n % 10),
                1 => r#"{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject"}"#.to_string(),
                2 => r#"{"eventVersion":"1.09","eventSource":"iam.amazonaws.com","eventName":[]}"#.to_string(),
                3 => r#"{"eventVersion":"1.09","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"AttachUserPolicy","requestParameters":{"x":{"eventVersion":"nested"},"userName":"bob","policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}}"#.to_string(),
                _ => r#"{"eventVersion":"1.09","eventTime":"2024-01-01T00:00:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","requestParameters":{"s":"iam.amazonaws.com {\"eventVersion\":"}}"#.to_string(),
            }).collect();
            let doc = format!(r#"{{"Records":[{}]}}"#, recs.join(","));
            let (fast, fast_items) = read(&doc);
            let (slow, slow_items) = read(&doc.replacen("{", "{ ", 1));
            proptest::prop_assert_eq!(fast.unwrap(), slow.unwrap());
            proptest::prop_assert_eq!(fast_items, slow_items);
        }
    }

    fn enc_one(text: &str) -> Vec<u8> {
        use flate2::{write::GzEncoder, Compression};
        use std::io::Write;
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn gzip_is_detected_by_content() {
        use flate2::{write::GzEncoder, Compression};
        use std::io::Write;
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(IAM.as_bytes()).unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(decompress(gz.clone()).unwrap(), IAM.as_bytes());
        // Two members (as `cat a.gz b.gz` makes): the trailer lies about the whole size.
        let two = [gz.clone(), gz].concat();
        assert_eq!(decompress(two).unwrap(), [IAM, IAM].concat().as_bytes());
        // A trailer that lies about a huge size does not make a huge buffer.
        let mut liar = enc_one(IAM);
        let n = liar.len();
        liar[n - 4..].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
        assert!(
            decompress(liar).is_err(),
            "the size check of the stream fails it"
        );
        // Corrupt data is an error, not a panic.
        assert!(decompress(vec![
            0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8
        ])
        .is_err());
        assert_eq!(decompress(b"plain".to_vec()).unwrap(), b"plain");
    }
}
