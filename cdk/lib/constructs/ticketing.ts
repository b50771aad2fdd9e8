import { Duration, RemovalPolicy, Stack, Stage, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { IamwatchConfig, TICKET_MIN_SCORE } from '../config';
import { functionCodeWithPolicy } from '../lambda-package';
import {
  FINDING_DETAIL_TYPE,
  FINDING_SOURCE,
  LEDGER_TABLE_NAME,
  POLICY_FILE_IN_PACKAGE,
  TICKETS_QUEUE_NAME,
  TICKET_FUNCTION_NAME,
  TICKET_PACKAGE,
  TICKET_ROLE_NAME,
  WRITEBACK_ROLE_NAME,
} from '../names';
import { Group } from './group';
import { grantAssumeRoleInOrg, grantOwnSecurityHub } from './grants';
import { QueueWithDlq, ruleTargetDlq, visibilityTimeoutFor } from './queue-with-dlq';
import { RustFunction } from './rust-function';

// The ticket function starts a message only with 30 s of the invocation left and stops 3 s
// before the deadline, so a timeout never redelivers a message already posted to Slack.
export const TICKET_TIMEOUT = Duration.seconds(120);
export const TICKET_BATCH_SIZE = 5;
/**
 * Most concurrent ticket invocations: Lambda's minimum for an SQS event source (2). Each finding
 * costs one BatchUpdateFindings call (10 a second per account) after a Jira and a Slack call of
 * hundreds of milliseconds, well under the quota.
 */
export const TICKET_MAX_CONCURRENCY = 2;

export interface TicketingProps {
  readonly config: IamwatchConfig;
  /** The bus the detect function publishes finding events to (nobody else may). */
  readonly findingsBus: events.IEventBus;
}

/**
 * Trust zone "the security account talks to the outside": the route of urgent findings (finding
 * events of this account's detect function, on the findings bus: active ones at or above the
 * threshold, and their archives) to the standard tickets queue, the ticket function that files
 * Jira issues and Slack messages, each at most once per episode of a finding as its ledger
 * (DynamoDB) records, and writes the ticket key back on the finding through `iamwatch-writeback`;
 * the ledger and the secrets it alone may use. A message that can never succeed is sent to the
 * tickets DLQ by the function itself, with its reason.
 */
export class Ticketing extends Group {
  public readonly tickets: QueueWithDlq;
  public readonly rule: events.Rule;
  /** Where the rule's target puts what it could not deliver. */
  public readonly ruleDlq: sqs.Queue;
  public readonly fn: RustFunction;
  /** The ticket ledger: per finding id and episode, the state of each output. */
  public readonly ledger: dynamodb.Table;
  public readonly jiraSecret?: secretsmanager.Secret;
  public readonly slackSecret?: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: TicketingProps) {
    super(scope, id);
    const { config } = props;

    // Standard, not FIFO: one bad message never holds others back, and the ledger makes a
    // redelivery or a concurrent delivery of a finding harmless.
    this.tickets = new QueueWithDlq(this, 'Tickets', {
      queueName: TICKETS_QUEUE_NAME,
      visibilityTimeout: visibilityTimeoutFor(TICKET_TIMEOUT),
    });
    this.ruleDlq = ruleTargetDlq(this, 'UrgentFindingsTargetDlq', 'iamwatch-urgent-findings-target-dlq');
    this.rule = new events.Rule(this, 'UrgentFindingsRule', {
      ruleName: 'urgent-findings',
      description: `iamwatch: active findings at or above ${config.ticketThreshold} become tickets`,
      eventBus: props.findingsBus,
      eventPattern: {
        source: [FINDING_SOURCE],
        account: [Stack.of(this).account],
        detailType: [FINDING_DETAIL_TYPE],
        // Archives too: the ticket function closes (or comments) the issue of an archived finding.
        detail: {
          recordState: ['ACTIVE', 'ARCHIVED'],
          score: [{ numeric: ['>=', TICKET_MIN_SCORE[config.ticketThreshold]] }],
        },
      },
      targets: [
        new targets.SqsQueue(this.tickets.queue, {
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
          deadLetterQueue: this.ruleDlq,
        }),
      ],
    });

    // The ticket function reads the same policy file: its ticket_min_severity is checked again
    // there, in case the rule and the policy ever disagree.
    this.fn = new RustFunction(this, 'Ticket', {
      functionName: TICKET_FUNCTION_NAME,
      roleName: TICKET_ROLE_NAME,
      description: 'iamwatch: urgent findings -> Jira issue and Slack message',
      code: functionCodeWithPolicy(config.lambdaAssetDir, TICKET_PACKAGE, config.policyFile, Stage.of(this)!.outdir),
      timeout: TICKET_TIMEOUT,
      environment: {
        // The role the function assumes in a finding's account for the write-back.
        IAMWATCH_WRITEBACK_ROLE: WRITEBACK_ROLE_NAME,
        IAMWATCH_POLICY_FILE: POLICY_FILE_IN_PACKAGE,
        // Finding events are accepted only from this account (that of the findings bus).
        IAMWATCH_SECURITY_ACCOUNT: Stack.of(this).account,
      },
      logRetention: config.logRetentionDays as logs.RetentionDays,
    });
    this.fn.function.addEventSource(
      new SqsEventSource(this.tickets.queue, {
        batchSize: TICKET_BATCH_SIZE,
        reportBatchItemFailures: true,
        maxConcurrency: TICKET_MAX_CONCURRENCY,
      }),
    );
    grantAssumeRoleInOrg(this.fn.role, config.orgId, WRITEBACK_ROLE_NAME, 'AssumeWriteBackRoleInOrg');

    // The ledger: on-demand, encrypted, point-in-time recovery, kept when the stack goes.
    this.ledger = new dynamodb.Table(this, 'Ledger', {
      tableName: LEDGER_TABLE_NAME,
      partitionKey: { name: 'findingId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'episode', type: dynamodb.AttributeType.NUMBER },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Exactly what the function does: the latest episode (Query) and conditional writes (PutItem).
    this.fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TicketLedger',
        actions: ['dynamodb:Query', 'dynamodb:PutItem'],
        resources: [this.ledger.tableArn],
      }),
    );
    this.fn.function.addEnvironment('IAMWATCH_LEDGER_TABLE', this.ledger.tableName);
    // A message that can never succeed goes to the DLQ at once, sent by the function.
    this.fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TicketsDeadLetter',
        actions: ['sqs:SendMessage'],
        resources: [this.tickets.dlq.queueArn],
      }),
    );
    this.fn.function.addEnvironment('IAMWATCH_TICKETS_DLQ_URL', this.tickets.dlq.queueUrl);
    // Writing the ticket key back on findings filed in this account.
    grantOwnSecurityHub(this.fn.role, { updateFindings: true });

    // Secrets: created with a placeholder value, the operator puts the real one (README).
    if (config.jiraBaseUrl !== '') {
      this.jiraSecret = new secretsmanager.Secret(this, 'JiraSecret', {
        secretName: 'iamwatch/jira',
        description: 'iamwatch: Jira credentials {"email": ..., "api_token": ...}; put the real token after deploying',
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ email: 'replace-me@example.com' }),
          generateStringKey: 'api_token',
        },
      });
      this.jiraSecret.grantRead(this.fn.role);
      this.fn.function.addEnvironment('IAMWATCH_JIRA_BASE_URL', config.jiraBaseUrl);
      this.fn.function.addEnvironment('IAMWATCH_JIRA_PROJECT', config.jiraProject);
      this.fn.function.addEnvironment('IAMWATCH_JIRA_SECRET_ARN', this.jiraSecret.secretArn);
      if (config.jiraCloseTransition !== '') this.fn.function.addEnvironment('IAMWATCH_JIRA_CLOSE_TRANSITION', config.jiraCloseTransition);
      if (config.jiraReopenTransition !== '') this.fn.function.addEnvironment('IAMWATCH_JIRA_REOPEN_TRANSITION', config.jiraReopenTransition);
      acknowledgeManualRotation(this.jiraSecret, 'Jira API tokens are issued by a person in Atlassian; no API rotates them.');
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
      this.slackSecret.grantRead(this.fn.role);
      this.fn.function.addEnvironment('IAMWATCH_SLACK_SECRET_ARN', this.slackSecret.secretArn);
      acknowledgeManualRotation(this.slackSecret, 'Slack incoming webhook URLs are created in the Slack app settings; no API rotates them.');
    }
  }
}

function acknowledgeManualRotation(secret: secretsmanager.Secret, why: string): void {
  Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: why });
}
