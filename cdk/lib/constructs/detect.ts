import { Duration, Stage } from 'aws-cdk-lib';
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
  MEMBER_ROLE_NAME,
  ORG_READER_ROLE_NAME,
  POLICY_FILE_IN_PACKAGE,
  roleArn,
} from '../names';
import { Group } from './group';
import { grantAssumeMemberRole, grantOwnSecurityHub } from './grants';
import { RustFunction } from './rust-function';

/** Timing of the detect function; the events queue's visibility timeout follows from it. */
export const DETECT_TIMEOUT = Duration.seconds(60);
export const DETECT_BATCH_SIZE = 10;
export const DETECT_BATCHING_WINDOW = Duration.seconds(5);

export interface DetectProps {
  readonly config: IamwatchConfig;
  /** The queue of in-scope IAM events. */
  readonly eventsQueue: sqs.IQueue;
  /** The bus the function publishes its finding events to. */
  readonly findingsBus: events.IEventBus;
}

/**
 * Trust zone "the security account reaches into the organization": the detect function, fed by
 * the events queue, that assumes `iamwatch-member` in the account an event comes from (IAM reads,
 * Security Hub import), `iamwatch-org-reader` in the management account, and publishes a finding
 * event per finding.
 */
export class Detect extends Group {
  public readonly fn: RustFunction;

  constructor(scope: Construct, id: string, props: DetectProps) {
    super(scope, id);
    const { config } = props;

    const environment: Record<string, string> = {
      IAMWATCH_EVENT_BUS: props.findingsBus.eventBusArn,
      IAMWATCH_MEMBER_ROLE: MEMBER_ROLE_NAME,
      IAMWATCH_ORG_ROLE_ARN: roleArn(config.managementAccountId, ORG_READER_ROLE_NAME),
      IAMWATCH_POLICY_FILE: POLICY_FILE_IN_PACKAGE,
      IAMWATCH_CACHE_TTL_SECONDS: '300',
    };
    if (config.runbookBaseUrl !== '') environment.IAMWATCH_RUNBOOK_BASE_URL = config.runbookBaseUrl;
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
      }),
    );
    props.findingsBus.grantPutEventsTo(this.fn.role);
    grantAssumeMemberRole(this.fn.role, config.orgId);
    this.fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeOrgReader',
        actions: ['sts:AssumeRole'],
        resources: [roleArn(config.managementAccountId, ORG_READER_ROLE_NAME)],
      }),
    );
    // Fallback when Security Hub is not enabled in the member account: file in this account.
    grantOwnSecurityHub(this.fn.role, true);
  }
}
