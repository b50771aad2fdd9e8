//! The detect pipeline over a [`TestOrg`]: the handler built as the Lambda main builds it, for
//! the security account, with its AWS traffic going through a [`FaultProxy`]; and the
//! Lambda service's part (receive a batch, invoke, delete what succeeded).

use crate::moto::{with_endpoint, MotoServer};
use crate::org::{TestOrg, MEMBER_ROLE};
use crate::proxy::FaultProxy;
use crate::sqs;
use crate::HarnessError;
use aws_lambda_events::event::sqs::SqsBatchResponse;
use iamwatch_aws::{AccountClients, AwsEnricher, EventBridgePublisher, SecurityHubSink};
use iamwatch_core::finding::Finding;
use iamwatch_core::finding_event::FindingEvent;
use iamwatch_core::{FindingContext, Policy};

/// The runbook base URL of the pipeline under test.
pub const RUNBOOK_BASE_URL: &str = "https://runbooks.example.internal/iamwatch";
use iamwatch_detect::{handler, Detector};
use std::time::Duration;

/// The detector type of the detect function.
pub type AwsDetector = Detector<AwsEnricher, SecurityHubSink, EventBridgePublisher>;

/// moto, the organization, the proxy and the detector.
pub struct Pipeline {
    pub org: TestOrg,
    pub proxy: FaultProxy,
    pub detector: AwsDetector,
    pub moto: MotoServer,
}

/// The policy of the end-to-end tests: Prod is critical, Sandbox is a sandbox.
pub fn test_policy() -> Policy {
    Policy::from_toml(
        "critical_ous = [\"Prod\"]\nsandbox_ous = [\"Sandbox\"]\nadmin_groups = [\"Admins\"]\n",
        "e2e-policy.toml",
    )
    .unwrap_or_default()
}

/// Builds the detector as `functions/detect`'s main does, on `sdk` (the security account).
pub fn detector(
    sdk: aws_config::SdkConfig,
    org_role_arn: Option<String>,
    policy: Policy,
) -> AwsDetector {
    // Runbooks served where the operator says (here a made-up internal host the tests check).
    let ctx = FindingContext {
        runbook_base_url: Some(RUNBOOK_BASE_URL.to_string()),
        ..FindingContext::default()
    };
    let accounts = AccountClients::new(sdk.clone(), MEMBER_ROLE);
    Detector {
        enricher: AwsEnricher::new(accounts.clone(), org_role_arn, Duration::from_secs(300)),
        sink: SecurityHubSink::new(accounts, ctx.region.clone(), ctx.partition.clone()),
        publisher: EventBridgePublisher::new(&sdk, crate::org::FINDINGS_BUS),
        policy,
        ctx,
    }
}

impl Pipeline {
    /// Starts moto, creates the organization, starts the proxy and builds the detector.
    pub async fn start(policy: Policy) -> Result<Pipeline, HarnessError> {
        let moto = MotoServer::start()?;
        let org = TestOrg::create(&moto.endpoint()).await?;
        let proxy = FaultProxy::start(&moto.endpoint()).await?;
        let sdk = with_endpoint(&org.security.sdk, &proxy.endpoint());
        let detector = detector(sdk, Some(org.org_role_arn()), policy);
        Ok(Pipeline {
            org,
            proxy,
            detector,
            moto,
        })
    }

    /// Puts `body` on the events queue, as the EventBridge rule delivers an event; returns the
    /// message id.
    pub async fn send(&self, body: &str) -> Result<String, HarnessError> {
        sqs::send(&self.org.security.sdk, &self.org.events_queue_url, body).await
    }

    /// One Lambda invocation on what the events queue delivers (at most 10 messages): the
    /// handler's response and the messages it got. Messages not reported as failed are
    /// deleted; failed ones stay in flight until [`Self::redeliver`].
    pub async fn run_detect(
        &self,
    ) -> Result<(SqsBatchResponse, Vec<aws_sdk_sqs::types::Message>), HarnessError> {
        self.run_detect_batch(10).await
    }

    /// [`Self::run_detect`] on a batch of at most `max` messages (the event source
    /// mapping's batch size).
    pub async fn run_detect_batch(
        &self,
        max: usize,
    ) -> Result<(SqsBatchResponse, Vec<aws_sdk_sqs::types::Message>), HarnessError> {
        let sec = &self.org.security.sdk;
        let url = &self.org.events_queue_url;
        let messages = sqs::receive(sec, url, max).await?;
        if messages.is_empty() {
            // Lambda never invokes with an empty batch.
            return Ok((SqsBatchResponse::default(), messages));
        }
        let event = sqs::sqs_event(
            &messages,
            "arn:aws:sqs:us-east-1:000000000000:iamwatch-events",
        );
        let resp = handler(&self.detector, sqs::lambda_event(event))
            .await
            .map_err(|e| HarnessError::aws("detect handler", e))?;
        let failed: Vec<&str> = resp
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        let done: Vec<&aws_sdk_sqs::types::Message> = messages
            .iter()
            .filter(|m| !failed.contains(&m.message_id().unwrap_or_default()))
            .collect();
        sqs::delete(sec, url, &done).await?;
        Ok((resp, messages))
    }

    /// Makes the in-flight messages of the events queue visible again (SQS redelivery after
    /// the visibility timeout).
    pub async fn redeliver(
        &self,
        messages: &[aws_sdk_sqs::types::Message],
    ) -> Result<(), HarnessError> {
        let client = aws_sdk_sqs::Client::new(&self.org.security.sdk);
        for m in messages {
            if let Some(h) = m.receipt_handle() {
                let _ = client
                    .change_message_visibility()
                    .queue_url(&self.org.events_queue_url)
                    .receipt_handle(h)
                    .visibility_timeout(0)
                    .send()
                    .await;
            }
        }
        Ok(())
    }

    /// Runs the handler until the events queue is empty (failed messages are redelivered at
    /// most `max_rounds` times); returns the ids of messages that failed at least once.
    pub async fn drain(&self, max_rounds: usize) -> Result<Vec<String>, HarnessError> {
        let mut failed_ever = Vec::new();
        for _ in 0..max_rounds {
            let (resp, messages) = self.run_detect().await?;
            if messages.is_empty() {
                break;
            }
            let failed: Vec<String> = resp
                .batch_item_failures
                .iter()
                .map(|f| f.item_identifier.clone())
                .collect();
            let retry: Vec<_> = messages
                .iter()
                .filter(|m| failed.iter().any(|f| Some(f.as_str()) == m.message_id()))
                .cloned()
                .collect();
            self.redeliver(&retry).await?;
            failed_ever.extend(failed);
        }
        Ok(failed_ever)
    }

    /// The iamwatch findings in Security Hub of an account (read directly from moto).
    pub async fn findings(
        &self,
        sdk: &aws_config::SdkConfig,
    ) -> Result<Vec<Finding>, HarnessError> {
        self.detector
            .sink
            .get_findings(sdk, "iamwatch/", false)
            .await
            .map_err(|e| HarnessError::aws("GetFindings", e))
    }

    /// The finding events that reached a queue of the security account (received and deleted).
    pub async fn finding_events(&self, queue_url: &str) -> Result<Vec<FindingEvent>, HarnessError> {
        let sec = &self.org.security.sdk;
        let mut out = Vec::new();
        // Ten at a time, each batch deleted before the next receive: a FIFO queue holds the
        // rest of a message group back while some of it is in flight.
        loop {
            let messages = sqs::receive(sec, queue_url, 10).await?;
            if messages.is_empty() {
                break;
            }
            for m in &messages {
                let v: serde_json::Value = serde_json::from_str(m.body().unwrap_or("{}"))
                    .map_err(|e| HarnessError::aws("finding event body", e))?;
                let e: FindingEvent = serde_json::from_value(v["detail"].clone())
                    .map_err(|e| HarnessError::aws("finding event detail", e))?;
                out.push(e);
            }
            sqs::delete(sec, queue_url, &messages.iter().collect::<Vec<_>>()).await?;
        }
        Ok(out)
    }
}
