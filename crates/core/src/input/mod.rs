//! Reading CloudTrail from files, fast: every input form of `iamwatch scan`, in one pass.
//!
//! Forms, told apart by their content (not their file names), any of them gzip-compressed:
//! CloudTrail log files as delivered to S3 (`{"Records": [...]}`), JSON arrays of records,
//! JSON Lines (or any sequence of JSON values), single EventBridge envelopes, SQS batches of
//! envelopes (`{"Records": [{"messageId": ..., "body": "<envelope>"}]}`), and bare records.
//!
//! Speed comes from not parsing what cannot matter: a structural splitter (strings, escapes and
//! brace depth, jumping with `memchr`) cuts the document into items, one SIMD substring pass
//! finds the accepted sources' names ([`crate::sources`]), and only items containing one are
//! parsed. Everything else is
//! counted and skipped. A malformed item is reported with its place and the rest goes on; a
//! document whose structure breaks (truncated, not JSON) is an error for the file.
//!
//! # Layout
//!
//! - [`gzip`]: inflating compressed input (told by its magic bytes).
//! - `fast`: the fast path for log files exactly as CloudTrail writes them.
//! - `split`: the structural splitter that cuts any other document into items.
//! - [`classify`](fn@classify): what one item is (record, envelope, SQS message, nested log file).

mod classify;
mod fast;
pub mod gzip;
mod split;

pub use classify::classify;
pub use gzip::{decompress, inflate, InflateProblem, Inflated};

use crate::record::CloudTrailRecord;
use memchr::memmem;

/// The default limit on a file's inflated size (see [`Limits`]).
pub const DEFAULT_MAX_INFLATED: u64 = 256 << 20;
/// The default limit on one record, envelope or line (see [`Limits`]).
pub const DEFAULT_MAX_RECORD: usize = 16 << 20;

/// What one file may cost: a bad or hostile file (a decompression bomb, an endless record)
/// becomes an error for that file, never a scan that runs out of memory. CloudTrail log files
/// are a few MiB and records a few KiB, so the defaults leave a wide margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes a file may inflate to.
    pub max_inflated: u64,
    /// The most bytes one item (record, envelope, SQS message, JSON Lines line) may have.
    pub max_record: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_inflated: DEFAULT_MAX_INFLATED,
            max_record: DEFAULT_MAX_RECORD,
        }
    }
}

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

/// Reads every IAM record of a document. `first_line` is the line number of `buf`'s first
/// line in its file (for chunks of JSON Lines files). Calls `on_item` for each IAM record and
/// each bad item, in document order.
pub fn read_document(
    buf: &[u8],
    first_line: usize,
    on_item: &mut dyn FnMut(ItemResult),
) -> Result<DocStats, DocError> {
    read_document_with(buf, first_line, &Limits::default(), on_item)
}

/// [`read_document`] under `limits`: an item over `limits.max_record` bytes is a bad item
/// (reported, not parsed), and the rest is read. A UTF-8 byte-order mark is skipped.
pub fn read_document_with(
    buf: &[u8],
    first_line: usize,
    limits: &Limits,
    on_item: &mut dyn FnMut(ItemResult),
) -> Result<DocStats, DocError> {
    let buf = buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(buf);
    if let Some(result) = fast::cloudtrail_log_file(buf, first_line, limits, on_item) {
        return result;
    }
    let mut r = split::Reader {
        buf,
        first_line,
        hits: Hits::new(buf),
        stats: DocStats::default(),
        max_record: limits.max_record,
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

/// Where the accepted sources' `eventSource` strings occur in `buf`, in increasing order.
/// Only the items holding one are parsed.
/// Each hit is its start and end.
fn source_hits(buf: &[u8]) -> Vec<(usize, usize)> {
    let mut hits: Vec<(usize, usize)> = Vec::new();
    for s in crate::sources::SOURCES {
        let n = s.event_source.len();
        hits.extend(memmem::find_iter(buf, s.event_source.as_bytes()).map(|h| (h, h + n)));
    }
    if crate::sources::SOURCES.len() > 1 {
        hits.sort_unstable();
    }
    hits
}

/// Positions of the accepted sources' names, consumed in increasing order.
pub(crate) struct Hits {
    hits: std::vec::IntoIter<(usize, usize)>,
    next: Option<(usize, usize)>,
}

impl Hits {
    pub(crate) fn new(buf: &[u8]) -> Self {
        let mut hits = source_hits(buf).into_iter();
        let next = hits.next();
        Hits { hits, next }
    }

    /// Whether a hit lies in `start..end`; hits before `start` are dropped.
    pub(crate) fn within(&mut self, start: usize, end: usize) -> bool {
        while let Some((h, h_end)) = self.next {
            if h >= start {
                return h_end <= end;
            }
            self.next = self.hits.next();
        }
        false
    }
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
        // An envelope names the account it is about (detail.recipientAccountId).
        let detail = IAM.replacen('{', r#"{"recipientAccountId":"111122223333","#, 1);
        let env = format!(
            r#"{{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":{detail}}}"#
        );
        let (_, items) = read(&env);
        assert_eq!(items.len(), 1);
        assert!(items[0].is_ok(), "{:?}", items[0]);
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

    /// Sign-in records are read beside IAM ones, by the fast path and the structural reader
    /// alike, and a record holding both names is read once.
    #[test]
    fn sign_in_records_are_read_and_counted_once() {
        let signin = r#"{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventID":"s1","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"}}"#;
        let both = r#"{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","userAgent":"signin.amazonaws.com","requestParameters":{"userName":"x"}}"#;
        let sts = r#"{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"sts.amazonaws.com","eventName":"GetSessionToken","userIdentity":{"invokedBy":"signin.amazonaws.com"}}"#;
        let doc = format!(r#"{{"Records":[{signin},{both},{sts},{signin}]}}"#);
        let (fast, fast_items) = read(&doc);
        let (slow, slow_items) = read(&doc.replacen("{", "{ ", 1));
        let want = DocStats {
            items: 4,
            iam_records: 3,
        };
        assert_eq!((fast.unwrap(), slow.unwrap()), (want, want));
        assert_eq!(fast_items, slow_items);
        let names: Vec<&str> = fast_items
            .iter()
            .map(|i| i.as_ref().unwrap().event_name.as_str())
            .collect();
        assert_eq!(names, ["ConsoleLogin", "CreateUser", "ConsoleLogin"]);
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

    fn gz(data: &[u8]) -> Vec<u8> {
        use flate2::{write::GzEncoder, Compression};
        use std::io::Write;
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    /// A gzip bomb (here 8 MiB of zeros in under 128 KiB) stops at the limit with a clear problem,
    /// and keeps nothing; under the limit it inflates whole.
    #[test]
    fn a_bomb_stops_at_the_limit() {
        let bomb = gz(&vec![0u8; 8 << 20]);
        assert!(bomb.len() < 1 << 17, "{} bytes", bomb.len());
        let out = inflate(bomb.clone(), 1 << 20);
        assert_eq!(
            out.problem,
            Some(InflateProblem::TooLarge { limit: 1 << 20 })
        );
        assert!(out.data.is_empty());
        assert!(out
            .problem
            .unwrap()
            .to_string()
            .contains("more than 1048576 bytes"));
        // Two members, so the one-shot path cannot take it: the streaming path stops too.
        let two = [bomb.clone(), bomb].concat();
        assert!(matches!(
            inflate(two.clone(), 1 << 20).problem,
            Some(InflateProblem::TooLarge { .. })
        ));
        assert_eq!(inflate(two, 256 << 20).data.len(), 16 << 20);
    }

    /// A truncated `.json.gz` keeps the records before the break, as `gzip -dc` does.
    #[test]
    fn a_truncated_gzip_keeps_what_came_before_the_break() {
        let doc = format!("[{IAM},\n{EC2},\n{IAM},\n{IAM}]");
        let full = gz(doc.as_bytes());
        let cut = full[..full.len() - 12].to_vec();
        let out = inflate(cut, DEFAULT_MAX_INFLATED);
        assert!(
            matches!(out.problem, Some(InflateProblem::Broken { .. })),
            "{:?}",
            out.problem
        );
        assert!(out.problem.as_ref().unwrap().keeps_data());
        let mut records = 0;
        let _ = read_document(&out.data, 1, &mut |i| {
            if i.is_ok() {
                records += 1
            }
        });
        assert!(records >= 2, "records before the break are read: {records}");
    }

    /// Zero padding after the last member is ignored (tape and block devices add it); other
    /// trailing bytes are reported but the data is kept.
    #[test]
    fn trailing_zeros_and_garbage() {
        let doc = format!("[{IAM}]");
        let padded = [gz(doc.as_bytes()), vec![0u8; 512]].concat();
        let out = inflate(padded, DEFAULT_MAX_INFLATED);
        assert_eq!((out.data.as_slice(), out.problem), (doc.as_bytes(), None));
        let garbage = [gz(doc.as_bytes()), b"not gzip".to_vec()].concat();
        let out = inflate(garbage, DEFAULT_MAX_INFLATED);
        assert_eq!(out.data, doc.as_bytes());
        assert_eq!(out.problem, Some(InflateProblem::TrailingGarbage(8)));
        assert!(out.problem.unwrap().keeps_data());
    }

    /// Inflating into a reused buffer gives what [`inflate`] gives, whatever the buffer held,
    /// on the one-shot path and on the streaming one (two members, as `cat a.gz b.gz` makes).
    #[test]
    fn inflate_into_a_reused_buffer() {
        let doc = format!("[{IAM},\n{EC2}]");
        let one = gz(doc.as_bytes());
        let two = [one.clone(), one.clone()].concat();
        let mut out = b"left over from the previous file".repeat(1000);
        assert_eq!(
            gzip::inflate_into(&one, DEFAULT_MAX_INFLATED, &mut out),
            None
        );
        assert_eq!(out, doc.as_bytes());
        assert_eq!(
            gzip::inflate_into(&two, DEFAULT_MAX_INFLATED, &mut out),
            None
        );
        assert_eq!(out, [doc.as_bytes(), doc.as_bytes()].concat());
        assert_eq!(inflate(two, DEFAULT_MAX_INFLATED).data, out);
        // A member cut short after a complete one keeps the first and says where it broke.
        let cut = [one.clone(), one[..one.len() / 2].to_vec()].concat();
        let problem = gzip::inflate_into(&cut, DEFAULT_MAX_INFLATED, &mut out);
        assert!(
            matches!(problem, Some(InflateProblem::Broken { .. })),
            "{problem:?}"
        );
        assert!(out.starts_with(doc.as_bytes()));
    }

    /// A trailer whose size (ISIZE) lies, smaller or larger than the truth, does not make the
    /// one-shot path keep a wrong size: the streaming path inflates everything and reports
    /// the bad trailer, keeping the data.
    #[test]
    fn an_isize_that_lies_is_caught() {
        let doc = format!("[{IAM},\n{EC2},\n{IAM}]");
        for claimed in [1u32, doc.len() as u32 - 1, doc.len() as u32 + 1, 1 << 20] {
            let mut liar = gz(doc.as_bytes());
            let n = liar.len();
            liar[n - 4..].copy_from_slice(&claimed.to_le_bytes());
            let mut out = Vec::new();
            let problem = gzip::inflate_into(&liar, DEFAULT_MAX_INFLATED, &mut out);
            assert!(
                matches!(&problem, Some(p @ InflateProblem::Broken { .. }) if p.keeps_data()),
                "ISIZE {claimed}: {problem:?}"
            );
            assert_eq!(out, doc.as_bytes(), "ISIZE {claimed}");
        }
    }

    /// A file that inflates to one byte over the limit is refused on both paths, and keeps
    /// nothing; at exactly the limit it is read whole.
    #[test]
    fn a_file_just_over_the_limit_is_refused() {
        let doc = format!("[{IAM},\n{EC2}]");
        let n = doc.len() as u64;
        let one = gz(doc.as_bytes());
        let two = [one.clone(), one.clone()].concat();
        let mut out = Vec::new();
        for (data, size) in [(&one, n), (&two, 2 * n)] {
            let problem = gzip::inflate_into(data, size - 1, &mut out);
            assert_eq!(problem, Some(InflateProblem::TooLarge { limit: size - 1 }));
            assert!(out.is_empty());
            assert_eq!(gzip::inflate_into(data, size, &mut out), None);
            assert_eq!(out.len() as u64, size);
        }
    }

    /// Records read straight into a `CloudTrailRecord` by the fast path give what the
    /// structural reader gives, also for those it must read the slow way: duplicate keys, a
    /// `"body"` or `"detail-type"` key, a null or numeric field, an eventSource out of scope
    /// with an accepted name elsewhere.
    #[test]
    fn direct_records_agree_with_the_structural_reader() {
        let recs = [
            r#"{"eventVersion":"1.09","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","eventName":"DeleteUser","requestParameters":{"userName":"a"}}"#,
            r#"{"eventVersion":"1.09","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","body":"x","requestParameters":{"userName":"b"}}"#,
            r#"{"eventVersion":"1.09","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","detail-type":"x","requestParameters":{"userName":"c"}}"#,
            r#"{"eventVersion":1.09,"eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":null,"eventID":7,"requestParameters":{"userName":"d"}}"#,
            r#"{"eventVersion":"1.09","eventTime":"2024-01-01T00:00:00Z","eventSource":null,"eventName":"CreateUser","userAgent":"iam.amazonaws.com"}"#,
            r#"{"eventVersion":"1.09","eventTime":"2024-01-01T00:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","userAgent":"signin.amazonaws.com"}"#,
            r#"{"eventVersion":"1.09","eventSource":"iam.amazonaws.com","eventName":"CreateUser","requestParameters":{"userName":"e"}}"#,
        ];
        let doc = format!(r#"{{"Records":[{}]}}"#, recs.join(","));
        let (fast, fast_items) = read(&doc);
        let (slow, slow_items) = read(&doc.replacen("{", "{ ", 1));
        assert_eq!(fast.unwrap(), slow.unwrap());
        assert_eq!(fast_items, slow_items);
        assert_eq!(fast_items.len(), 5, "{fast_items:?}");
        assert!(fast_items[4].is_err(), "no eventTime: {:?}", fast_items[4]);
    }

    /// A UTF-8 byte-order mark does not reject a file.
    #[test]
    fn a_byte_order_mark_is_skipped() {
        let (stats, items) = read(&format!("\u{feff}{{\"Records\": [{IAM}]}}"));
        assert_eq!(stats.unwrap().iam_records, 1);
        assert!(items[0].is_ok());
    }

    /// A record over the limit is a bad item with its place; its neighbours are read, on both
    /// the structural reader and the log-file fast path.
    #[test]
    fn an_oversized_record_is_reported_and_skipped() {
        let big = format!(
            r#"{{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","requestParameters":{{"userName":"{}"}}}}"#,
            "x".repeat(4096)
        );
        let small = r#"{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","requestParameters":{"userName":"a"}}"#;
        let limits = Limits {
            max_record: 1024,
            ..Limits::default()
        };
        for doc in [
            format!("{{\"Records\":[{big},{small}]}}"),
            format!("{big}\n{small}\n"),
        ] {
            let mut items = Vec::new();
            let stats = read_document_with(doc.as_bytes(), 1, &limits, &mut |i| items.push(i));
            assert_eq!(stats.unwrap().items, 2, "{doc:.40}");
            assert_eq!(items.len(), 2);
            let err = items[0].as_ref().unwrap_err();
            assert_eq!(err.location, "record 1 (line 1)");
            assert!(err.reason.contains("over the limit of 1024 bytes"), "{err}");
            assert!(items[1].is_ok());
        }
    }
}
