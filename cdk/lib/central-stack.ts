import { Duration, RemovalPolicy, Stack, StackProps, Stage, Validations } from 'aws-cdk-lib';
import * as cloudformation from 'aws-cdk-lib/aws-cloudformation';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { IamwatchConfig, TICKET_MIN_SCORE } from './config';
import { RustFunction } from './constructs/rust-function';
import { functionCodeWithPolicy } from './lambda-package';
import {
  BUS_NAME,
  DETECT_FUNCTION_NAME,
  DETECT_PACKAGE,
  DETECT_ROLE_NAME,
  EVENTS_QUEUE_NAME,
  FINDING_DETAIL_TYPE,
  FINDING_SOURCE,
  IAM_EVENT_PATTERN,
  MEMBER_ROLE_NAME,
  ORG_READER_ROLE_NAME,
  POLICY_FILE_IN_PACKAGE,
  REGION,
  STACK_SET_NAME,
  TICKETS_QUEUE_NAME,
  TICKET_FUNCTION_NAME,
  TICKET_PACKAGE,
  TICKET_ROLE_NAME,
  roleArn,
} from './names';

/** Timing of the pipeline; the visibility timeouts follow from it (>= 6x the function timeout). */
export const DETECT_TIMEOUT = Duration.seconds(60);
export const DETECT_BATCH_SIZE = 10;
export const DETECT_BATCHING_WINDOW = Duration.seconds(5);
// The ticket function starts a message only with 30 s of the invocation left and stops 3 s
// before the deadline, so a timeout never redelivers a message already posted to Slack.
export const TICKET_TIMEOUT = Duration.seconds(120);
export const TICKET_BATCH_SIZE = 5;
export const MAX_RECEIVE_COUNT = 5;
/** Oldest message age at which the pipeline is considered stuck. */
export const OLDEST_MESSAGE_ALARM_SECONDS = 900;

/** AWS's guidance for SQS-triggered functions: visibility timeout = 6x function timeout + batching window. */
export function visibilityTimeoutFor(timeout: Duration, batchingWindow: Duration = Duration.seconds(0)): Duration {
  return Duration.seconds(6 * timeout.toSeconds() + batchingWindow.toSeconds());
}

export interface CentralStackProps extends StackProps {
  readonly config: IamwatchConfig;
  /** The member accounts' template (synthesized by MemberStack), the StackSet's template body. */
  readonly memberTemplateBody: string;
}

/**
 * The security account's part: bus, queues, functions, secrets, alarms, and the StackSet that
 * puts the member resources into every account of the target OUs.
 */
export class CentralStack extends Stack {
  public readonly bus: events.EventBus;
  public readonly eventsQueue: sqs.Queue;
  public readonly eventsDlq: sqs.Queue;
  public readonly ticketsQueue: sqs.Queue;
  public readonly ticketsDlq: sqs.Queue;
  public readonly detect: RustFunction;
  public readonly ticket: RustFunction;
  public readonly alarmTopic: sns.Topic;
  public readonly stackSet: cloudformation.CfnStackSet;
  public readonly jiraSecret?: secretsmanager.Secret;
  public readonly slackSecret?: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: CentralStackProps) {
    super(scope, id, {
      description: 'iamwatch central: event bus, queues, detect and ticket functions, alarms, member StackSet',
      ...props,
    });
    const { config } = props;
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    // ---- bus: only accounts of the organization may put events on it
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: BUS_NAME, description: 'iamwatch: IAM events of the organization and iamwatch findings' });
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'iamwatch-org-put-events',
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: { StringEquals: { 'aws:PrincipalOrgID': config.orgId } },
      }),
    );

    // ---- IAM events -> SQS -> detect
    this.eventsDlq = new sqs.Queue(this, 'EventsDlq', {
      queueName: `${EVENTS_QUEUE_NAME}-dlq`,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.eventsQueue = new sqs.Queue(this, 'EventsQueue', {
      queueName: EVENTS_QUEUE_NAME,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      visibilityTimeout: visibilityTimeoutFor(DETECT_TIMEOUT, DETECT_BATCHING_WINDOW),
      deadLetterQueue: { queue: this.eventsDlq, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    new events.Rule(this, 'IamEventsRule', {
      ruleName: 'iam-events',
      description: 'iamwatch: in-scope IAM events forwarded by the member accounts',
      eventBus: this.bus,
      eventPattern: IAM_EVENT_PATTERN,
      targets: [new targets.SqsQueue(this.eventsQueue, { retryAttempts: 185, maxEventAge: Duration.hours(24) })],
    });

    const detectEnv: Record<string, string> = {
      IAMWATCH_EVENT_BUS: this.bus.eventBusArn,
      IAMWATCH_MEMBER_ROLE: MEMBER_ROLE_NAME,
      IAMWATCH_ORG_ROLE_ARN: roleArn(config.managementAccountId, ORG_READER_ROLE_NAME),
      IAMWATCH_POLICY_FILE: POLICY_FILE_IN_PACKAGE,
      IAMWATCH_CACHE_TTL_SECONDS: '300',
    };
    if (config.runbookBaseUrl !== '') detectEnv.IAMWATCH_RUNBOOK_BASE_URL = config.runbookBaseUrl;
    this.detect = new RustFunction(this, 'Detect', {
      functionName: DETECT_FUNCTION_NAME,
      roleName: DETECT_ROLE_NAME,
      description: 'iamwatch: IAM events -> enriched, scored Security Hub findings',
      code: functionCodeWithPolicy(config.lambdaAssetDir, DETECT_PACKAGE, config.policyFile, Stage.of(this)!.outdir),
      timeout: DETECT_TIMEOUT,
      memorySize: 512,
      environment: detectEnv,
      logRetention,
    });
    this.detect.function.addEventSource(
      new SqsEventSource(this.eventsQueue, {
        batchSize: DETECT_BATCH_SIZE,
        maxBatchingWindow: DETECT_BATCHING_WINDOW,
        reportBatchItemFailures: true,
      }),
    );
    this.bus.grantPutEventsTo(this.detect.role);
    this.grantAssumeMemberRole(this.detect.role, config.orgId);
    this.detect.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeOrgReader',
        actions: ['sts:AssumeRole'],
        resources: [roleArn(config.managementAccountId, ORG_READER_ROLE_NAME)],
      }),
    );
    // Fallback when Security Hub is not enabled in the member account: file in this account.
    this.grantOwnSecurityHub(this.detect.role, true);

    // ---- findings at/above the threshold -> FIFO -> ticket
    this.ticketsDlq = new sqs.Queue(this, 'TicketsDlq', {
      queueName: TICKETS_QUEUE_NAME.replace(/\.fifo$/, '-dlq.fifo'),
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.ticketsQueue = new sqs.Queue(this, 'TicketsQueue', {
      queueName: TICKETS_QUEUE_NAME,
      fifo: true,
      // EventBridge requires content-based deduplication on FIFO targets.
      contentBasedDeduplication: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      visibilityTimeout: visibilityTimeoutFor(TICKET_TIMEOUT),
      deadLetterQueue: { queue: this.ticketsDlq, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    new events.Rule(this, 'UrgentFindingsRule', {
      ruleName: 'urgent-findings',
      description: `iamwatch: active findings at or above ${config.ticketThreshold} become tickets`,
      eventBus: this.bus,
      eventPattern: {
        source: [FINDING_SOURCE],
        detailType: [FINDING_DETAIL_TYPE],
        detail: {
          recordState: ['ACTIVE'],
          score: [{ numeric: ['>=', TICKET_MIN_SCORE[config.ticketThreshold]] }],
        },
      },
      targets: [
        new targets.SqsQueue(this.ticketsQueue, {
          messageGroupId: 'iamwatch-findings',
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });

    // The ticket function reads the same policy file: its ticket_min_severity is checked again
    // there, in case the rule and the policy ever disagree.
    const ticketEnv: Record<string, string> = {
      IAMWATCH_MEMBER_ROLE: MEMBER_ROLE_NAME,
      IAMWATCH_POLICY_FILE: POLICY_FILE_IN_PACKAGE,
    };
    this.ticket = new RustFunction(this, 'Ticket', {
      functionName: TICKET_FUNCTION_NAME,
      roleName: TICKET_ROLE_NAME,
      description: 'iamwatch: urgent findings -> Jira issue and Slack message',
      code: functionCodeWithPolicy(config.lambdaAssetDir, TICKET_PACKAGE, config.policyFile, Stage.of(this)!.outdir),
      timeout: TICKET_TIMEOUT,
      environment: ticketEnv,
      logRetention,
    });
    this.ticket.function.addEventSource(
      new SqsEventSource(this.ticketsQueue, { batchSize: TICKET_BATCH_SIZE, reportBatchItemFailures: true }),
    );
    this.grantAssumeMemberRole(this.ticket.role, config.orgId);
    // Writing the ticket key back on findings filed in this account.
    this.grantOwnSecurityHub(this.ticket.role, false);

    // ---- secrets: created with a placeholder value, the operator puts the real one (README)
    if (config.jiraBaseUrl !== '') {
      this.jiraSecret = new secretsmanager.Secret(this, 'JiraSecret', {
        secretName: 'iamwatch/jira',
        description: 'iamwatch: Jira credentials {"email": ..., "api_token": ...}; put the real token after deploying',
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ email: 'replace-me@example.com' }),
          generateStringKey: 'api_token',
        },
      });
      this.jiraSecret.grantRead(this.ticket.role);
      this.ticket.function.addEnvironment('IAMWATCH_JIRA_BASE_URL', config.jiraBaseUrl);
      this.ticket.function.addEnvironment('IAMWATCH_JIRA_PROJECT', config.jiraProject);
      this.ticket.function.addEnvironment('IAMWATCH_JIRA_SECRET_ARN', this.jiraSecret.secretArn);
      this.acknowledgeManualRotation(this.jiraSecret, 'Jira API tokens are issued by a person in Atlassian; no API rotates them.');
    }
    if (config.slackEnabled) {
      this.slackSecret = new secretsmanager.Secret(this, 'SlackSecret', {
        secretName: 'iamwatch/slack',
        description: 'iamwatch: Slack incoming webhook {"webhook_url": ...}; put the real URL after deploying',
        generateSecretString: {
          secretStringTemplate: JSON.stringify({}),
          generateStringKey: 'webhook_url',
        },
      });
      this.slackSecret.grantRead(this.ticket.role);
      this.ticket.function.addEnvironment('IAMWATCH_SLACK_SECRET_ARN', this.slackSecret.secretArn);
      this.acknowledgeManualRotation(this.slackSecret, 'Slack incoming webhook URLs are created in the Slack app settings; no API rotates them.');
    }

    // ---- alarms -> SNS (encrypted, TLS only)
    const topicKey = new kms.Key(this, 'AlarmTopicKey', {
      alias: 'alias/iamwatch-alarms',
      description: 'iamwatch: encrypts the alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      topicName: 'iamwatch-alarms',
      displayName: 'iamwatch alarms',
      masterKey: topicKey,
      enforceSSL: true,
    });
    if (config.alarmEmail !== '') this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    this.addAlarms();

    // ---- member accounts
    this.stackSet = new cloudformation.CfnStackSet(this, 'MemberStackSet', {
      stackSetName: STACK_SET_NAME,
      description: 'iamwatch member accounts: forward IAM events to the central bus; iamwatch-member role',
      permissionModel: 'SERVICE_MANAGED',
      callAs: 'DELEGATED_ADMIN',
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      capabilities: ['CAPABILITY_NAMED_IAM'],
      managedExecution: { Active: true },
      operationPreferences: {
        failureTolerancePercentage: 10,
        maxConcurrentPercentage: 25,
        regionConcurrencyType: 'PARALLEL',
      },
      stackInstancesGroup: [
        { regions: [REGION], deploymentTargets: { organizationalUnitIds: config.targetOus } },
      ],
      templateBody: props.memberTemplateBody,
    });
    // The member role trusts the function roles by ARN: IAM rejects a trust policy naming a role
    // that does not exist yet.
    this.stackSet.node.addDependency(this.detect.role, this.ticket.role, this.bus);
  }

  /** `sts:AssumeRole` on the member role name in any account of the organization, nothing else. */
  private grantAssumeMemberRole(role: iam.Role, orgId: string): void {
    const memberRolePattern = `arn:aws:iam::*:role/${MEMBER_ROLE_NAME}`;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeMemberRoleInOrg',
        actions: ['sts:AssumeRole'],
        resources: [memberRolePattern],
        conditions: { StringEquals: { 'aws:ResourceOrgID': orgId } },
      }),
    );
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${memberRolePattern}]`,
      reason: 'The account is any account of the organization (new ones included); the role name is fixed and aws:ResourceOrgID limits it to the org.',
    });
  }

  /** Security Hub on this account's own hub (fallback filing, ticket key write-back). */
  private grantOwnSecurityHub(role: iam.Role, canImport: boolean): void {
    if (canImport) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'SecurityHubImportHere',
          actions: ['securityhub:BatchImportFindings'],
          resources: [`arn:aws:securityhub:${this.region}:${this.account}:product/${this.account}/default`],
        }),
      );
    }
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SecurityHubFindingsHere',
        actions: ['securityhub:BatchUpdateFindings', 'securityhub:GetFindings'],
        resources: [`arn:aws:securityhub:${this.region}:${this.account}:hub/default`],
      }),
    );
  }

  private acknowledgeManualRotation(secret: secretsmanager.Secret, why: string): void {
    Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: why });
  }

  private addAlarms(): void {
    const action = new cwActions.SnsAction(this.alarmTopic);
    const alarm = (id: string, metric: cloudwatch.IMetric, threshold: number, description: string) => {
      const a = new cloudwatch.Alarm(this, id, {
        alarmName: `iamwatch-${id.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`,
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      return a;
    };
    const period = Duration.minutes(5);
    for (const [id, q] of [['EventsDlqDepth', this.eventsDlq], ['TicketsDlqDepth', this.ticketsDlq]] as const) {
      alarm(id, q.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }), 1,
        `${q.node.id}: messages that failed ${MAX_RECEIVE_COUNT} times; see runbooks for redriving them`);
    }
    for (const [id, f] of [['DetectErrors', this.detect.function], ['TicketErrors', this.ticket.function]] as const) {
      alarm(id, f.metricErrors({ period, statistic: 'Sum' }), 1, `${id}: the function failed (whole invocation)`);
    }
    for (const [id, q] of [['EventsOldestMessage', this.eventsQueue], ['TicketsOldestMessage', this.ticketsQueue]] as const) {
      alarm(id, q.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' }), OLDEST_MESSAGE_ALARM_SECONDS,
        `${q.node.id}: a message has waited ${OLDEST_MESSAGE_ALARM_SECONDS}s or more; the pipeline is stuck or behind`);
    }
  }
}
