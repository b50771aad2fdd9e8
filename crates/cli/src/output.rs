//! Printing findings: a table for people, JSON Lines / ASFF / CSV for machines.

use crate::term::escape;
use crate::Format;
use iamwatch_core::finding::{fields, RecordState};
use iamwatch_core::{Finding, Label};
use iamwatch_scan::Totals;
use std::io::{self, BufWriter, IsTerminal, Write};

/// `--min-severity` and `--fail-on`.
#[derive(Debug, Clone, Copy)]
pub struct Severity {
    pub min: Option<Label>,
    pub fail_on: Option<Label>,
}

impl Severity {
    /// Whether `f` reaches `--fail-on`: every finding counts, printed or not, archived or not.
    pub fn fails(&self, f: &Finding) -> bool {
        self.fail_on.is_some_and(|level| f.severity.label >= level)
    }

    /// Whether `f` is printed: at or above `--min-severity`.
    pub fn shows(&self, f: &Finding) -> bool {
        self.min.is_none_or(|min| f.severity.label >= min)
    }

    /// Keeps the findings to print; returns whether any finding reached `--fail-on`.
    pub fn apply(&self, findings: &mut Vec<Finding>) -> bool {
        let failed = findings.iter().any(|f| self.fails(f));
        findings.retain(|f| self.shows(f));
        failed
    }
}

/// Whether the summary line goes to stderr: always under the table, else only to a terminal.
pub fn summary_wanted(format: Format) -> bool {
    format == Format::Table || io::stderr().is_terminal()
}

/// The exit status: 2 after an input error (the rest still ran), else 1 when a finding reached
/// `--fail-on`, else 0.
pub fn exit_status(errors: bool, failed: bool) -> u8 {
    if errors {
        2
    } else if failed {
        1
    } else {
        0
    }
}

/// Prints findings in `format` on stdout.
pub fn findings(format: Format, findings: &mut [Finding]) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = match format {
        Format::Table => table(&mut out, findings),
        Format::Jsonl => findings.iter().try_for_each(|f| {
            serde_json::to_writer(&mut out, f)?;
            writeln!(out)
        }),
        Format::Asff => {
            serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "Findings": findings }))
                .map_err(io::Error::from)
                .and_then(|_| writeln!(out))
        }
        Format::Csv => csv(&mut out, findings),
        Format::Ocsf => findings.iter().try_for_each(|f| {
            serde_json::to_writer(&mut out, &iamwatch_core::ocsf::detection_finding(f))?;
            writeln!(out)
        }),
    };
    match result.and_then(|_| out.flush()) {
        // A closed pipe (`| head`) is not an error worth a message.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn target(f: &Finding) -> String {
    match (f.field(fields::USER), f.field(fields::ACCESS_KEY_ID)) {
        (Some(u), Some(k)) => format!("{u} {k}"),
        (Some(u), None) => match (
            f.field(fields::GRANT),
            f.field(iamwatch_core::inventory::check::ACCESS_KEY_SLOT),
        ) {
            (Some(g), _) => format!("{u} {g}"),
            (None, Some(slot)) => format!("{u} key {slot}"),
            (None, None) => u.to_string(),
        },
        (None, Some(k)) => k.to_string(),
        (None, None) => "-".to_string(),
    }
}

fn account(f: &Finding) -> String {
    let id = &f.aws_account_id;
    match f.field(fields::ACCOUNT_NAME) {
        Some(name) => format!("{name} ({id})"),
        None => id.clone(),
    }
}

fn sort_by_severity(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (b.record_state == RecordState::Active)
            .cmp(&(a.record_state == RecordState::Active))
            .then(b.score().cmp(&a.score()))
            .then(a.created_at.cmp(&b.created_at))
            .then(a.id.cmp(&b.id))
    });
}

/// `s` escaped, then cut to `max` characters.
fn clip(s: &str, max: usize) -> String {
    let s = escape(s);
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

fn table(out: &mut dyn Write, findings: &mut [Finding]) -> io::Result<()> {
    if findings.is_empty() {
        return writeln!(out, "No findings.");
    }
    sort_by_severity(findings);
    let header = [
        "SEVERITY",
        "SCORE",
        "RULE",
        "ACCOUNT",
        "TARGET",
        "ACTOR",
        "TIME (UTC)",
        "WHY",
    ];
    // Cells come from the logs: escaped before they are measured and printed.
    let rows: Vec<[String; 8]> = findings
        .iter()
        .map(|f| {
            let state = match f.record_state {
                RecordState::Active => String::new(),
                RecordState::Archived => " (archived)".to_string(),
            };
            [
                format!("{}{state}", f.severity.label),
                f.severity.original.clone(),
                f.rule_id().unwrap_or("-").to_string(),
                clip(&account(f), 40),
                clip(&target(f), 48),
                clip(f.field(fields::ACTOR).unwrap_or("-"), 56),
                f.created_at
                    .get(..19)
                    .unwrap_or(&f.created_at)
                    .replace('T', " "),
                f.field(fields::FACTORS).unwrap_or("none").to_string(),
            ]
            .map(|cell| escape(&cell).into_owned())
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: &[String]| -> io::Result<()> {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(out, &header.map(String::from))?;
    for row in &rows {
        line(out, row)?;
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv(out: &mut dyn Write, findings: &mut [Finding]) -> io::Result<()> {
    sort_by_severity(findings);
    writeln!(
        out,
        "id,label,score,rule,account_id,account_name,ou_path,user,access_key_id,grant,actor,event_time,factors,record_state,title,runbook"
    )?;
    for f in findings.iter() {
        let get = |k: &str| f.field(k).unwrap_or("").to_string();
        let state = match f.record_state {
            RecordState::Active => "ACTIVE",
            RecordState::Archived => "ARCHIVED",
        };
        let cells = [
            f.id.clone(),
            f.severity.label.to_string(),
            f.severity.original.clone(),
            get(fields::RULE_ID),
            f.aws_account_id.clone(),
            get(fields::ACCOUNT_NAME),
            get(fields::OU_PATH),
            get(fields::USER),
            get(fields::ACCESS_KEY_ID),
            get(fields::GRANT),
            get(fields::ACTOR),
            f.created_at.clone(),
            get(fields::FACTORS),
            state.to_string(),
            f.title.clone(),
            f.remediation.recommendation.url.clone().unwrap_or_else(|| {
                iamwatch_core::links::runbook_path(f.rule_id().unwrap_or("unknown"))
            }),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_field(&escape(c))).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}

/// One line of totals for stderr.
pub fn summary(findings: &[Finding], t: &Totals) -> String {
    format!(
        "{} from {} records ({} IAM) in {} file{}; {} suppressed; {} error{}",
        iamwatch_core::finding::count_phrase(findings),
        t.stats.items,
        t.stats.iam_records,
        t.files,
        if t.files == 1 { "" } else { "s" },
        t.suppressed,
        t.errors,
        if t.errors == 1 { "" } else { "s" },
    )
}
