//! [`SlackNotifier`]: a Slack message per finding through an incoming webhook, in Block Kit
//! (a header with severity and title, what happened, the facts as fields: account and OU,
//! actor, score and why; then the runbook and ticket links, then the runbook's first triage
//! steps and containment command), with a plain `text` fallback for notifications and clients
//! without blocks.

use crate::content;
use crate::http::{self, RetryPolicy};
use crate::secret::SlackWebhook;
use crate::NotifyError;
use iamwatch_core::finding::truncate;
use iamwatch_core::finding_event::FindingEvent;
use iamwatch_core::ports::{Notifier, PortError, TicketRef};
use serde_json::{json, Value};

/// Block Kit limits: header text, section text, field text.
const MAX_HEADER: usize = 150;
const MAX_SECTION: usize = 3000;
const MAX_FIELD: usize = 2000;

/// Posts findings to one Slack channel through its incoming webhook.
#[derive(Debug, Clone)]
pub struct SlackNotifier {
    client: reqwest::Client,
    webhook: SlackWebhook,
    retry: RetryPolicy,
}

impl SlackNotifier {
    /// Validates the webhook URL and builds the client. Errors never show the URL.
    pub fn new(webhook: SlackWebhook, retry: RetryPolicy) -> Result<SlackNotifier, NotifyError> {
        let ok = reqwest::Url::parse(webhook.webhook_url.trim())
            .map(|u| matches!(u.scheme(), "https" | "http") && u.host_str().is_some())
            .unwrap_or(false);
        if !ok {
            return Err(NotifyError::Config {
                what: "Slack webhook URL",
                message: "is not an http(s) URL".to_string(),
            });
        }
        Ok(SlackNotifier {
            client: crate::client()?,
            webhook,
            retry,
        })
    }
}

impl SlackNotifier {
    /// Posts one plain line (a summary, not a finding), cut to a section's limit. The text is
    /// sent as given, so a caller may write links as `<url|label>` and escapes the rest.
    pub async fn post_text(&self, text: &str) -> Result<(), PortError> {
        let body = json!({"text": truncate(text, MAX_SECTION)});
        let url = self.webhook.webhook_url.trim();
        http::send(&self.retry, "slack:incoming webhook", || {
            self.client.post(url).json(&body)
        })
        .await?;
        tracing::info!("posted a summary to Slack");
        Ok(())
    }
}

impl Notifier for SlackNotifier {
    async fn notify(
        &self,
        event: &FindingEvent,
        ticket: Option<&TicketRef>,
    ) -> Result<(), PortError> {
        let body = message(event, ticket);
        let url = self.webhook.webhook_url.trim();
        http::send(&self.retry, "slack:incoming webhook", || {
            self.client.post(url).json(&body)
        })
        .await?;
        tracing::info!(finding_id = %event.finding_id, "posted to Slack");
        Ok(())
    }
}

/// Escapes the three characters Slack's mrkdwn treats as control characters.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A link in mrkdwn: `<url|label>`. `|` and `>` cannot appear inside, so they are escaped.
fn link(url: &str, label: &str) -> String {
    let url = url
        .replace('|', "%7C")
        .replace('>', "%3E")
        .replace(' ', "%20");
    format!("<{url}|{}>", esc(label).replace('|', "/"))
}

/// A mrkdwn text object, `verbatim` so that Slack links and mentions nothing by itself (a user
/// named `@channel` stays text); our own links are written as `<url|label>`.
fn mrkdwn(text: String) -> Value {
    json!({"type": "mrkdwn", "text": text, "verbatim": true})
}

fn mrkdwn_field(name: &str, value: &str) -> Value {
    mrkdwn(truncate(&format!("*{name}*\n{value}"), MAX_FIELD))
}

/// The runbook's first triage steps, numbered, and its containment command in a code block,
/// within a section's limit (the command is cut first, its block stays closed); `None` when the
/// rule has no runbook.
fn first_steps(rule_id: &str) -> Option<String> {
    content::essentials(rule_id).map(first_steps_text)
}

fn first_steps_text(essentials: content::Essentials) -> String {
    let mut text = String::from("*First steps*");
    for (n, step) in essentials.triage.iter().enumerate() {
        let step = content::one_line(step);
        if !step.is_empty() {
            text.push_str(&format!("\n{}. {}", n + 1, esc(&step)));
        }
    }
    let text = truncate(&text, MAX_SECTION);
    let command = esc(&content::code_block(&essentials.command.join("\n")));
    // What the fence and its line breaks take: "\n```\n" and "\n```".
    let room = MAX_SECTION.saturating_sub(text.len() + 9);
    if command.trim().is_empty() || room < 16 {
        return text;
    }
    format!("{text}\n```\n{}\n```", truncate(&command, room))
}

/// The webhook payload: Block Kit blocks and the `text` fallback.
pub(crate) fn message(event: &FindingEvent, ticket: Option<&TicketRef>) -> Value {
    let label = event.label.as_str();
    let title = content::one_line(&event.finding.title);
    let header = truncate(&format!("{label} {}: {title}", event.score), MAX_HEADER);

    let mut fields = vec![
        mrkdwn_field("Account", &esc(&content::account(event))),
        mrkdwn_field("OU", &esc(&content::ou_path(event))),
        mrkdwn_field("Actor", &format!("`{}`", esc(content::actor(event)))),
    ];
    if let Some(target) = event.target.as_deref().filter(|t| !t.is_empty()) {
        fields.push(mrkdwn_field("Target", &format!("`{}`", esc(target))));
    }
    fields.push(mrkdwn_field("Score", &esc(&content::score(event))));
    fields.push(mrkdwn_field("Why", &esc(&content::factors(event))));

    let mut links = Vec::new();
    if event.runbook_url.is_empty() {
        links.push(format!(
            "*Runbook:* `{}` ({})",
            esc(&content::runbook_path(&event.rule_id)),
            content::NO_RUNBOOK_BASE_URL
        ));
    } else {
        links.push(format!(
            "*Runbook:* {}",
            link(&event.runbook_url, &event.rule_id)
        ));
    }
    if let Some(t) = ticket {
        links.push(format!("*Ticket:* {}", link(&t.url, &t.key)));
    }
    for (label, url) in content::console_links(event) {
        links.push(format!("*{label}:* {}", link(&url, "open in the console")));
    }

    let mut blocks = vec![json!(
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": false}}
    )];
    // Slack rejects a section with empty text (invalid_blocks): no description, no section.
    let description = content::text_block(&event.finding.description);
    if !description.trim().is_empty() {
        blocks.push(json!({"type": "section",
            "text": mrkdwn(truncate(&esc(&description), MAX_SECTION))}));
    }
    blocks.push(json!({"type": "section", "fields": fields}));
    if !links.is_empty() {
        blocks.push(json!({"type": "section",
            "text": mrkdwn(truncate(&links.join("   "), MAX_SECTION))}));
    }
    if let Some(steps) = first_steps(&event.rule_id) {
        blocks.push(json!({"type": "section", "text": mrkdwn(steps)}));
    }
    blocks.push(json!({"type": "context", "elements": [
        mrkdwn(truncate(&format!("iamwatch finding `{}`", esc(&content::one_line(&event.finding_id))), MAX_FIELD))
    ]}));

    let mut fallback = format!(
        "[{label} {}] {title} in {} by {}",
        event.score,
        content::account(event),
        content::actor(event)
    );
    if let Some(t) = ticket {
        fallback.push_str(&format!(" ({})", t.key));
    }
    json!({"text": truncate(&esc(&content::one_line(&fallback)), MAX_SECTION), "blocks": blocks})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mrkdwn_is_escaped() {
        assert_eq!(esc("a<b>&c"), "a&lt;b&gt;&amp;c");
        assert_eq!(
            link("https://x/y?a|b", "r<1>"),
            "<https://x/y?a%7Cb|r&lt;1&gt;>"
        );
    }

    #[test]
    fn webhook_url_is_validated_without_showing_it() {
        let err = SlackNotifier::new(
            SlackWebhook {
                webhook_url: "hooks.slack.com/services/SECRET".into(),
            },
            RetryPolicy::default(),
        )
        .unwrap_err();
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }

    fn texts(v: &Value, out: &mut Vec<Value>) {
        match v {
            Value::Object(m) => {
                if m.get("type") == Some(&json!("mrkdwn")) {
                    out.push(v.clone());
                }
                m.values().for_each(|x| texts(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| texts(x, out)),
            _ => {}
        }
    }

    #[test]
    fn the_message_carries_the_runbooks_first_steps_and_command() {
        let event = crate::content::tests::hostile_event();
        let essentials = content::essentials(&event.rule_id).expect("a rule runbook");
        let msg = message(&event, None);
        let blocks = msg["blocks"].as_array().unwrap();
        let section = blocks
            .iter()
            .find(|b| {
                b["text"]["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("*First steps*"))
            })
            .expect("a First steps section");
        assert_eq!(section["type"], "section");
        assert_eq!(section["text"]["verbatim"], json!(true));
        let text = section["text"]["text"].as_str().unwrap();
        assert!(text.len() <= MAX_SECTION);
        for (n, step) in essentials.triage.iter().enumerate() {
            let line = format!("\n{}. {}\n", n + 1, esc(step));
            assert!(text.contains(&line), "{line:?} not in {text}");
        }
        let command = esc(&essentials.command.join("\n"));
        assert!(text.ends_with(&format!("\n```\n{command}\n```")), "{text}");
        assert!(command.starts_with("aws "), "{command}");
    }

    #[test]
    fn first_steps_stay_within_a_section_and_keep_the_code_block_closed() {
        for id in crate::content::tests::rule_ids() {
            let text = first_steps(id).unwrap();
            assert!(text.len() <= MAX_SECTION, "{id}");
            let fences = if content::essentials(id).unwrap().command.is_empty() {
                0
            } else {
                2
            };
            assert_eq!(text.matches("```").count(), fences, "{id}: {text}");
        }
        assert_eq!(first_steps("no-such-rule"), None);
        // A command too long for a section is cut; its code block still closes.
        let step: &'static str = Box::leak("check <this> & that ".repeat(20).into_boxed_str());
        let line: &'static str = Box::leak("aws iam x --y z ".repeat(400).into_boxed_str());
        let triage: &'static [&'static str] = Box::leak(vec![step; 3].into_boxed_slice());
        let command: &'static [&'static str] = Box::leak(vec![line].into_boxed_slice());
        let text = first_steps_text(content::Essentials { triage, command });
        assert!(text.len() <= MAX_SECTION, "{}", text.len());
        assert!(text.len() > MAX_SECTION - 20, "{}", text.len());
        assert!(text.starts_with("*First steps*\n1. check &lt;this&gt; &amp; that"));
        assert!(text.ends_with("...\n```"), "{text}");
        assert_eq!(text.matches("```").count(), 2);
    }

    #[test]
    fn without_a_runbook_base_url_the_message_gives_the_runbook_path() {
        let mut event = crate::content::tests::hostile_event();
        event.runbook_url = String::new();
        let msg = message(&event, None);
        let links = msg["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|b| b["text"]["text"].as_str())
            .find(|t| t.starts_with("*Runbook:*"))
            .expect("a runbook line");
        assert!(
            links.starts_with(&format!(
                "*Runbook:* `runbooks/{}.md` (no runbook base URL is set)   ",
                event.rule_id
            )),
            "{links}"
        );
        assert!(!links.contains(".md|"), "no link to a runbook: {links}");
    }

    #[test]
    fn hostile_text_is_one_line_verbatim_and_no_section_is_empty() {
        let msg = message(&crate::content::tests::hostile_event(), None);
        let header = msg["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(
            !header
                .chars()
                .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{202e}'),
            "{header:?}"
        );
        let mut mrkdwn = Vec::new();
        texts(&msg, &mut mrkdwn);
        assert!(!mrkdwn.is_empty());
        for t in &mrkdwn {
            assert_eq!(t["verbatim"], json!(true), "{t}");
            assert!(!t["text"].as_str().unwrap().trim().is_empty(), "{t}");
        }
        for b in msg["blocks"].as_array().unwrap() {
            if b["type"] == "section" && b.get("text").is_some() {
                assert!(
                    !b["text"]["text"].as_str().unwrap().trim().is_empty(),
                    "{b}"
                );
            }
        }
        let fallback = msg["text"].as_str().unwrap();
        assert!(!fallback.chars().any(|c| c.is_control()), "{fallback:?}");
    }

    /// The message links the finding in Security Hub, as `iamwatch_core::links` makes it.
    #[test]
    fn the_message_links_the_finding_in_security_hub() {
        let event = crate::content::tests::hostile_event();
        let msg = message(&event, None).to_string();
        let url = iamwatch_core::links::securityhub_finding("aws", "us-east-1", &event.finding_id);
        assert!(msg.contains(&url.replace('|', "%7C")), "{msg}");
    }
}
