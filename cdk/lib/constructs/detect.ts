import { Duration, Stack, Stage } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { IamwatchConfig } from '../config';
import { functionCodeWithPolicy } from '../lambda-package';
import {
  DETECT_FUNCTION_NAME,
  DETECT_PACKAGE,
  DETECT_ROLE_NAME,
  FINDINGS_BUS_NAME,
  MEMBER_ROLE_NAME,
  ORG_READER_ROLE_NAME,
  POLICY_FILE_IN_PACKAGE,
  roleArn,
} from '../names';
import { Group } from './group';
import { grantAssumeRoleInOrg, grantOwnSecurityHub } from './grants';
import { RustFunction } from './rust-function';

/** Timing of the detect function; the events queue's visibility timeout follows from it. */
export const DETECT_TIMEOUT = Duration.seconds(60);
/**
 * Messages per detect invocation. The function files a batch's findings per account in
 * BatchImportFindings calls of up to 100 and publishes their events in PutEvents calls of 10, so
 * the batch size is what makes those calls few: with 100, a burst from one account costs about one
 * Security Hub call per 100 events instead of one per event. The function stops starting messages
 * 20 s before its timeout (5 s per message plus 15 s kept for the final filing), so a slow batch is
 * partly redelivered, never timed out.
 */
export const DETECT_BATCH_SIZE = 100;
/**
 * How long Lambda gathers messages before invoking with fewer than DETECT_BATCH_SIZE: the latency a
 * quiet organization pays per finding (a lone event waits at most this long), against the calls a
 * burst saves. Batch sizes above 10 require a batching window of at least 1 s.
 */
export const DETECT_BATCHING_WINDOW = Duration.seconds(5);
/**
 * Most concurrent detect invocations (the event source mapping's MaximumConcurrency). Security Hub
 * allows BatchImportFindings 10 calls a second per account (burst 30); an invocation files a
 * batch's findings for one account in one call per 100 findings and takes longer than half a second
 * (role assumption, IAM reads), so 5 invocations stay under 10 calls a second even when every event
 * of a burst comes from one account. Lambda's minimum is 2.
 */
export const DETECT_MAX_CONCURRENCY = 5;

export interface DetectProps {
  readonly config: IamwatchConfig;
  /** The queue of in-scope IAM events. */
  readonly eventsQueue: sqs.IQueue;
  /** Where findings link runbooks: the operator's iamwatch:runbookBaseUrl or the hosted copy's URL. */
  readonly runbookBaseUrl: string;
}

/**
 * Trust zone "the security account reaches into the organization": the detect function, fed by
 * the events queue, that assumes `iamwatch-member` in the account an event comes from (IAM reads,
 * Security Hub import), `iamwatch-org-reader` in the management account, and publishes a finding
 * event per finding on the findings bus, which nobody else may put to.
 */
export class Detect extends Group {
  public readonly fn: RustFunction;
  /** `iamwatch-findings`: finding events, put by the detect function's role only. */
  public readonly findingsBus: events.EventBus;

  constructor(scope: Construct, id: string, props: DetectProps) {
    super(scope, id);
    const { config } = props;

    this.findingsBus = new events.EventBus(this, 'FindingsBus', {
      eventBusName: FINDINGS_BUS_NAME,
      description: 'iamwatch: finding events of the detect function',
    });

    const environment: Record<string, string> = {
      IAMWATCH_EVENT_BUS: this.findingsBus.eventBusArn,
      IAMWATCH_MEMBER_ROLE: MEMBER_ROLE_NAME,
      IAMWATCH_ORG_ROLE_ARN: roleArn(config.managementAccountId, ORG_READER_ROLE_NAME),
      IAMWATCH_POLICY_FILE: POLICY_FILE_IN_PACKAGE,
      IAMWATCH_CACHE_TTL_SECONDS: '300',
      IAMWATCH_RUNBOOK_BASE_URL: props.runbookBaseUrl,
    };
    this.fn = new RustFunction(this, 'Detect', {
      functionName: DETECT_FUNCTION_NAME,
      roleName: DETECT_ROLE_NAME,
      description: 'iamwatch: IAM events -> enriched, scored Security Hub findings',
      code: functionCodeWithPolicy(config.lambdaAssetDir, DETECT_PACKAGE, config.policyFile, Stage.of(this)!.outdir),
      timeout: DETECT_TIMEOUT,
      memorySize: 512,
      environment,
      logRetention: config.logRetentionDays as logs.RetentionDays,
    });
    this.fn.function.addEventSource(
      new SqsEventSource(props.eventsQueue, {
        batchSize: DETECT_BATCH_SIZE,
        maxBatchingWindow: DETECT_BATCHING_WINDOW,
        reportBatchItemFailures: true,
        maxConcurrency: DETECT_MAX_CONCURRENCY,
      }),
    );
    this.findingsBus.grantPutEventsTo(this.fn.role);
    // Same-account principals need only an IAM allow to put on a bus: the bus denies everyone else.
    this.findingsBus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'iamwatch-only-detect-puts',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.findingsBus.eventBusArn],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': roleArn(Stack.of(this).account, DETECT_ROLE_NAME) } },
      }),
    );
    grantAssumeRoleInOrg(this.fn.role, config.orgId, MEMBER_ROLE_NAME, 'AssumeMemberRoleInOrg');
    this.fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeOrgReader',
        actions: ['sts:AssumeRole'],
        resources: [roleArn(config.managementAccountId, ORG_READER_ROLE_NAME)],
      }),
    );
    // Fallback when Security Hub is not enabled in the member account: file in this account (and
    // read what is filed there, for the findings a resolving event ends). No BatchUpdateFindings:
    // that is the ticket function's write-back.
    grantOwnSecurityHub(this.fn.role, { importFindings: true, readFindings: true });
  }
}
