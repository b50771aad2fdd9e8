//! The scan against a source that is not a folder: objects in memory with keys and sizes, as an
//! S3 listing gives them. What the walk needs of a source, and nothing more.

use iamwatch_core::build::FindingContext;
use iamwatch_core::Policy;
use iamwatch_scan::{Limits, Object, Options, Reporter, Source};
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

struct MemoryObject {
    key: String,
    body: Vec<u8>,
    /// What the listing says (a listing may lie; the reader's limit still holds).
    listed_size: Option<u64>,
}

impl Object for MemoryObject {
    fn name(&self) -> &str {
        &self.key
    }

    fn size(&self) -> Option<u64> {
        self.listed_size
    }
}

#[derive(Default)]
struct MemorySource {
    objects: Vec<(String, Vec<u8>, bool)>,
    opened: AtomicUsize,
}

impl Source for MemorySource {
    type Object = MemoryObject;

    fn list(&self, reporter: &dyn Reporter) -> Vec<MemoryObject> {
        reporter.note("listed the bucket");
        self.objects
            .iter()
            .map(|(key, body, size_known)| MemoryObject {
                key: key.clone(),
                body: body.clone(),
                listed_size: size_known.then_some(body.len() as u64),
            })
            .collect()
    }

    fn open<'a>(&'a self, object: &'a MemoryObject) -> std::io::Result<Box<dyn Read + 'a>> {
        self.opened.fetch_add(1, Ordering::Relaxed);
        Ok(Box::new(&object.body[..]))
    }
}

#[derive(Default)]
struct MemoryReporter {
    errors: Mutex<Vec<String>>,
    notes: Mutex<Vec<String>>,
}

impl Reporter for MemoryReporter {
    fn error(&self, message: &str) {
        self.errors.lock().unwrap().push(message.to_string());
    }

    fn note(&self, message: &str) {
        self.notes.lock().unwrap().push(message.to_string());
    }
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../events")
            .join(name),
    )
    .unwrap()
}

fn options(limits: Limits) -> Options {
    Options {
        policy: Policy::default(),
        org: None,
        context: FindingContext {
            region: "us-east-1".to_string(),
            partition: "aws".to_string(),
            runbook_base_url: Some("https://example.com/runbooks".to_string()),
        },
        threads: Some(2),
        limits,
    }
}

#[test]
fn objects_are_read_by_key_within_the_limits() {
    let big = vec![b' '; 4096];
    let source = MemorySource {
        objects: vec![
            (
                "AWSLogs/1/a.json".into(),
                sample("iam-user-created.json"),
                true,
            ),
            ("AWSLogs/1/b.json".into(), b"{\"Records\": [".to_vec(), true),
            // Too large by its listed size: never opened.
            ("AWSLogs/1/c.json".into(), big.clone(), true),
            // Size unknown: opened, and cut at the limit.
            ("AWSLogs/1/d.json".into(), big, false),
        ],
        ..MemorySource::default()
    };
    let reporter = MemoryReporter::default();
    // A record limit at the file limit: the sample (one record of about 2 KiB) is within both.
    let limits = Limits {
        max_file_size: 1024 * 3,
        max_record_size: 1024 * 3,
    };
    let outcome = iamwatch_scan::scan(&source, &options(limits), &reporter).unwrap();
    let ids: Vec<_> = outcome
        .findings
        .iter()
        .map(|f| f.rule_id().unwrap_or("-").to_string())
        .collect();
    assert_eq!(ids, ["iam-user-created"]);
    assert_eq!(outcome.totals.files, 4);
    assert_eq!(outcome.totals.errors, 3);
    assert_eq!(source.opened.load(Ordering::Relaxed), 3);
    let mut errors = reporter.errors.into_inner().unwrap();
    errors.sort();
    assert!(errors[0].starts_with("AWSLogs/1/b.json: "), "{errors:?}");
    assert_eq!(
        errors[1..],
        [
            "AWSLogs/1/c.json: larger than 3 KiB, the limit on a file (--max-file-size)",
            "AWSLogs/1/d.json: larger than 3 KiB, the limit on a file (--max-file-size)",
        ]
    );
    assert_eq!(reporter.notes.into_inner().unwrap(), ["listed the bucket"]);
}
