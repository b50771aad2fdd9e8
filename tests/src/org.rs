//! [`TestOrg`]: an AWS Organization in moto, shaped like the one iamwatch watches.
//!
//! - management account [`crate::moto::DEFAULT_ACCOUNT`] (plain credentials), organization
//!   with OUs `Prod`, `Sandbox` and `Security` under the root;
//! - accounts `security` (OU Security: bus, queues, the detect function's credentials),
//!   `payments-prod` (OU Prod, tagged `env=prod`) and `dev-sandbox` (OU Sandbox);
//! - in the security account: bus `iamwatch`, queue `iamwatch-events` (rule `iam-events`:
//!   sources `aws.iam` and `aws.signin` with their detail-types); bus `iamwatch-findings` (the
//!   detect function's finding events, as in the CDK app) with the standard queue
//!   `iamwatch-tickets` (rule `urgent-findings`: source `iamwatch`, `recordState` ACTIVE or
//!   ARCHIVED, `score >= 70`) and queue `iamwatch-findings` (rule `all-findings`: every
//!   finding event);
//! - in every account: the member role `iamwatch-member`; in the management account the
//!   role `iamwatch-org-reader`.
//!
//! Calls under a role assumed into an account land in that account (moto 5), so each account
//! has its own IAM users, Security Hub findings and queues.

use crate::moto::{assume, management_credentials, sdk_config};
use crate::HarnessError;
use aws_config::SdkConfig;
use aws_sdk_eventbridge::types::Target;
use aws_sdk_organizations::types::OrganizationFeatureSet;
use aws_sdk_sqs::types::QueueAttributeName;

pub const MEMBER_ROLE: &str = "iamwatch-member";
pub const ORG_READER_ROLE: &str = "iamwatch-org-reader";
pub const BUS: &str = "iamwatch";
/// The bus of finding events (only the detect function puts there).
pub const FINDINGS_BUS: &str = "iamwatch-findings";
pub const EVENTS_QUEUE: &str = "iamwatch-events";
pub const TICKETS_QUEUE: &str = "iamwatch-tickets";
/// The tickets queue's dead-letter queue, where the ticket function sends poison messages.
pub const TICKETS_DLQ: &str = "iamwatch-tickets-dlq";
/// The ticket ledger table (keys `findingId` S, `episode` N), as the CDK app makes it.
pub const LEDGER_TABLE: &str = "iamwatch-ticket-ledger";
pub const FINDINGS_QUEUE: &str = "iamwatch-findings";
/// Score threshold of the ticket rule (`ticket_min_severity = "HIGH"`).
pub const TICKET_MIN_SCORE: u8 = 70;

/// One account of the test organization.
#[derive(Clone)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub ou: String,
    /// Administrator credentials in the account (OrganizationAccountAccessRole).
    pub sdk: SdkConfig,
}

/// The organization, its accounts and the security account's plumbing.
pub struct TestOrg {
    pub endpoint: String,
    pub management: SdkConfig,
    pub security: Account,
    pub prod: Account,
    pub sandbox: Account,
    pub events_queue_url: String,
    pub tickets_queue_url: String,
    pub findings_queue_url: String,
    pub tickets_dlq_url: String,
}

fn err(context: &str) -> impl Fn(String) -> HarnessError + '_ {
    move |e| HarnessError::aws(context, e)
}

macro_rules! call {
    ($ctx:expr, $fut:expr) => {
        $fut.await
            .map_err(|e| HarnessError::aws($ctx, aws_sdk_sts::error::DisplayErrorContext(e)))?
    };
}

impl TestOrg {
    /// Creates the organization in the moto at `endpoint`.
    pub async fn create(endpoint: &str) -> Result<TestOrg, HarnessError> {
        let management = sdk_config(endpoint, management_credentials()).await;
        let org = aws_sdk_organizations::Client::new(&management);
        call!(
            "CreateOrganization",
            org.create_organization()
                .feature_set(OrganizationFeatureSet::All)
                .send()
        );
        let roots = call!("ListRoots", org.list_roots().send());
        let root = roots
            .roots()
            .first()
            .and_then(|r| r.id())
            .ok_or_else(|| err("ListRoots")("no root".into()))?
            .to_string();
        let mut accounts = Vec::new();
        for (name, ou) in [
            ("security", "Security"),
            ("payments-prod", "Prod"),
            ("dev-sandbox", "Sandbox"),
        ] {
            let ou_out = call!(
                "CreateOrganizationalUnit",
                org.create_organizational_unit()
                    .parent_id(&root)
                    .name(ou)
                    .send()
            );
            let ou_id = ou_out
                .organizational_unit()
                .and_then(|o| o.id())
                .unwrap_or_default()
                .to_string();
            let created = call!(
                "CreateAccount",
                org.create_account()
                    .email(format!("{name}@example.com"))
                    .account_name(name)
                    .send()
            );
            let id = created
                .create_account_status()
                .and_then(|s| s.account_id())
                .ok_or_else(|| err("CreateAccount")(format!("no account id for {name}")))?
                .to_string();
            call!(
                "MoveAccount",
                org.move_account()
                    .account_id(&id)
                    .source_parent_id(&root)
                    .destination_parent_id(&ou_id)
                    .send()
            );
            if ou == "Prod" {
                call!(
                    "TagResource",
                    org.tag_resource()
                        .resource_id(&id)
                        .tags(
                            aws_sdk_organizations::types::Tag::builder()
                                .key("env")
                                .value("prod")
                                .build()
                                .map_err(|e| err("Tag")(e.to_string()))?,
                        )
                        .send()
                );
            }
            let sdk = assume(
                &management,
                &format!("arn:aws:iam::{id}:role/OrganizationAccountAccessRole"),
            )
            .await?;
            let iam = aws_sdk_iam::Client::new(&sdk);
            call!(
                "CreateRole iamwatch-member",
                iam.create_role()
                    .role_name(MEMBER_ROLE)
                    .assume_role_policy_document(trust_policy())
                    .send()
            );
            accounts.push(Account {
                id,
                name: name.to_string(),
                ou: ou.to_string(),
                sdk,
            });
        }
        call!(
            "CreateRole iamwatch-org-reader",
            aws_sdk_iam::Client::new(&management)
                .create_role()
                .role_name(ORG_READER_ROLE)
                .assume_role_policy_document(trust_policy())
                .send()
        );
        let sandbox = accounts
            .pop()
            .ok_or_else(|| err("accounts")("missing".into()))?;
        let prod = accounts
            .pop()
            .ok_or_else(|| err("accounts")("missing".into()))?;
        let security = accounts
            .pop()
            .ok_or_else(|| err("accounts")("missing".into()))?;
        let (events_queue_url, tickets_queue_url, findings_queue_url) =
            plumbing(&security.sdk).await?;
        let tickets_dlq_url = ticketing(&security.sdk).await?;
        Ok(TestOrg {
            endpoint: endpoint.to_string(),
            management,
            security,
            prod,
            sandbox,
            events_queue_url,
            tickets_queue_url,
            findings_queue_url,
            tickets_dlq_url,
        })
    }

    /// The org reader role's ARN (for `IAMWATCH_ORG_ROLE_ARN`).
    pub fn org_role_arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:role/{ORG_READER_ROLE}",
            crate::moto::DEFAULT_ACCOUNT
        )
    }

    /// The member accounts (prod, sandbox).
    pub fn members(&self) -> [&Account; 2] {
        [&self.prod, &self.sandbox]
    }

    /// Creates an IAM user in `account` through its admin role, with an access key; returns
    /// the key id.
    pub async fn create_user(&self, account: &Account, user: &str) -> Result<String, HarnessError> {
        let iam = aws_sdk_iam::Client::new(&account.sdk);
        call!("CreateUser", iam.create_user().user_name(user).send());
        let key = call!(
            "CreateAccessKey",
            iam.create_access_key().user_name(user).send()
        );
        Ok(key
            .access_key()
            .map(|k| k.access_key_id().to_string())
            .unwrap_or_default())
    }
}

fn trust_policy() -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]
    })
    .to_string()
}

/// The ticket function's own resources in the security account: the ledger table and the
/// tickets DLQ; returns the DLQ's URL.
pub async fn ticketing(sdk: &SdkConfig) -> Result<String, HarnessError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(|e| err("KeySchemaElement")(e.to_string()))
    };
    let attr = |name: &str, kind: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
            .map_err(|e| err("AttributeDefinition")(e.to_string()))
    };
    call!(
        "CreateTable",
        aws_sdk_dynamodb::Client::new(sdk)
            .create_table()
            .table_name(LEDGER_TABLE)
            .key_schema(key("findingId", KeyType::Hash)?)
            .key_schema(key("episode", KeyType::Range)?)
            .attribute_definitions(attr("findingId", ScalarAttributeType::S)?)
            .attribute_definitions(attr("episode", ScalarAttributeType::N)?)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
    );
    let out = call!(
        "CreateQueue",
        aws_sdk_sqs::Client::new(sdk)
            .create_queue()
            .queue_name(TICKETS_DLQ)
            .send()
    );
    Ok(out.queue_url().unwrap_or_default().to_string())
}

/// The ticket function's secrets (`iamwatch/jira`: an email and API token, `iamwatch/slack`:
/// `webhook_url`) in Secrets Manager; returns their ARNs, Jira's first.
pub async fn ticket_secrets(
    sdk: &SdkConfig,
    slack_webhook_url: &str,
) -> Result<(String, String), HarnessError> {
    let secrets = aws_sdk_secretsmanager::Client::new(sdk);
    let mut arns = Vec::new();
    for (name, value) in [
        (
            "iamwatch/jira",
            serde_json::json!({"email": "sec@example.com", "api_token": "tok-123"}),
        ),
        (
            "iamwatch/slack",
            serde_json::json!({"webhook_url": slack_webhook_url}),
        ),
    ] {
        let out = call!(
            "CreateSecret",
            secrets
                .create_secret()
                .name(name)
                .secret_string(value.to_string())
                .send()
        );
        arns.push(out.arn().unwrap_or_default().to_string());
    }
    let slack = arns.pop().unwrap_or_default();
    Ok((arns.pop().unwrap_or_default(), slack))
}

/// Bus, queues and rules of the security account.
async fn plumbing(sdk: &SdkConfig) -> Result<(String, String, String), HarnessError> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let events = aws_sdk_eventbridge::Client::new(sdk);
    let mut urls = Vec::new();
    let mut arns = Vec::new();
    for name in [EVENTS_QUEUE, TICKETS_QUEUE, FINDINGS_QUEUE] {
        let mut req = sqs.create_queue().queue_name(name);
        if name.ends_with(".fifo") {
            req = req
                .attributes(QueueAttributeName::FifoQueue, "true")
                .attributes(QueueAttributeName::ContentBasedDeduplication, "true");
        }
        let out = call!("CreateQueue", req.send());
        let url = out.queue_url().unwrap_or_default().to_string();
        let attrs = call!(
            "GetQueueAttributes",
            sqs.get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::QueueArn)
                .send()
        );
        let arn = attrs
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn))
            .cloned()
            .unwrap_or_default();
        urls.push(url);
        arns.push(arn);
    }
    call!("CreateEventBus", events.create_event_bus().name(BUS).send());
    call!(
        "CreateEventBus",
        events.create_event_bus().name(FINDINGS_BUS).send()
    );
    let rules = [
        (
            "iam-events",
            // IAM calls and console sign-ins, as the CDK app's intake rule takes them.
            serde_json::json!({
                "source": ["aws.iam", "aws.signin"],
                "detail-type": ["AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail"]
            }),
            &arns[0],
            BUS,
        ),
        (
            "urgent-findings",
            serde_json::json!({
                "source": ["iamwatch"],
                "detail-type": ["IAM Watch Finding"],
                "detail": {"recordState": ["ACTIVE", "ARCHIVED"], "score": [{"numeric": [">=", TICKET_MIN_SCORE]}]}
            }),
            &arns[1],
            FINDINGS_BUS,
        ),
        (
            "all-findings",
            serde_json::json!({"source": ["iamwatch"], "detail-type": ["IAM Watch Finding"]}),
            &arns[2],
            FINDINGS_BUS,
        ),
    ];
    for (name, pattern, arn, bus) in rules {
        call!(
            "PutRule",
            events
                .put_rule()
                .name(name)
                .event_bus_name(bus)
                .event_pattern(pattern.to_string())
                .send()
        );
        let target = Target::builder()
            .id(format!("{name}-queue"))
            .arn(arn.as_str());
        call!(
            "PutTargets",
            events
                .put_targets()
                .rule(name)
                .event_bus_name(bus)
                .targets(target.build().map_err(|e| err("Target")(e.to_string()))?)
                .send()
        );
    }
    Ok((urls[0].clone(), urls[1].clone(), urls[2].clone()))
}
