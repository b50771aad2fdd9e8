//! The essentials of a rule runbook: its first triage steps and its first containment command.
//!
//! Shared by the build script, which compiles them into the crate from `runbooks/*.md`, and by
//! the test that keeps the compiled table equal to the runbooks. Plain `std`, no crate paths.

/// How many triage steps a ticket or a message carries.
pub const TRIAGE_STEPS: usize = 3;

/// What the parser found in one runbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The rule id of the runbook's `| Rule id |` row, without backticks.
    pub rule_id: String,
    /// The first [`TRIAGE_STEPS`] items of `## Triage`, each on one line, links reduced to
    /// their text.
    pub triage: Vec<String>,
    /// The lines of the first fenced code block under `## Containment`, without the fence's
    /// indentation; empty when the section has none.
    pub command: Vec<String>,
}

/// The essentials of a runbook, or `None` when it is not a rule runbook (no `| Rule id |` row).
pub fn parse(markdown: &str) -> Option<Parsed> {
    let rule_id = markdown.lines().find_map(|line| {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        match cells.as_slice() {
            [name, value] if *name == "Rule id" => value
                .strip_prefix('`')
                .and_then(|v| v.strip_suffix('`'))
                .map(str::to_string),
            _ => None,
        }
    })?;
    Some(Parsed {
        rule_id,
        triage: triage(section(markdown, "Triage")),
        command: first_code_block(section(markdown, "Containment")),
    })
}

/// The lines of a `## <name>` section, up to the next `## ` heading.
fn section<'a>(markdown: &'a str, name: &str) -> Vec<&'a str> {
    let heading = format!("## {name}");
    markdown
        .lines()
        .skip_while(|l| l.trim_end() != heading)
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .collect()
}

/// `1. text` at the start of a line: the text.
fn numbered_item(line: &str) -> Option<&str> {
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return None;
    }
    line[digits..].strip_prefix(". ")
}

fn triage(lines: Vec<&str>) -> Vec<String> {
    let mut items: Vec<Vec<&str>> = Vec::new();
    let mut open = false;
    for line in lines {
        if let Some(text) = numbered_item(line) {
            items.push(vec![text.trim()]);
            open = true;
        } else if open && line.starts_with(char::is_whitespace) && !line.trim().is_empty() {
            if let Some(item) = items.last_mut() {
                item.push(line.trim());
            }
        } else {
            open = false;
        }
    }
    items
        .into_iter()
        .take(TRIAGE_STEPS)
        .map(|parts| unlink(&parts.join(" ")))
        .collect()
}

/// `[text](target)` becomes `text`; anything else stays.
fn unlink(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let link = after.find("](").and_then(|close| {
            let target = &after[close + 2..];
            target.find(')').map(|end| (close, close + 2 + end + 1))
        });
        match link {
            Some((close, consumed)) if !after[..close].contains('[') => {
                out.push_str(&rest[..open]);
                out.push_str(&after[..close]);
                rest = &after[consumed..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn first_code_block(lines: Vec<&str>) -> Vec<String> {
    let Some(start) = lines.iter().position(|l| l.trim_start().starts_with("```")) else {
        return Vec::new();
    };
    let indent = &lines[start][..lines[start].len() - lines[start].trim_start().len()];
    lines[start + 1..]
        .iter()
        .take_while(|l| !l.trim_start().starts_with("```"))
        .map(|l| l.strip_prefix(indent).unwrap_or(l.trim_start()).to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNBOOK: &str = "# x: a rule\n\n| field | value |\n| --- | --- |\n| Rule id | `x-rule` |\n\n\
## Triage\n\nAnswer in order, see [Containment](#containment).\n\n\
1. First [question](https://example.com/a) here,\n   wrapped **Incident.**\n\
2. Second.\n3. Third\n   continued.\n4. Fourth.\n\nOtherwise close it.\n\n\
## Containment\n\nText.\n\n1. Do it:\n\n   ```bash\n   aws iam x \\\n     --y '{\"a\": 1}'\n   ```\n\n\
2. Then:\n\n   ```bash\n   aws iam z\n   ```\n\n## Evidence\n\n1. Not triage.\n";

    #[test]
    fn a_rule_runbook_gives_three_steps_and_the_first_command() {
        let got = parse(RUNBOOK).unwrap();
        assert_eq!(got.rule_id, "x-rule");
        assert_eq!(
            got.triage,
            [
                "First question here, wrapped **Incident.**",
                "Second.",
                "Third continued."
            ]
        );
        assert_eq!(got.command, ["aws iam x \\", "  --y '{\"a\": 1}'"]);
    }

    #[test]
    fn other_markdown_is_no_rule_runbook_and_links_reduce_to_text() {
        assert_eq!(parse("# Ops\n\n## Triage\n\n1. a\n"), None);
        let index = "| rule id | base score |\n| --- | --- |\n| `x` | 30 |\n";
        assert_eq!(parse(index), None, "an index table is no rule runbook");
        assert_eq!(unlink("a [b](c) [d] e[f](g)h"), "a b [d] efh");
        assert_eq!(unlink("[unclosed](x"), "[unclosed](x");
    }
}
