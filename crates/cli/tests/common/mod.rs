//! Shared by the command-line tests: the `iamwatch` binary run in the project root, the samples
//! of `events/`, and the golden files of `events/expected/`.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `iamwatch` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_iamwatch");

/// The project's root: the folder of `events/`, `examples/` and `runbooks/`.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A sample of `events/`.
pub fn sample(name: &str) -> String {
    std::fs::read_to_string(root().join("events").join(name)).unwrap()
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs `cmd` to its end: (exit status, -1 for a signal; stdout; stderr).
pub fn output(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run iamwatch");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The ids of the findings of `--format jsonl` output, in order.
pub fn finding_ids(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["Id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// `iamwatch args...` in the project root.
pub fn iamwatch(args: &[&str]) -> (i32, String, String) {
    output(Command::new(BIN).current_dir(root()).args(args))
}

/// `iamwatch scan args...` in the project root.
pub fn scan(args: &[&str]) -> (i32, String, String) {
    output(Command::new(BIN).current_dir(root()).arg("scan").args(args))
}

/// The ASFF findings of a scan of `path` with the example policy and org snapshot; the scan
/// must succeed.
pub fn scan_asff(path: &str) -> Value {
    let (code, stdout, stderr) = scan(&[
        "--policy",
        "examples/policy.toml",
        "--org",
        "examples/org.json",
        "--format",
        "asff",
        path,
    ]);
    assert_eq!(code, 0, "scan {path}: {stderr}");
    serde_json::from_str(&stdout).expect("asff output is JSON")
}

/// `got` is exactly `events/expected/<name>.asff`, compared whole (`what` names the input in
/// the message). `UPDATE_GOLDEN=1` rewrites the file first.
pub fn assert_golden(got: &Value, name: &str, what: &str) {
    let path = root().join("events/expected").join(format!("{name}.asff"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(got).unwrap() + "\n").unwrap();
    }
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap();
    assert_eq!(*got, want, "{what} differs from {}", path.display());
}
