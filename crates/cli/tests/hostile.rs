//! `iamwatch scan` against input nobody here controls: odd files, links, endless inputs, closed
//! pipes, control characters. Every input is bounded: endless ones are `/dev/zero` and FIFOs,
//! bombs are made on the fly, memory is capped with `prlimit`, hangs end at a deadline.

mod common;

use common::{p, root, sample, BIN};
use flate2::{write::GzEncoder, Compression};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The CloudTrail record of a sample envelope, on one line.
fn record(name: &str) -> serde_json::Value {
    let env: serde_json::Value = serde_json::from_str(&sample(name)).unwrap();
    env["detail"].clone()
}

#[derive(Debug)]
struct Run {
    /// `None`: killed at the deadline or by a signal.
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `prefix... iamwatch args...` with stdout and stderr in files; a run that outlives
/// `secs` is killed (so a hang fails the test instead of hanging it).
fn run_within(prefix: &[&str], args: &[&str], secs: u64) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let mut cmd = match prefix.split_first() {
        None => Command::new(BIN),
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(BIN);
            c
        }
    };
    let mut child = cmd
        .current_dir(root())
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(&out).unwrap())
        .stderr(File::create(&err).unwrap())
        .spawn()
        .expect("run iamwatch");
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
    Run {
        code: status.and_then(|s| s.code()),
        stdout: read(&out),
        stderr: read(&err),
    }
}

fn run(args: &[&str]) -> Run {
    run_within(&[], args, 60)
}

/// Rule ids of `--format jsonl` output.
fn rule_ids(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["ProductFields"]
                ["iamwatch/RuleId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

#[test]
fn a_fifo_in_a_directory_is_skipped_and_said() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.json"),
        sample("iam-user-created.json"),
    )
    .unwrap();
    mkfifo(&dir.path().join("x.json"));
    // Not a log file by its name: skipped without a word, as a README is.
    mkfifo(&dir.path().join("pipe"));
    let r = run_within(&[], &["scan", "--format", "jsonl", p(dir.path())], 20);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(rule_ids(&r.stdout), ["iam-user-created"], "{r:?}");
    assert!(
        r.stderr
            .contains("x.json: skipped: not a regular file (FIFO)"),
        "{r:?}"
    );
    assert!(!r.stderr.contains("pipe"), "{r:?}");
}

#[test]
fn symbolic_link_loops_end_and_no_file_is_read_twice() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), sample("iam-user-created.json")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("loop")).unwrap();
    // One link to `.`: every file was read 41 times (until ELOOP).
    let r = run_within(&[], &["scan", "--format", "jsonl", p(dir.path())], 20);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(rule_ids(&r.stdout), ["iam-user-created"], "{r:?}");
    assert!(
        r.stderr.contains("loop: skipped: the same directory as"),
        "{r:?}"
    );
    // Two links to `.` made the walk exponential; a link to a file made it read twice.
    std::os::unix::fs::symlink(".", dir.path().join("loop2")).unwrap();
    std::os::unix::fs::symlink("a.json", dir.path().join("b.json")).unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::os::unix::fs::symlink("..", sub.join("up")).unwrap();
    let r = run_within(&[], &["scan", "--format", "jsonl", p(dir.path())], 20);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(rule_ids(&r.stdout), ["iam-user-created"], "{r:?}");
    assert!(
        r.stderr.contains("b.json: skipped: the same file as"),
        "{r:?}"
    );
    // The same file named twice is read once too.
    let a = dir.path().join("a.json");
    let r = run(&["scan", "--format", "jsonl", p(&a), p(&a)]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(rule_ids(&r.stdout).len(), 1, "{r:?}");
}

#[test]
fn a_dangling_link_that_would_be_skipped_anyway_is_no_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.json"),
        sample("iam-user-created.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink("nowhere", dir.path().join("NOTES.txt")).unwrap();
    let r = run(&["scan", "--format", "jsonl", p(dir.path())]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(rule_ids(&r.stdout), ["iam-user-created"]);
    // A dangling link named like a log file is a log lost: an error.
    std::os::unix::fs::symlink("nowhere", dir.path().join("lost.json")).unwrap();
    let r = run(&["scan", "--format", "jsonl", p(dir.path())]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("lost.json: "), "{r:?}");
    assert_eq!(rule_ids(&r.stdout), ["iam-user-created"]);
}

#[test]
fn a_file_past_max_file_size_is_an_error_for_that_file_only() {
    // Named on the command line, /dev/zero is read, up to the limit.
    let r = run(&[
        "scan",
        "--format",
        "jsonl",
        "--max-file-size",
        "1MiB",
        "/dev/zero",
        "events/iam-user-created.json",
    ]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr
            .contains("/dev/zero: larger than 1 MiB, the limit on a file (--max-file-size)"),
        "{r:?}"
    );
    assert_eq!(rule_ids(&r.stdout), ["iam-user-created"]);
    // A regular file is measured before it is read; JSON Lines are bounded too.
    let dir = tempfile::tempdir().unwrap();
    let big = format!("{}\n", record("access-key-created.json")).repeat(4000);
    std::fs::write(dir.path().join("big.jsonl"), &big).unwrap();
    std::fs::write(
        dir.path().join("big.json"),
        format!("[{}]", big.trim_end().replace('\n', ",")),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("good.json"),
        sample("iam-user-created.json"),
    )
    .unwrap();
    let r = run(&[
        "scan",
        "--format",
        "jsonl",
        "--max-file-size",
        "1MiB",
        p(dir.path()),
    ]);
    assert_eq!(r.code, Some(2), "{r:?}");
    for name in ["big.json", "big.jsonl"] {
        assert!(
            r.stderr
                .contains(&format!("{name}: larger than 1 MiB, the limit on a file")),
            "{name}: {r:?}"
        );
    }
    assert!(
        rule_ids(&r.stdout).contains(&"iam-user-created".to_string()),
        "{r:?}"
    );
    // Sizes take a unit; a bad one is a usage error.
    let r = run(&[
        "scan",
        "--max-file-size",
        "64MiB",
        "--max-record-size",
        "2M",
        "events/",
    ]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let r = run(&["scan", "--max-file-size", "lots", "events/"]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("not a size"), "{r:?}");
}

#[test]
fn a_line_past_max_record_size_loses_only_that_line() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!(
        "{{\"padding\": \"{}\", \"eventSource\": \"iam.amazonaws.com\"}}",
        "x".repeat(20_000)
    );
    let text = format!(
        "{}\n{long}\n{}\n",
        record("iam-user-created.json"),
        record("access-key-created.json")
    );
    std::fs::write(dir.path().join("t.jsonl"), &text).unwrap();
    // The same inside gzip, and a bomb: 16 MiB of zeros with no line break (16 gzip
    // members of 1 MiB, about 16 KiB on disk).
    let other = format!(
        "{}\n{long}\n{}\n",
        record("console-password-created.json"),
        record("mfa-device-deactivated.json")
    );
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(other.as_bytes()).unwrap();
    std::fs::write(dir.path().join("u.jsonl.gz"), gz.finish().unwrap()).unwrap();
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(&vec![0u8; 1 << 20]).unwrap();
    let member = gz.finish().unwrap();
    std::fs::write(dir.path().join("v.jsonl.gz"), member.repeat(16)).unwrap();
    let r = run(&[
        "scan",
        "--format",
        "jsonl",
        "--max-record-size",
        "8KiB",
        p(dir.path()),
    ]);
    assert_eq!(r.code, Some(2), "{r:?}");
    for name in ["t.jsonl", "u.jsonl.gz", "v.jsonl.gz"] {
        let line = if name == "v.jsonl.gz" { 1 } else { 2 };
        assert!(
            r.stderr.contains(&format!(
                "{name}: line {line}: longer than 8 KiB, the limit on a record (--max-record-size)"
            )),
            "{name}: {r:?}"
        );
    }
    let mut ids = rule_ids(&r.stdout);
    ids.sort();
    assert_eq!(
        ids,
        [
            "access-key-created",
            "console-password-created",
            "iam-user-created",
            "mfa-device-deactivated"
        ],
        "{r:?}"
    );
}

#[test]
fn policy_and_org_files_are_read_within_16_mib() {
    for flag in ["--policy", "--org"] {
        let r = run_within(
            &["prlimit", "--as=1073741824"],
            &["scan", flag, "/dev/zero", "events/iam-user-created.json"],
            60,
        );
        assert_eq!(r.code, Some(2), "{flag}: {r:?}");
        assert!(
            r.stderr.contains("/dev/zero: larger than 16 MiB"),
            "{flag}: {r:?}"
        );
    }
}

/// The whole scan under 1 GiB of address space: an endless file and a FIFO end with clear
/// errors, and the good file beside them still gives its finding.
#[test]
fn endless_inputs_under_one_gib_of_address_space() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.json"),
        sample("iam-user-created.json"),
    )
    .unwrap();
    mkfifo(&dir.path().join("x.json"));
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(&vec![0u8; 1 << 20]).unwrap();
    // 32 MiB of zeros without a line break, 32 KiB on disk (more takes long to inflate in a
    // debug build; the line is cut at the record limit whatever its length).
    std::fs::write(
        dir.path().join("bomb.jsonl.gz"),
        gz.finish().unwrap().repeat(32),
    )
    .unwrap();
    let r = run_within(
        &["prlimit", "--as=1073741824"],
        &["scan", "--format", "jsonl", "/dev/zero", p(dir.path())],
        120,
    );
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr
            .contains("/dev/zero: larger than 256 MiB, the limit on a file"),
        "{r:?}"
    );
    assert!(
        r.stderr
            .contains("bomb.jsonl.gz: line 1: longer than 16 MiB, the limit on a record"),
        "{r:?}"
    );
    assert!(
        r.stderr.contains("x.json: skipped: not a regular file"),
        "{r:?}"
    );
    assert_eq!(rule_ids(&r.stdout), ["iam-user-created"], "{r:?}");
}

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Stdio::from(writer)
}

fn run_with(stdout: Stdio, stderr: Stdio, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .current_dir(root())
        .args(args)
        .stdout(stdout)
        .stderr(stderr)
        .output()
        .unwrap()
}

#[test]
fn a_closed_stderr_does_not_make_the_scan_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.json"),
        sample("iam-user-created.json"),
    )
    .unwrap();
    std::fs::write(dir.path().join("bad.json"), "{\"Records\": [").unwrap();
    let out = run_with(
        Stdio::piped(),
        closed_pipe(),
        &["scan", "--format", "jsonl", p(dir.path())],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "an error, said or not, is exit 2"
    );
    assert_eq!(
        rule_ids(&String::from_utf8_lossy(&out.stdout)),
        ["iam-user-created"]
    );
    // Table output writes the summary on stderr.
    let out = run_with(Stdio::piped(), closed_pipe(), &["scan", "events/"]);
    assert_eq!(out.status.code(), Some(0));
    // A usage error with stderr closed.
    let out = run_with(
        Stdio::piped(),
        closed_pipe(),
        &["scan", "no/such/file.json"],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_closed_stdout_ends_the_output_quietly_in_every_format() {
    for format in ["table", "jsonl", "asff", "csv"] {
        let out = run_with(
            closed_pipe(),
            Stdio::piped(),
            &["scan", "--format", format, "events/"],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{format}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{format}: {stderr}");
        assert!(!stderr.contains("iamwatch:"), "{format}: {stderr}");
    }
}

/// A user name with ESC, BEL, CR, a C1 control and a right-to-left override.
const HOSTILE: &str = "evil\u{1b}[2J\u{7}\r\u{202e}name\u{9b}";
const ESCAPED: &str = "evil\\x1b[2J\\x07\\x0d\\u{202e}name\\u{9b}";

fn hostile_log(dir: &Path) -> PathBuf {
    let mut r = record("iam-user-created.json");
    r["requestParameters"]["userName"] = HOSTILE.into();
    r["responseElements"]["user"]["userName"] = HOSTILE.into();
    let path = dir.join("hostile.json");
    std::fs::write(&path, serde_json::json!({ "Records": [r] }).to_string()).unwrap();
    path
}

fn assert_no_controls(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| {
            (c.is_control() && *c != '\n')
                || ('\u{202a}'..='\u{202e}').contains(c)
                || ('\u{2066}'..='\u{2069}').contains(c)
        })
        .collect();
    assert!(bad.is_empty(), "{what} has raw controls {bad:?}: {text:?}");
}

#[test]
fn control_characters_from_logs_are_escaped_in_table_csv_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let log = hostile_log(dir.path());
    for format in ["table", "csv"] {
        let r = run(&["scan", "--format", format, p(&log)]);
        assert_eq!(r.code, Some(0), "{r:?}");
        assert_no_controls(format, &r.stdout);
        assert!(r.stdout.contains(ESCAPED), "{format}: {}", r.stdout);
    }
    // JSON keeps the value as it was (escaped by JSON itself).
    let r = run(&["scan", "--format", "jsonl", p(&log)]);
    let f: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(f["ProductFields"]["iamwatch/User"], HOSTILE, "{}", r.stdout);
    // Stderr: a suppression note naming the user, and a file name with an escape sequence.
    let policy = dir.path().join("p.toml");
    std::fs::write(
        &policy,
        "[[suppress]]\nrule = \"iam-user-created\"\nreason = \"test\"\n",
    )
    .unwrap();
    let bad = dir.path().join("bad\u{1b}[31m.json");
    std::fs::write(&bad, "{\"Records\": [").unwrap();
    let r = run(&["scan", "--policy", p(&policy), p(&log), p(&bad)]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert_no_controls("stderr", &r.stderr);
    assert!(
        r.stderr
            .contains(&format!("suppressed: iam-user-created {ESCAPED}")),
        "{r:?}"
    );
    assert!(r.stderr.contains("bad\\x1b[31m.json: "), "{r:?}");
}

#[test]
fn the_summary_counts_the_records_of_a_file_with_a_document_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{{\"Records\": [{}, {}, {{\"eventSource\": \"iam",
        record("iam-user-created.json"),
        record("access-key-created.json")
    );
    std::fs::write(dir.path().join("truncated.json"), text).unwrap();
    let r = run(&["scan", p(dir.path())]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("truncated.json: "), "{r:?}");
    assert!(
        r.stderr
            .contains("from 2 records (2 IAM) in 1 file; 0 suppressed; 1 error"),
        "{r:?}"
    );
}

/// A `.json.gz` bomb (many gzip members of zeros) stops at the inflated-size limit with an error
/// for that file, under 1 GiB of address space, and the good file beside it still counts.
#[test]
fn a_json_gz_bomb_stops_at_the_inflated_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.json"),
        sample("iam-user-created.json"),
    )
    .unwrap();
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(&vec![0u8; 1 << 20]).unwrap();
    // 64 members of 1 MiB of zeros: 64 MiB inflated from about 64 KiB on disk.
    std::fs::write(
        dir.path().join("bomb.json.gz"),
        gz.finish().unwrap().repeat(64),
    )
    .unwrap();
    let r = run_within(
        &["prlimit", "--as=1073741824"],
        &[
            "scan",
            "--format",
            "jsonl",
            "--max-file-size",
            "16MiB",
            p(dir.path()),
        ],
        120,
    );
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr
            .contains("bomb.json.gz: cannot decompress: inflates to more than"),
        "{r:?}"
    );
    assert_eq!(rule_ids(&r.stdout), ["iam-user-created"], "{r:?}");
}

/// A truncated `.json.gz` keeps the records before the break, as `gzip -dc` does, and says
/// where it broke; zero padding after the data is no error.
#[test]
fn a_truncated_json_gz_keeps_the_records_before_the_break() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<serde_json::Value> = ["iam-user-created.json", "access-key-created.json"]
        .iter()
        .map(|n| record(n))
        .chain(std::iter::repeat_n(
            record("console-password-created.json"),
            200,
        ))
        .collect();
    let doc = serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap();
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(&doc).unwrap();
    let gz = gz.finish().unwrap();
    std::fs::write(dir.path().join("cut.json.gz"), &gz[..gz.len() * 2 / 3]).unwrap();
    let r = run(&["scan", "--format", "jsonl", p(dir.path())]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr
            .contains("cut.json.gz: cannot decompress: gzip data is cut off or corrupt"),
        "{r:?}"
    );
    let ids = rule_ids(&r.stdout);
    assert!(
        ids.starts_with(&[
            "iam-user-created".to_string(),
            "access-key-created".to_string()
        ]),
        "records before the break are kept: {r:?}"
    );

    let padded = [gz.clone(), vec![0u8; 1024]].concat();
    std::fs::write(dir.path().join("cut.json.gz"), padded).unwrap();
    let r = run(&["scan", "--format", "jsonl", p(dir.path())]);
    assert_eq!(r.code, Some(0), "zero padding is no error: {r:?}");
}
