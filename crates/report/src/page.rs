//! The page: the model's figures as the display rows of an askama template
//! (`templates/report.html`, HTML-escaped by default: a user name or tag value is always text).

use std::collections::BTreeMap;

use askama::Template;
use iamwatch_core::Label;

use crate::model::{self, AtZero, Guardrail, Inventory};
use crate::{Options, ReportError, Summary};
use iamwatch_core::inventory::UserRow;

#[derive(Template)]
#[template(path = "report.html")]
struct Page {
    day: String,
    previous_day: Option<String>,
    users_today: u64,
    delta: Option<Delta>,
    keys_today: u64,
    accounts_ok: usize,
    accounts_failed: usize,
    trend_svg: String,
    trend: Vec<model::TrendPoint>,
    new_users: Vec<UserLine>,
    new_total: usize,
    removed_users: Vec<UserLine>,
    removed_total: usize,
    risky_total: usize,
    not_compared: Vec<(String, String)>,
    risky: Vec<RiskyLine>,
    accounts: Vec<AccountLine>,
    ous: Vec<OuLine>,
    zero_ous: Vec<String>,
    guarded_ous: Vec<String>,
    zero_unguarded: Vec<String>,
    unmatched_guardrails: Vec<String>,
    coverage: String,
    gaps: Vec<(String, Vec<String>)>,
    problems: Vec<String>,
    runbook_note: String,
}

struct Delta {
    text: String,
    class: &'static str,
}

struct UserLine {
    account: String,
    user: String,
    owner: String,
    created: String,
    tags: String,
}

struct Reason {
    id: String,
    title: String,
    href: String,
}

struct RiskyLine {
    user: UserLine,
    score: u8,
    label: &'static str,
    admin: bool,
    keys: usize,
    reasons: Vec<Reason>,
}

struct AccountLine {
    id: String,
    name: String,
    ou: String,
    users: u64,
    risky: u64,
    keys: u64,
    status: String,
    status_class: &'static str,
    error: Option<String>,
    gaps: String,
}

struct OuLine {
    name: String,
    depth: usize,
    accounts: usize,
    users: u64,
    risky: u64,
    keys: u64,
    failed: usize,
    zero: &'static str,
    zero_class: &'static str,
    guardrail: String,
}

/// `account-name (111122223333)`, or the id alone.
fn account_label(id: &str, name: Option<&str>) -> String {
    match name.filter(|n| !n.is_empty()) {
        Some(name) => format!("{name} ({id})"),
        None => id.to_string(),
    }
}

/// The owner as the inventory knows it: the owner tag, else the creator, else unknown (said so).
fn owner(u: &UserRow) -> String {
    match (u.owner.as_deref(), u.creator.as_deref()) {
        (Some(owner), _) if !owner.is_empty() => owner.to_string(),
        (_, Some(creator)) if !creator.is_empty() => format!("created by {creator}"),
        _ => "unknown".to_string(),
    }
}

fn user_line(u: &UserRow) -> UserLine {
    UserLine {
        account: account_label(&u.account_id, u.account_name.as_deref()),
        user: u.user.clone(),
        owner: owner(u),
        created: u.created.clone().unwrap_or_default(),
        tags: u
            .tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The short title of a rule (hygiene or real-time), for the reasons column.
fn rule_title(id: &str) -> String {
    iamwatch_core::inventory::rules::by_id(id)
        .or_else(|| iamwatch_core::rules::by_id(id))
        .map(|m| m.title.to_string())
        .unwrap_or_else(|| "(rule unknown to this version)".to_string())
}

fn runbook_href(base: Option<&str>, id: &str) -> String {
    iamwatch_core::links::runbook_url(base, id)
        .unwrap_or_else(|| iamwatch_core::links::runbook_path(id))
}

/// Renders the page of `inventory` (its day must be set).
pub fn render(inventory: &Inventory, options: &Options) -> Result<(String, Summary), ReportError> {
    let day = inventory.today.ok_or(ReportError::NoDays)?;
    let trend = model::trend(&inventory.accounts);
    let today_users = inventory.today_users();
    let today_accounts = inventory.today_accounts();
    let previous = inventory.previous();
    let change = match previous {
        Some((prev_day, prev_users)) => model::change(
            prev_users,
            inventory.accounts_on(*prev_day),
            today_users,
            today_accounts,
        ),
        // No earlier day: nothing to compare (the first day does not list every user as new).
        None => model::Change::default(),
    };
    let limit = options.max_rows.unwrap_or(crate::DEFAULT_MAX_ROWS);
    let risky = model::risky(today_users);
    // Guardrail OUs given by id are matched by their path; the page names both.
    let guardrails: Vec<String> = options
        .guardrail_ous
        .iter()
        .map(|entry| match options.ou_ids.get(entry.trim()) {
            Some(path) if path.is_empty() => model::ROOT.to_string(),
            Some(path) => path.join("/"),
            None => entry.clone(),
        })
        .collect();
    let (ous, unmatched_guardrails) = model::ou_rollup(today_accounts, &guardrails);

    let users_today = today_users.len() as u64;
    // The previous point of the trend (the day before in the accounts tables) gives the change of
    // the total; it is the figure of the Slack line.
    let previous_total = trend
        .iter()
        .rev()
        .find(|p| p.day < day)
        .map(|p| (p.day, p.users));
    let delta = previous_total.as_ref().map(|(d, before)| {
        let diff = users_today as i64 - *before as i64;
        Delta {
            text: format!("{diff:+} since {d} ({before})"),
            class: match diff {
                d if d < 0 => "down",
                0 => "muted",
                _ => "up",
            },
        }
    });

    let base = options.runbook_base_url.as_deref();
    let risky_lines = risky
        .iter()
        .take(limit)
        .map(|u| RiskyLine {
            user: user_line(u),
            score: u.score,
            label: Label::from_score(u.score).as_str(),
            admin: u.admin,
            keys: u.access_keys.iter().filter(|k| k.active).count(),
            reasons: u
                .rules
                .iter()
                .map(|id| Reason {
                    id: id.clone(),
                    title: rule_title(id),
                    href: runbook_href(base, id),
                })
                .collect(),
        })
        .collect::<Vec<_>>();

    let gaps: Vec<(String, Vec<String>)> = options
        .coverage_gaps
        .as_ref()
        .map(|g| {
            g.iter()
                .filter(|(_, users)| !users.is_empty())
                .map(|(a, users)| (a.clone(), users.clone()))
                .collect()
        })
        .unwrap_or_default();
    let gap_count: BTreeMap<&str, usize> =
        gaps.iter().map(|(a, u)| (a.as_str(), u.len())).collect();
    let coverage = match &options.coverage_gaps {
        None => "Not measured: this report was made without the sweep's comparison against the real-time findings.".to_string(),
        Some(_) if gaps.is_empty() => "Every user created since the previous sweep had a real-time finding.".to_string(),
        Some(_) => {
            let users: usize = gap_count.values().sum();
            format!(
                "{users} user{} in {} account{} found by the daily sweep with no real-time finding: the live path missed {}.",
                plural(users),
                gaps.len(),
                plural(gaps.len()),
                if users == 1 { "it" } else { "them" }
            )
        }
    };

    let mut accounts_sorted: Vec<_> = today_accounts.iter().collect();
    accounts_sorted.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    let accounts = accounts_sorted
        .iter()
        .map(|a| {
            let ok = model::swept_ok(a);
            AccountLine {
                id: a.account_id.clone(),
                name: a.account_name.clone().unwrap_or_default(),
                ou: if a.ou_path.is_empty() {
                    model::ROOT.to_string()
                } else {
                    a.ou_path.join("/")
                },
                users: a.users.into(),
                risky: a.risky_users.into(),
                keys: a.access_keys.into(),
                status: if ok { "ok" } else { "error" }.to_string(),
                status_class: if ok { "ok" } else { "error" },
                error: a.error.clone().filter(|e| !e.is_empty()),
                gaps: match &options.coverage_gaps {
                    None => "-".to_string(),
                    Some(_) => gap_count
                        .get(a.account_id.as_str())
                        .copied()
                        .unwrap_or(0)
                        .to_string(),
                },
            }
        })
        .collect::<Vec<_>>();

    let zero_ous: Vec<String> = ous
        .iter()
        .filter(|o| o.at_zero == AtZero::Yes)
        .map(|o| o.path.clone())
        .collect();
    let guarded_ous: Vec<String> = ous
        .iter()
        .filter(|o| o.guardrail == Guardrail::Direct)
        .map(|o| o.path.clone())
        .collect();
    let zero_unguarded: Vec<String> = ous
        .iter()
        .filter(|o| o.at_zero == AtZero::Yes && o.guardrail == Guardrail::None)
        .map(|o| o.path.clone())
        .collect();
    let ou_lines = ous
        .iter()
        .map(|o| OuLine {
            name: o.path.rsplit('/').next().unwrap_or(&o.path).to_string(),
            depth: o.depth,
            accounts: o.accounts,
            users: o.users,
            risky: o.risky_users,
            keys: o.access_keys,
            failed: o.failed,
            zero: match o.at_zero {
                AtZero::Yes => "yes",
                AtZero::No => "no",
                AtZero::Unknown => "unknown (a sweep failed)",
            },
            zero_class: match o.at_zero {
                AtZero::Yes => "yes",
                AtZero::No => "no",
                AtZero::Unknown => "unknown",
            },
            guardrail: match &o.guardrail {
                Guardrail::Direct => "attached".to_string(),
                Guardrail::Inherited(from) => format!("inherited from {from}"),
                Guardrail::None => "none".to_string(),
            },
        })
        .collect::<Vec<_>>();

    let summary = Summary {
        day,
        users: users_today,
        previous: previous_total,
        accounts: today_accounts.len(),
        accounts_failed: today_accounts
            .iter()
            .filter(|a| !model::swept_ok(a))
            .count(),
        risky_users: risky.len(),
        new_users: change.new.len(),
        removed_users: change.removed.len(),
        coverage_gaps: gap_count.values().sum(),
    };
    let page = Page {
        day: day.to_string(),
        previous_day: previous.map(|(d, _)| d.to_string()),
        users_today,
        delta,
        keys_today: today_users
            .iter()
            .map(|u| u.access_keys.len() as u64)
            .sum(),
        accounts_ok: summary.accounts - summary.accounts_failed,
        accounts_failed: summary.accounts_failed,
        trend_svg: crate::chart::trend_svg(&trend).map_err(ReportError::Chart)?,
        trend,
        new_users: change.new.iter().take(limit).map(|u| user_line(u)).collect(),
        new_total: change.new.len(),
        removed_users: change
            .removed
            .iter()
            .take(limit)
            .map(|u| user_line(u))
            .collect(),
        removed_total: change.removed.len(),
        risky_total: risky.len(),
        not_compared: change.not_compared.clone(),
        risky: risky_lines,
        accounts,
        ous: ou_lines,
        zero_ous,
        guarded_ous,
        zero_unguarded,
        unmatched_guardrails,
        coverage,
        gaps,
        problems: inventory.problems.clone(),
        runbook_note: match base.map(str::trim).filter(|b| !b.is_empty()) {
            Some(b) => format!("under {b}"),
            None => "no runbook base URL is set; links name runbooks/<rule-id>.md in the iamwatch repository".to_string(),
        },
    };
    let html = page
        .render()
        .map_err(|e| ReportError::Template(e.to_string()))?;
    Ok((html, summary))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::{account, user};
    use iamwatch_core::inventory::Day;

    fn day(s: &str) -> Day {
        s.parse().unwrap()
    }

    fn inventory() -> Inventory {
        let mut hostile = user("111111111111", "eve<b>bold</b>", 60, &["iam-user-created"]);
        hostile
            .tags
            .insert("owner".into(), "<script>alert(1)</script>".into());
        hostile.owner = Some("<script>alert(1)</script>".into());
        let mut inv = Inventory {
            today: Some(day("2026-12-01")),
            ..Inventory::default()
        };
        let mut a = account("111111111111", &["Workloads", "Prod"], 2, true);
        a.account_name = Some("payments & <prod>".into());
        let mut failed = account("222222222222", &["Sandbox"], 0, false);
        failed.error = Some("AccessDenied <arn:aws:iam::222222222222:role/x>".into());
        inv.accounts.insert(
            day("2026-11-30"),
            vec![account("111111111111", &["Workloads", "Prod"], 3, true)],
        );
        inv.accounts.insert(day("2026-12-01"), vec![a, failed]);
        inv.users.insert(
            day("2026-11-30"),
            vec![
                user("111111111111", "alice", 0, &[]),
                user("111111111111", "bob", 0, &[]),
                user("111111111111", "carol", 0, &[]),
            ],
        );
        inv.users.insert(
            day("2026-12-01"),
            vec![user("111111111111", "alice", 0, &[]), hostile],
        );
        inv.problems
            .push("users/dt=2026-12-01/x.json.gz line 2: <bad>".into());
        inv
    }

    #[test]
    fn hostile_names_tags_and_errors_are_text_never_markup() {
        let (html, _) = render(&inventory(), &Options::default()).unwrap();
        assert!(!html.contains("<script>alert"), "a tag value became markup");
        assert!(!html.contains("<b>bold</b>"), "a user name became markup");
        assert!(!html.contains("<prod>"));
        assert!(!html.contains("<arn:"));
        assert!(!html.contains("<bad>"));
        // The page has no script at all.
        assert!(!html.to_ascii_lowercase().contains("<script"));
        // Escaped, they are still there to read.
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{html}"
        );
        assert!(html.contains("eve&#60;b&#62;bold&#60;/b&#62;"));
        assert!(html.contains("payments &#38; &#60;prod&#62;"));
    }

    #[test]
    fn summary_change_and_runbook_links() {
        let inv = inventory();
        let (html, summary) = render(&inv, &Options::default()).unwrap();
        assert_eq!(summary.users, 2);
        assert_eq!(summary.previous, Some((day("2026-11-30"), 3)));
        assert_eq!((summary.new_users, summary.removed_users), (1, 2));
        assert_eq!((summary.accounts, summary.accounts_failed), (2, 1));
        assert_eq!(summary.risky_users, 1);
        assert!(html.contains("-1 since 2026-11-30 (3)"));
        assert!(html.contains(r#"<a href="runbooks/iam-user-created.md">runbook</a>"#));
        assert!(html.contains("no runbook base URL is set"));
        assert!(html.contains("Not measured"));

        let options = Options {
            runbook_base_url: Some("https://wiki.example/runbooks/".into()),
            coverage_gaps: Some(BTreeMap::from([(
                "111111111111".to_string(),
                vec!["eve<b>bold</b>".to_string()],
            )])),
            ..Options::default()
        };
        let (html, summary) = render(&inv, &options).unwrap();
        assert!(html.contains(
            r#"<a href="https://wiki.example/runbooks/iam-user-created.md">runbook</a>"#
        ));
        assert_eq!(summary.coverage_gaps, 1);
        assert!(
            html.contains("1 user in 1 account found by the daily sweep with no real-time finding")
        );
    }

    #[test]
    fn long_lists_stop_at_max_rows_and_say_how_many_more() {
        let mut inv = inventory();
        let today = day("2026-12-01");
        let mut users: Vec<UserRow> = (0..30)
            .map(|i| {
                user(
                    "111111111111",
                    &format!("u{i:02}"),
                    40 + i as u8,
                    &["access-key-unused"],
                )
            })
            .collect();
        users.push(user("111111111111", "alice", 0, &[]));
        inv.users.insert(today, users);
        let options = Options {
            max_rows: Some(10),
            ..Options::default()
        };
        let (html, summary) = render(&inv, &options).unwrap();
        assert_eq!((summary.risky_users, summary.new_users), (30, 30));
        assert!(html.contains("And 20 more, with lower scores, in the users table"));
        assert!(html.contains("And 20 more in the users table."));
        // The highest scores are the ones shown.
        assert!(html.contains("<code>u29</code>") && !html.contains("<code>u19</code>"));
    }

    #[test]
    fn the_first_day_compares_nothing() {
        let mut inv = inventory();
        inv.users.remove(&day("2026-11-30"));
        inv.accounts.remove(&day("2026-11-30"));
        let (html, summary) = render(&inv, &Options::default()).unwrap();
        assert_eq!((summary.new_users, summary.removed_users), (0, 0));
        assert_eq!(summary.previous, None);
        assert!(html.contains("No earlier day under the inventory root: nothing to compare yet."));
    }

    #[test]
    fn no_day_is_an_error() {
        let err = render(&Inventory::default(), &Options::default()).unwrap_err();
        assert!(matches!(err, ReportError::NoDays));
    }
}
