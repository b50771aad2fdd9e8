//! From a detection to an ASFF finding: identity, severity, explanation, resources, links.

use crate::enrich::Enrichment;
use crate::finding::*;
use crate::observation::{ApiCall, Observation};
use crate::record::IdentityType;
use crate::rules::Detection;
use crate::score::Score;
use crate::subject::Subject;
use crate::time;
use std::collections::BTreeMap;

/// Where findings are filed and what they link to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingContext {
    /// Security Hub region (IAM's events arrive in us-east-1).
    pub region: String,
    pub partition: String,
    /// Base URL of the runbooks as the operator serves them; `<base>/<rule-id>.md` is each
    /// rule's runbook. `None`: findings name the runbook's path in the project instead, and say
    /// that no base URL is set (no link is made up).
    pub runbook_base_url: Option<String>,
}

impl Default for FindingContext {
    fn default() -> Self {
        FindingContext {
            region: "us-east-1".to_string(),
            partition: "aws".to_string(),
            runbook_base_url: None,
        }
    }
}

/// The partition of a region (`aws`, `aws-us-gov`, `aws-cn`).
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

impl FindingContext {
    /// Findings filed in `region` (its partition's), linking to runbooks under
    /// `runbook_base_url`.
    pub fn for_region(region: &str, runbook_base_url: Option<String>) -> FindingContext {
        FindingContext {
            region: region.to_string(),
            partition: partition_of(region).to_string(),
            runbook_base_url,
        }
    }

    /// The runbook URL of a rule, when a base URL is set.
    pub fn runbook_url(&self, rule_id: &str) -> Option<String> {
        crate::links::runbook_url(self.runbook_base_url.as_deref(), rule_id)
    }

    /// How a finding points to its rule's runbook: the URL, or the path in the project and why.
    pub fn runbook_reference(&self, rule_id: &str) -> String {
        match self.runbook_url(rule_id) {
            Some(url) => url,
            None => format!(
                "{} (no runbook base URL is set)",
                crate::links::runbook_path(rule_id)
            ),
        }
    }
}

/// The finding id: `iamwatch/<account>/<rule-id>/<subject>`, at most 512 characters (a longer
/// subject is cut and a hash of the whole id keeps it unique and deterministic).
pub fn finding_id(account: &str, rule_id: &str, subject: &str) -> String {
    FindingId {
        account,
        rule: rule_id,
        subject,
    }
    .to_string()
}

/// Builds the finding of a scored detection.
pub fn build_finding(
    d: &Detection,
    o: &dyn Observation,
    score: &Score,
    e: &Enrichment,
    ctx: &FindingContext,
) -> Finding {
    let account = o.account_id().to_string();
    let rule = d.rule;
    let actor = o.actor();
    let observed_at = o.observed_at();
    let when = time::normalize(observed_at);
    let runbook = ctx.runbook_url(rule.id);
    let runbook_reference = ctx.runbook_reference(rule.id);
    let account_info = e.account.as_ref();
    let account_name = account_info.and_then(|a| a.name.clone());
    let ou_path = account_info
        .map(|a| a.ou_path.join("/"))
        .filter(|p| !p.is_empty());
    let call = o.api_call();
    let subject_key = d.subject.key();

    let where_ = match (&account_name, &ou_path) {
        (Some(n), Some(ou)) => format!("account {n} ({account}, OU {ou})"),
        (Some(n), None) => format!("account {n} ({account})"),
        (None, Some(ou)) => format!("account {account} (OU {ou})"),
        (None, None) => format!("account {account}"),
    };
    let mut description = format!(
        "{actor} {} in {where_} at {observed_at}. Score {}: {}.",
        d.summary,
        score.value,
        score.explain()
    );
    if !e.gaps.is_empty() {
        description.push_str(&format!(" Not enriched: {}.", e.gaps.join("; ")));
    }
    description.push_str(&format!(" Runbook: {runbook_reference}"));

    let mut pf = BTreeMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            pf.insert(k.to_string(), truncate(&v, 2048));
        }
    };
    put(fields::RULE_ID, Some(rule.id.to_string()));
    put(fields::SCORE, Some(score.value.to_string()));
    put(fields::FACTORS, Some(score.factor_ids()));
    put(
        fields::EVENT_ID,
        call.as_ref().and_then(|c| c.event_id.map(str::to_string)),
    );
    put(
        fields::EVENT_NAME,
        call.as_ref().map(|c| c.event_name.to_string()),
    );
    put(fields::ACTOR, Some(actor.clone()));
    put(fields::USER, d.subject.user().map(str::to_string));
    put(
        fields::ACCESS_KEY_ID,
        d.subject.access_key_id().map(str::to_string),
    );
    put(fields::GRANT, d.subject.grant().map(|g| g.to_string()));
    put(fields::ROLE, d.subject.role().map(str::to_string));
    put(fields::GROUP, d.subject.group().map(str::to_string));
    put(fields::POLICY, d.subject.policy().map(str::to_string));
    put(
        fields::PROVIDER,
        d.subject.identity_provider().map(str::to_string),
    );
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
        id: FindingId {
            account: &account,
            rule: rule.id,
            subject: &subject_key,
        }
        .to_string(),
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
        title: truncate(&format!("{}: {}", rule.title, subject_key), MAX_TITLE),
        description: truncate(&description, MAX_DESCRIPTION),
        remediation: Remediation {
            recommendation: Recommendation {
                text: truncate(rule.recommendation, MAX_RECOMMENDATION_TEXT),
                url: runbook,
            },
        },
        product_fields: pf,
        resources: resources(d, o, e, ctx, &account),
        action: call.map(|c| action(&c, &when)),
        record_state: RecordState::Active,
    }
}

/// ASFF's `Action` of an API call.
fn action(c: &ApiCall, when: &str) -> Action {
    let ip = c.source_ip.and_then(crate::net::parse_ip);
    Action {
        action_type: "AWS_API_CALL".to_string(),
        aws_api_call_action: AwsApiCallAction {
            api: c.event_name.to_string(),
            service_name: c.event_source.to_string(),
            caller_type: if ip.is_some() { "remoteip" } else { "domain" }.to_string(),
            first_seen: when.to_string(),
            last_seen: when.to_string(),
            remote_ip_details: ip.filter(|ip| ip.is_ipv4()).map(|ip| RemoteIpDetails {
                ip_address_v4: ip.to_string(),
            }),
        },
    }
}

fn resources(
    d: &Detection,
    o: &dyn Observation,
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
    let subject_user = d.subject.user();
    let caller_is_root = o.caller().is_some_and(|c| c.kind == IdentityType::Root);
    let root = subject_user == Some("root") || (subject_user.is_none() && caller_is_root);
    let facts = o.resource_facts(&d.subject);
    match subject_user {
        Some(user) if !root => {
            let known = e.target_user.as_ref().filter(|u| u.user_name == user);
            let arn = known
                .and_then(|u| u.arn.clone())
                .or_else(|| facts.user_arn.clone())
                .unwrap_or_else(|| format!("arn:{}:iam::{account}:user/{user}", ctx.partition));
            let user_id = known
                .and_then(|u| u.user_id.clone())
                .or_else(|| facts.user_id.clone());
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
    if let Some(key) = d.subject.access_key_id() {
        out.push(resource(
            "AwsIamAccessKey",
            key.to_string(),
            Some(ResourceDetails {
                aws_iam_user: None,
                aws_iam_access_key: Some(AwsIamAccessKeyDetails {
                    status: facts.key_status.clone(),
                    created_at: facts.key_created_at.clone(),
                    principal_name: subject_user.map(str::to_string),
                    principal_type: Some(if root { "Root" } else { "IAMUser" }.to_string()),
                    account_id: Some(account.to_string()),
                }),
            }),
        ));
    }
    let arn =
        |kind: &str, name: &str| format!("arn:{}:iam::{account}:{kind}/{name}", ctx.partition);
    if let Some(role) = d.subject.role() {
        out.push(resource("AwsIamRole", arn("role", role), None));
    }
    if let Some(group) = d.subject.group() {
        out.push(resource("AwsIamGroup", arn("group", group), None));
    }
    match &d.subject {
        Subject::Policy(policy_arn) => out.push(resource("AwsIamPolicy", policy_arn.clone(), None)),
        Subject::IdentityProvider(p) | Subject::Credential { id: p, .. } => {
            out.push(resource("Other", p.clone(), None))
        }
        Subject::Account(id) => {
            out.push(resource("AwsAccount", format!("AWS::::Account:{id}"), None))
        }
        _ => {}
    }
    if out.is_empty() {
        // A denied call with no target user: the caller is the resource.
        out.push(resource("Other", o.actor(), None));
    }
    out
}
