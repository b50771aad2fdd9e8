//! What a ticket or a message says about a finding, shared by Jira and Slack.

use iamwatch_core::finding::fields;
use iamwatch_core::finding_event::FindingEvent;
use iamwatch_core::score::FACTORS;

/// Text from the logs made safe for one line of a ticket summary or a message header: control
/// characters (C0, DEL, C1, including NUL, VT, ESC), line and paragraph separators and bidi
/// controls (a right-to-left override spoofs what a reader sees) become a space, and runs of
/// white space one space.
pub(crate) fn one_line(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if unsafe_in_a_line(c) { ' ' } else { c })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text from the logs made safe for a multi-line body: the same, but line breaks stay.
pub(crate) fn text_block(s: &str) -> String {
    s.split('\n').map(one_line).collect::<Vec<_>>().join("\n")
}

/// A block of code kept verbatim, spacing and line breaks included, except that characters
/// unsafe in a line (see [`one_line`]) become a space.
pub(crate) fn code_block(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c != '\n' && unsafe_in_a_line(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn unsafe_in_a_line(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
                | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// The AWS console pages of a finding, made by `iamwatch_core::links` in the finding's partition
/// and region (from its product ARN): the finding in Security Hub, and the IAM user or role it is
/// about when there is one.
pub(crate) fn console_links(event: &FindingEvent) -> Vec<(&'static str, String)> {
    use iamwatch_core::links;
    let arn: Vec<&str> = event.finding.product_arn.split(':').collect();
    let (partition, region) = match arn.as_slice() {
        ["arn", p, "securityhub", r, ..] if !p.is_empty() && !r.is_empty() => (*p, *r),
        _ => ("aws", "us-east-1"),
    };
    let mut out = vec![(
        "Security Hub",
        links::securityhub_finding(partition, region, &event.finding_id),
    )];
    match event.finding.field(fields::USER) {
        Some(user) if user != "root" => {
            out.push(("IAM user", links::iam_user_credentials(partition, user)))
        }
        _ => {}
    }
    if let Some(role) = event.finding.field(fields::ROLE) {
        out.push(("IAM role", links::iam_role(partition, role)));
    }
    out
}

/// The account as people know it: `payments-prod (111122223333)` or the bare id.
pub(crate) fn account(event: &FindingEvent) -> String {
    match &event.account_name {
        Some(name) if !name.is_empty() => format!("{name} ({})", event.account_id),
        _ => event.account_id.clone(),
    }
}

/// The OU path from the root down, `Workloads / Prod`, or `unknown`.
pub(crate) fn ou_path(event: &FindingEvent) -> String {
    if event.ou_path.is_empty() {
        "unknown".to_string()
    } else {
        event.ou_path.join(" / ")
    }
}

/// The actor, or `unknown` when the event had none.
pub(crate) fn actor(event: &FindingEvent) -> &str {
    if event.actor.is_empty() {
        "unknown"
    } else {
        &event.actor
    }
}

/// The factor ids that made the score, each with its delta: `actor-iam-user +10, no-mfa +10`,
/// or `none`.
pub(crate) fn factors(event: &FindingEvent) -> String {
    let ids: Vec<&str> = event
        .finding
        .field(fields::FACTORS)
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty() && *id != "none")
        .collect();
    if ids.is_empty() {
        return "none".to_string();
    }
    ids.iter()
        .map(|id| match FACTORS.iter().find(|f| f.id == *id) {
            Some(f) => format!("{id} {:+}", f.delta),
            None => id.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where a rule's runbook lives in the project: `runbooks/<rule-id>.md`. Shown, with
/// [`NO_RUNBOOK_BASE_URL`], when no runbook base URL is set and there is no link to give.
pub(crate) fn runbook_path(rule_id: &str) -> String {
    format!("runbooks/{}.md", one_line(rule_id))
}

/// What a ticket or a message says next to [`runbook_path`] when it has no link.
pub(crate) const NO_RUNBOOK_BASE_URL: &str = "no runbook base URL is set";

mod compiled {
    include!(concat!(env!("OUT_DIR"), "/essentials.rs"));
}

/// The first triage steps and the containment command of a rule's runbook, compiled in from
/// `runbooks/<rule-id>.md` by the build script so that a responder can act when the runbook
/// link cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Essentials {
    /// The first triage questions, each on one line.
    pub triage: &'static [&'static str],
    /// The lines of the first containment command; empty when the runbook's containment has
    /// no command (only people can do it).
    pub command: &'static [&'static str],
}

/// The essentials of the runbook of `rule_id`, if the rule has a runbook.
pub(crate) fn essentials(rule_id: &str) -> Option<Essentials> {
    compiled::ESSENTIALS
        .iter()
        .find(|(id, _, _)| *id == rule_id)
        .map(|&(_, triage, command)| Essentials { triage, command })
}

/// `score 80 (HIGH)`.
pub(crate) fn score(event: &FindingEvent) -> String {
    format!("{} ({})", event.score, event.label.as_str())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::{code_block, compiled, essentials, one_line, text_block};
    use crate::essentials_parse::{parse, Parsed, TRIAGE_STEPS};
    use iamwatch_core::finding_event::FindingEvent;
    use serde_json::json;

    /// A finding whose logged fields are hostile: the title carries a line separator, ESC,
    /// NUL and a right-to-left override, the user is named `@channel`, the description is
    /// empty.
    pub(crate) fn hostile_event() -> FindingEvent {
        use iamwatch_core::engine::{evaluate, finding, Verdict};
        use iamwatch_core::{Enrichment, FindingContext, Policy};
        let record: iamwatch_core::CloudTrailRecord = serde_json::from_value(json!({
            "eventVersion": "1.09", "eventTime": "2026-11-01T10:00:00Z",
            "eventSource": "iam.amazonaws.com", "eventName": "CreateUser",
            "userIdentity": {"type": "IAMUser", "userName": "alice", "accountId": "111122223333",
                             "arn": "arn:aws:iam::111122223333:user/alice"},
            "requestParameters": {"userName": "@channel\u{2028}\u{001b}[2J\u{0000}\u{202e}exe.txt"},
            "eventID": "e-1", "recipientAccountId": "111122223333"
        }))
        .unwrap();
        let policy = Policy::default();
        let Verdict::Finding(d) = evaluate(&record, &policy) else {
            panic!("CreateUser is a finding")
        };
        let (mut f, _) = finding(
            &d,
            &record,
            &policy,
            &Enrichment::default(),
            &FindingContext::default(),
        );
        f.description = String::new();
        FindingEvent::from_finding(&f)
    }

    #[test]
    fn text_from_logs_cannot_break_lines_or_spoof_direction() {
        let hostile = "evil\u{2028}user\u{000b}x\u{0000}y\u{001b}[31mz\u{202e}gnp.exe\r\nnext";
        let got = one_line(hostile);
        assert_eq!(got, "evil user x y [31mz gnp.exe next");
        assert!(!got
            .chars()
            .any(|c| c.is_control() || c == '\u{202e}' || c == '\u{2028}'));
        assert_eq!(text_block("a\u{0007}b\nc\u{2066}d"), "a b\nc d");
        assert_eq!(code_block("a \\\n  --b\u{202e} 'c'"), "a \\\n  --b  'c'");
    }

    /// The rule ids of the compiled table.
    pub(crate) fn rule_ids() -> impl Iterator<Item = &'static str> {
        compiled::ESSENTIALS.iter().map(|(id, _, _)| *id)
    }

    /// Rule runbooks whose containment has no command: root's password has no API, only the
    /// root credential's custodians can act.
    const NO_COMMAND: &[&str] = &["root-console-login"];

    /// The rule runbooks as they are now, parsed at test time.
    fn runbooks() -> Vec<Parsed> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../runbooks");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "md"))
            .collect();
        files.sort();
        let mut parsed = Vec::new();
        for file in files {
            let Some(p) = parse(&std::fs::read_to_string(&file).unwrap()) else {
                continue;
            };
            let stem = file.file_stem().unwrap().to_str().unwrap();
            assert_eq!(p.rule_id, stem, "{}", file.display());
            parsed.push(p);
        }
        parsed
    }

    #[test]
    fn the_compiled_essentials_are_the_runbooks() {
        let now = runbooks();
        let compiled: Vec<Parsed> = compiled::ESSENTIALS
            .iter()
            .map(|(id, triage, command)| Parsed {
                rule_id: id.to_string(),
                triage: triage.iter().map(|s| s.to_string()).collect(),
                command: command.iter().map(|s| s.to_string()).collect(),
            })
            .collect();
        assert_eq!(compiled, now, "the build script has not seen the runbooks");
        assert!(now.len() >= 20, "{} rule runbooks", now.len());
        for p in &now {
            assert_eq!(p.triage.len(), TRIAGE_STEPS, "{}", p.rule_id);
            assert!(
                p.triage
                    .iter()
                    .all(|s| !s.trim().is_empty() && !s.contains("](")),
                "{p:?}"
            );
            let has_command = p.command.iter().any(|l| !l.trim().is_empty());
            assert_eq!(
                has_command,
                !NO_COMMAND.contains(&p.rule_id.as_str()),
                "containment command of {}",
                p.rule_id
            );
        }
    }

    #[test]
    fn essentials_are_found_by_rule_id() {
        let e = essentials("access-key-created").unwrap();
        assert_eq!(e.triage.len(), TRIAGE_STEPS);
        assert!(e.triage[0].starts_with("Has the key made calls"), "{e:?}");
        assert!(
            e.command[0].starts_with("aws iam update-access-key "),
            "{e:?}"
        );
        assert_eq!(essentials("no-such-rule"), None);
        assert_eq!(essentials(""), None);
    }
}
