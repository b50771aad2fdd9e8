//! From a detection to an ASFF finding: identity, severity, explanation, resources, links.

use crate::enrich::Enrichment;
use crate::finding::*;
use crate::record::{CloudTrailRecord, IdentityType};
use crate::rules::Detection;
use crate::score::Score;
use crate::time;
use std::collections::BTreeMap;

/// Where findings are filed and what they link to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingContext {
    /// Security Hub region (IAM's events arrive in us-east-1).
    pub region: String,
    pub partition: String,
    /// Base URL of the runbooks; `<base>/<rule-id>.md` is each rule's runbook.
    pub runbook_base_url: String,
}

/// Default base URL of the runbooks.
pub const DEFAULT_RUNBOOK_BASE_URL: &str =
    "https://github.com/iamwatch/iamwatch/blob/main/runbooks";

impl Default for FindingContext {
    fn default() -> Self {
        FindingContext {
            region: "us-east-1".to_string(),
            partition: "aws".to_string(),
            runbook_base_url: DEFAULT_RUNBOOK_BASE_URL.to_string(),
        }
    }
}

impl FindingContext {
    /// The runbook URL of a rule.
    pub fn runbook_url(&self, rule_id: &str) -> String {
        format!(
            "{}/{rule_id}.md",
            self.runbook_base_url.trim_end_matches('/')
        )
    }
}

/// The finding id: `iamwatch/<account>/<rule-id>/<subject>`, at most 512 characters (a longer
/// subject is cut and a hash of the whole id keeps it unique and deterministic).
pub fn finding_id(account: &str, rule_id: &str, subject: &str) -> String {
    let id = format!("iamwatch/{account}/{rule_id}/{subject}");
    if id.len() <= MAX_ID {
        return id;
    }
    let hash = fnv1a(id.as_bytes());
    let mut cut = MAX_ID - 17;
    while !id.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}#{hash:016x}", &id[..cut])
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Builds the finding of a scored detection.
pub fn build_finding(
    d: &Detection,
    r: &CloudTrailRecord,
    score: &Score,
    e: &Enrichment,
    ctx: &FindingContext,
) -> Finding {
    let account = r.account_id().to_string();
    let rule = d.rule;
    let actor = r.actor();
    let when = time::normalize(&r.event_time);
    let runbook = ctx.runbook_url(rule.id);
    let account_info = e.account.as_ref();
    let account_name = account_info.and_then(|a| a.name.clone());
    let ou_path = account_info
        .map(|a| a.ou_path.join("/"))
        .filter(|p| !p.is_empty());

    let where_ = match (&account_name, &ou_path) {
        (Some(n), Some(ou)) => format!("account {n} ({account}, OU {ou})"),
        (Some(n), None) => format!("account {n} ({account})"),
        (None, Some(ou)) => format!("account {account} (OU {ou})"),
        (None, None) => format!("account {account}"),
    };
    let mut description = format!(
        "{actor} {} in {where_} at {}. Score {}: {}.",
        d.summary,
        r.event_time,
        score.value,
        score.explain()
    );
    if !e.gaps.is_empty() {
        description.push_str(&format!(" Not enriched: {}.", e.gaps.join("; ")));
    }
    description.push_str(&format!(" Runbook: {runbook}"));

    let mut pf = BTreeMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            pf.insert(k.to_string(), truncate(&v, 2048));
        }
    };
    put(fields::RULE_ID, Some(rule.id.to_string()));
    put(fields::SCORE, Some(score.value.to_string()));
    put(fields::FACTORS, Some(score.factor_ids()));
    put(fields::EVENT_ID, r.event_id.clone());
    put(fields::EVENT_NAME, Some(r.event_name.clone()));
    put(fields::ACTOR, Some(actor.clone()));
    put(fields::USER, d.user.clone());
    put(fields::ACCESS_KEY_ID, d.access_key_id.clone());
    put(fields::GRANT, d.grant.clone());
    put(fields::ACCOUNT_NAME, account_name.clone());
    put(fields::OU_PATH, ou_path.clone());
    put(
        fields::ENRICHMENT,
        Some(if e.gaps.is_empty() {
            "complete".to_string()
        } else {
            format!("partial: {}", e.gaps.join("; "))
        }),
    );

    Finding {
        schema_version: SCHEMA_VERSION.to_string(),
        id: finding_id(&account, rule.id, &d.subject),
        product_arn: format!(
            "arn:{}:securityhub:{}:{account}:product/{account}/default",
            ctx.partition, ctx.region
        ),
        generator_id: format!("iamwatch/{}", rule.id),
        aws_account_id: account.clone(),
        aws_account_name: account_name,
        types: rule.types.iter().map(|t| t.to_string()).collect(),
        first_observed_at: when.clone(),
        last_observed_at: when.clone(),
        created_at: when.clone(),
        updated_at: when.clone(),
        severity: Severity {
            label: score.label,
            original: score.value.to_string(),
        },
        title: truncate(&format!("{}: {}", rule.title, d.subject), MAX_TITLE),
        description: truncate(&description, MAX_DESCRIPTION),
        remediation: Remediation {
            recommendation: Recommendation {
                text: truncate(rule.recommendation, MAX_RECOMMENDATION_TEXT),
                url: runbook,
            },
        },
        product_fields: pf,
        resources: resources(d, r, e, ctx, &account),
        action: Some(Action {
            action_type: "AWS_API_CALL".to_string(),
            aws_api_call_action: AwsApiCallAction {
                api: r.event_name.clone(),
                service_name: r.event_source.clone(),
                caller_type: if r
                    .source_ip_address
                    .as_deref()
                    .and_then(crate::net::parse_ip)
                    .is_some()
                {
                    "remoteip".to_string()
                } else {
                    "domain".to_string()
                },
                first_seen: when.clone(),
                last_seen: when,
                remote_ip_details: r
                    .source_ip_address
                    .as_deref()
                    .and_then(crate::net::parse_ip)
                    .filter(|ip| ip.is_ipv4())
                    .map(|ip| RemoteIpDetails {
                        ip_address_v4: ip.to_string(),
                    }),
            },
        }),
        record_state: RecordState::Active,
    }
}

fn resources(
    d: &Detection,
    r: &CloudTrailRecord,
    e: &Enrichment,
    ctx: &FindingContext,
    account: &str,
) -> Vec<Resource> {
    let mut out = Vec::new();
    let resource = |kind: &str, id: String, details: Option<ResourceDetails>| Resource {
        kind: kind.to_string(),
        id,
        partition: ctx.partition.clone(),
        region: ctx.region.clone(),
        details,
    };
    let root = d.user.as_deref() == Some("root")
        || (d.user.is_none() && r.identity_type() == IdentityType::Root);
    match d.user.as_deref() {
        Some(user) if !root => {
            let known = e.target_user.as_ref().filter(|u| u.user_name == user);
            let arn = known
                .and_then(|u| u.arn.clone())
                .or_else(|| {
                    (r.response("/user/userName") == Some(user))
                        .then(|| r.response("/user/arn").map(str::to_string))
                        .flatten()
                })
                .unwrap_or_else(|| format!("arn:{}:iam::{account}:user/{user}", ctx.partition));
            let user_id = known.and_then(|u| u.user_id.clone()).or_else(|| {
                (r.response("/user/userName") == Some(user))
                    .then(|| r.response("/user/userId").map(str::to_string))
                    .flatten()
            });
            out.push(resource(
                "AwsIamUser",
                arn,
                Some(ResourceDetails {
                    aws_iam_user: Some(AwsIamUserDetails {
                        user_name: user.to_string(),
                        user_id,
                        create_date: known.and_then(|u| u.created.clone()),
                    }),
                    aws_iam_access_key: None,
                }),
            ));
        }
        _ if root => out.push(resource(
            "Other",
            format!("arn:{}:iam::{account}:root", ctx.partition),
            None,
        )),
        _ => {}
    }
    if let Some(key) = &d.access_key_id {
        let key_status = if r.event_name == "CreateAccessKey" || r.param("status").is_some() {
            Some(r.param("status").unwrap_or("Active").to_string())
        } else {
            None
        };
        out.push(resource(
            "AwsIamAccessKey",
            key.clone(),
            Some(ResourceDetails {
                aws_iam_user: None,
                aws_iam_access_key: Some(AwsIamAccessKeyDetails {
                    status: key_status,
                    created_at: (r.event_name == "CreateAccessKey")
                        .then(|| time::normalize(&r.event_time)),
                    principal_name: d.user.clone(),
                    principal_type: Some(if root { "Root" } else { "IAMUser" }.to_string()),
                    account_id: Some(account.to_string()),
                }),
            }),
        ));
    }
    if out.is_empty() {
        // A denied call with no target user: the caller is the resource.
        out.push(resource("Other", r.actor(), None));
    }
    out
}
