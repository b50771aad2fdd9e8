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
pub use gzip::decompress;

use crate::record::CloudTrailRecord;
use memchr::memmem;

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
    if let Some(result) = fast::cloudtrail_log_file(buf, first_line, on_item) {
        return result;
    }
    let mut r = split::Reader {
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
}
