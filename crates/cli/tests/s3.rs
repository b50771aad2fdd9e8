//! `iamwatch scan s3://...` as a user runs it, against moto's S3: the same output in every
//! format, and the same exit statuses, as a scan of the same files on disk.
#![cfg(feature = "aws")]

mod common;

use common::{output, BIN};
use iamwatch_e2e::moto::{management_credentials, sdk_config, MotoServer};
use iamwatch_e2e::trail::{client, gzip, org_trail, upload, write_local, ORG};
use std::path::Path;
use std::process::Command;

const BUCKET: &str = "org-trail";

/// moto with a small organization trail: 2 accounts, 2 regions, 4 days (2024-07-30 to
/// 2024-08-02), and the same files under a local directory.
struct Env {
    moto: MotoServer,
    dir: tempfile::TempDir,
}

impl Env {
    fn start(extra: Vec<(String, Vec<u8>)>) -> Env {
        let moto = MotoServer::start().unwrap_or_else(|e| panic!("{e}"));
        let mut objects = org_trail(
            &["111111111111", "222222222222"],
            &["us-east-1", "eu-west-1"],
            "2024-07-30",
            4,
        );
        objects.extend(extra);
        let endpoint = moto.endpoint();
        let up = objects.clone();
        iamwatch_e2e::run(move || async move {
            let s3 = client(&sdk_config(&endpoint, management_credentials()).await);
            upload(&s3, BUCKET, &up).await.unwrap();
        });
        let dir = tempfile::tempdir().unwrap();
        write_local(dir.path(), &objects).unwrap();
        Env { moto, dir }
    }

    fn iamwatch(&self, args: &[&str]) -> (i32, String, String) {
        output(
            Command::new(BIN)
                .args(args)
                .env("AWS_ENDPOINT_URL", self.moto.endpoint())
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .env("AWS_REGION", "us-east-1")
                .env("AWS_MAX_ATTEMPTS", "2")
                .env_remove("AWS_PROFILE"),
        )
    }

    fn local(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }
}

fn lines(s: &str) -> usize {
    s.lines().filter(|l| !l.trim().is_empty()).count()
}

#[test]
fn every_format_prints_what_a_local_scan_of_the_same_files_prints() {
    let env = Env::start(Vec::new());
    let url = format!("s3://{BUCKET}/");
    for format in ["table", "jsonl", "asff", "csv", "ocsf"] {
        let (code, remote, err) = env.iamwatch(&["scan", &url, "--format", format]);
        assert_eq!(code, 0, "{format}: {err}");
        let (code, local, _) = env.iamwatch(&["scan", env.local(), "--format", format]);
        assert_eq!(code, 0);
        assert_eq!(remote, local, "{format}");
    }
    let (_, out, _) = env.iamwatch(&["scan", &url, "--format", "jsonl"]);
    assert_eq!(lines(&out), 16);
    // --fail-on as for a local scan.
    let (code, _, _) = env.iamwatch(&[
        "scan",
        &url,
        "--fail-on",
        "informational",
        "--format",
        "csv",
    ]);
    assert_eq!(code, 1);
}

#[test]
fn flags_prune_and_instants_bound_the_findings() {
    let env = Env::start(Vec::new());
    let url = format!("s3://{BUCKET}");
    let (code, out, err) = env.iamwatch(&[
        "scan",
        &url,
        "--since",
        "2024-08-01",
        "--until",
        "2024-08-02",
        "--accounts",
        "222222222222",
        "--regions",
        "eu-west-1",
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines(&out), 2);
    assert!(
        out.lines()
            .all(|l| l.contains("u-222222222222-eu-west-1-2024080")),
        "{out}"
    );
    // The CreateUser events are at 10:30: an instant after it on the first day leaves that
    // day's findings out, though its folder is read.
    let (code, out, err) = env.iamwatch(&[
        "scan",
        &url,
        "--since",
        "2024-08-01T11:00:00Z",
        "--until",
        "2024-08-02",
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines(&out), 4);
    assert!(out.lines().all(|l| l.contains("-20240802")), "{out}");
    // A prefix below AWSLogs: one account's region, one day.
    let one = format!("s3://{BUCKET}/AWSLogs/{ORG}/111111111111/CloudTrail/us-east-1/2024/07/31/");
    let (code, out, _) = env.iamwatch(&["scan", &one, "--format", "jsonl"]);
    assert_eq!(code, 0);
    assert_eq!(lines(&out), 1);
}

#[test]
fn a_corrupt_object_is_named_by_its_key_and_exits_2_after_the_rest() {
    let key = format!("AWSLogs/{ORG}/111111111111/CloudTrail/us-east-1/2024/07/31/111111111111_CloudTrail_us-east-1_20240731T2355Z_bad.json.gz");
    let mut body = gzip(br#"{"Records": []}"#);
    body.truncate(10);
    let env = Env::start(vec![(key.clone(), body)]);
    let (code, out, err) = env.iamwatch(&["scan", &format!("s3://{BUCKET}"), "--format", "jsonl"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(lines(&out), 16, "the other objects' findings");
    assert!(
        err.lines()
            .any(|l| l.starts_with(&format!("s3://{BUCKET}/{key}: cannot decompress"))),
        "{err}"
    );
    // The local scan says the same of the same file, by its path.
    let (code, local, lerr) = env.iamwatch(&["scan", env.local(), "--format", "jsonl"]);
    assert_eq!((code, local), (2, out));
    let path = Path::new(env.local()).join(&key);
    assert!(
        lerr.contains(&format!("{}: cannot decompress", path.display())),
        "{lerr}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::start(Vec::new());
    let (code, _, err) = env.iamwatch(&["scan", env.local(), "--since", "2024-08-01"]);
    assert_eq!(code, 2);
    assert!(err.contains("they need s3:// sources"), "{err}");
    let (code, _, err) = env.iamwatch(&["scan", "s3://org-trail/", env.local()]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot be scanned together"), "{err}");
    let (code, _, err) = env.iamwatch(&["scan", "s3://org-trail/", "--since", "2024-13-01"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--since: \"2024-13-01\" is not a date (YYYY-MM-DD)"),
        "{err}"
    );
    let (code, _, err) = env.iamwatch(&["scan", "s3://org-trail/", "--accounts", "42"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("account \"42\": an account id is 12 digits"),
        "{err}"
    );
    let (code, _, err) = env.iamwatch(&["scan", "s3://no-such-bucket/"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("s3://no-such-bucket/AWSLogs/: cannot list: NoSuchBucket"),
        "{err}"
    );
}
