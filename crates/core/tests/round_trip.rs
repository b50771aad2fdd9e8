//! Fixture round trips: every record of the sample events and the real captures parses, and
//! serializing and parsing it again gives the same record.

use iamwatch_core::input::{decompress, read_document};
use iamwatch_core::CloudTrailRecord;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json" || x == "jsonl") {
            out.push(p);
        }
    }
}

#[test]
fn every_record_round_trips() {
    let mut all = Vec::new();
    files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events"),
        &mut all,
    );
    let mut n = 0;
    for path in all {
        let data = decompress(std::fs::read(&path).unwrap()).unwrap();
        read_document(&data, 1, &mut |item| {
            let r = item.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let again: CloudTrailRecord =
                serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
            assert_eq!(again, r, "{}", path.display());
            n += 1;
        })
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    assert!(n >= 30, "read {n} IAM records");
}

/// Every record of every service in the real captures fits the record model (not only IAM's).
#[test]
fn every_real_record_of_any_service_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/real/stratus-red-team");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            let records: Vec<CloudTrailRecord> =
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap())
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            n += records.len();
        }
    }
    assert_eq!(n, 310);
}
