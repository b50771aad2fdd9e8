//! `iamwatch rules`: the rule catalog (real-time and inventory rules) and the scoring factors, as text for people and as JSON
//! for the tools that must agree with the core (the runbook checker, the CDK app's forwarding
//! rules through `cdk/lib/rules.json`, the tests).

use iamwatch_core::inventory::rules as inventory_rules;
use iamwatch_core::rules::{self, in_scope_event_names};
use iamwatch_core::score::FACTORS;
use serde_json::{json, Value};

/// How `iamwatch rules` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RulesFormat {
    Text,
    Json,
}

/// Every rule as the JSON objects of `iamwatch rules --format json`: the real-time rules
/// (`"kind": "event"`, fired by the CloudTrail calls of `event_names`, ended by those of
/// `resolving_events`), then the inventory's hygiene rules (`"kind": "inventory"`, fired by a
/// credential report row of `event_source`'s service: no call to forward, so both lists are
/// empty and an event-forwarding reader adds nothing for them).
pub fn rules_json() -> Value {
    let event = rules::metas().map(|m| {
        json!({
            "id": m.id,
            "kind": "event",
            "title": m.title,
            "base": m.base,
            "event_source": m.event_source,
            "event_names": m.watched_event_names(),
            "resolving_events": m.resolved_by,
            "types": m.types,
            "attack": m.attack,
        })
    });
    let hygiene = inventory_rules::metas().map(|m| {
        json!({
            "id": m.id,
            "kind": "inventory",
            "title": m.title,
            "base": m.base,
            "event_source": m.event_source,
            "event_names": m.event_names,
            "resolving_events": m.resolved_by,
            "types": m.types,
            "attack": m.attack,
        })
    });
    Value::Array(event.chain(hygiene).collect())
}

/// Every factor as the JSON objects of `iamwatch rules --factors --format json`.
pub fn factors_json() -> Value {
    Value::Array(
        FACTORS
            .iter()
            .map(|f| json!({"id": f.id, "delta": f.delta, "applies_when": f.applies_when}))
            .collect(),
    )
}

/// `iamwatch rules`.
pub fn print(
    event_names_only: bool,
    factors_only: bool,
    format: RulesFormat,
) -> anyhow::Result<()> {
    if event_names_only {
        println!("{}", serde_json::to_string_pretty(&in_scope_event_names())?);
        return Ok(());
    }
    if format == RulesFormat::Json {
        let v = if factors_only {
            factors_json()
        } else {
            rules_json()
        };
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    if !factors_only {
        println!("RULES (score = base + factors, clamped to 0..100)");
        for m in rules::metas() {
            println!(
                "  {:<42} base {:>2}  on {}",
                m.id,
                m.base,
                m.watched_event_names().join(", ")
            );
        }
        println!();
        println!("INVENTORY RULES (on credential report rows: `iamwatch inventory check`)");
        for m in inventory_rules::metas() {
            println!("  {:<42} base {:>2}  {}", m.id, m.base, m.title);
        }
        println!();
    }
    println!("FACTORS");
    for f in FACTORS.iter() {
        println!("  {:<20} {:>+4}  {}", f.id, f.delta, f.applies_when);
    }
    if !factors_only {
        println!("\nLABELS  0 INFORMATIONAL, 1-39 LOW, 40-69 MEDIUM, 70-89 HIGH, 90-100 CRITICAL");
    }
    Ok(())
}
