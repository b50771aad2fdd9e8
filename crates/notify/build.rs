//! Compiles the essentials of every rule runbook (`runbooks/*.md` at the repository root) into
//! `$OUT_DIR/essentials.rs`: the first triage steps and the first containment command, so that
//! tickets and messages carry them even where the runbook link cannot be reached.

#[path = "src/essentials_parse.rs"]
#[allow(dead_code)]
mod parse;

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let dir = manifest.join("../../runbooks");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the runbooks directory {}: {e}", dir.display()))
        .map(|entry| entry.expect("a runbooks directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();

    let mut table = String::from(
        "/// Rule id, triage steps, containment command lines; generated from `runbooks/*.md`.\n\
         pub(crate) static ESSENTIALS: &[(&str, &[&str], &[&str])] = &[\n",
    );
    for file in files {
        println!("cargo:rerun-if-changed={}", file.display());
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("runbook {}: {e}", file.display()));
        if let Some(p) = parse::parse(&text) {
            writeln!(
                table,
                "    ({:?}, &{:?}, &{:?}),",
                p.rule_id, p.triage, p.command
            )
            .expect("writing to a String");
        }
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("essentials.rs");
    std::fs::write(&out, table).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}
