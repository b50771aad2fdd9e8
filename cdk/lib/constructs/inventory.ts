import { Duration, RemovalPolicy, Stack, Stage, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { IamwatchConfig } from '../config';
import { functionCodeWithPolicy } from '../lambda-package';
import {
  ATHENA_RESULTS_PREFIX,
  INVENTORY_FUNCTION_NAME,
  INVENTORY_PACKAGE,
  INVENTORY_ROLE_NAME,
  MEMBER_ROLE_NAME,
  ORG_READER_ROLE_NAME,
  POLICY_FILE_IN_PACKAGE,
  inventoryBucketName,
  inventoryLogBucketName,
  roleArn,
} from '../names';
import { Group } from './group';
import { grantAssumeRoleInOrg, grantOwnSecurityHub } from './grants';
import { RustFunction } from './rust-function';

/** A sweep of hundreds of accounts runs inside one invocation: Lambda's longest timeout. */
export const INVENTORY_TIMEOUT = Duration.minutes(15);
export const INVENTORY_MEMORY_MB = 1024;
/** Schedule group of iamwatch's schedules, and the daily sweep's schedule. */
export const SCHEDULE_GROUP_NAME = 'iamwatch';
export const INVENTORY_SCHEDULE_NAME = 'iamwatch-inventory-daily';
/** Where the scheduler puts an invocation it could not make (throttled, function missing). */
export const INVENTORY_SCHEDULE_DLQ_NAME = 'iamwatch-inventory-schedule-dlq';
/** Days the workgroup's query results are kept. */
export const ATHENA_RESULTS_DAYS = 30;

export interface InventoryProps {
  readonly config: IamwatchConfig;
  /** Where the findings' runbook links point (as the detect function's). */
  readonly runbookBaseUrl: string;
  /** The Slack webhook secret (the sweep's summary line), when Slack is on. */
  readonly slackSecret?: secretsmanager.ISecret;
}

/**
 * Trust zone "the security account reads every account's IAM users, daily": the bucket of the
 * inventory (`<prefix>/inventory/v1/...`, also the Athena workgroup's results under
 * `athena-results/`), the function `iamwatch-inventory` that sweeps the organization through
 * `iamwatch-org-reader` and `iamwatch-member`, writes the tables and the report, files hygiene
 * findings and posts the Slack summary, and the EventBridge Scheduler schedule that runs it daily.
 */
export class Inventory extends Group {
  public readonly bucket: s3.Bucket;
  public readonly logBucket: s3.Bucket;
  public readonly fn: RustFunction;
  public readonly schedule: scheduler.CfnSchedule;
  public readonly scheduleGroup: scheduler.CfnScheduleGroup;
  public readonly schedulerRole: iam.Role;
  public readonly scheduleDlq: sqs.Queue;
  /** `s3://<bucket>/<prefix>`: the root of the inventory, as the function gets it. */
  public readonly root: string;
  /** `s3://<bucket>/<prefix>/inventory/v1/`: where the tables are. */
  public readonly tablesLocation: string;
  /** `s3://<bucket>/athena-results/`. */
  public readonly athenaResults: string;

  constructor(scope: Construct, id: string, props: InventoryProps) {
    super(scope, id);
    const { config } = props;
    const { account } = Stack.of(this);
    const prefix = config.inventoryPrefix;

    this.logBucket = new s3.Bucket(this, 'InventoryLogBucket', {
      bucketName: inventoryLogBucketName(account),
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new s3.Bucket(this, 'InventoryBucket', {
      bucketName: inventoryBucketName(account),
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // A day's objects are overwritten by a re-run of that day: versions keep what was
      // overwritten or deleted for a while, so a sweep gone wrong (or a person) cannot erase history.
      versioned: true,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'inventory-bucket/',
      lifecycleRules: [
        {
          id: 'expire-old-days',
          prefix: `${prefix}/inventory/v1/`,
          expiration: Duration.days(config.inventoryRetentionDays),
          noncurrentVersionExpiration: Duration.days(30),
        },
        { id: 'expire-athena-results', prefix: ATHENA_RESULTS_PREFIX, expiration: Duration.days(ATHENA_RESULTS_DAYS), noncurrentVersionExpiration: Duration.days(1) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const bucketName = inventoryBucketName(account);
    this.root = `s3://${bucketName}/${prefix}`;
    this.tablesLocation = `${this.root}/inventory/v1/`;
    this.athenaResults = `s3://${bucketName}/${ATHENA_RESULTS_PREFIX}`;

    this.fn = new RustFunction(this, 'Inventory', {
      functionName: INVENTORY_FUNCTION_NAME,
      roleName: INVENTORY_ROLE_NAME,
      description: 'iamwatch: daily sweep of every account\'s IAM users -> S3 tables, report, hygiene findings, Slack summary',
      code: functionCodeWithPolicy(config.lambdaAssetDir, INVENTORY_PACKAGE, config.policyFile, Stage.of(this)!.outdir),
      timeout: INVENTORY_TIMEOUT,
      memorySize: INVENTORY_MEMORY_MB,
      environment: {
        IAMWATCH_INVENTORY_OUT: this.root,
        IAMWATCH_MEMBER_ROLE: MEMBER_ROLE_NAME,
        IAMWATCH_ORG_ROLE_ARN: roleArn(config.managementAccountId, ORG_READER_ROLE_NAME),
        IAMWATCH_POLICY_FILE: POLICY_FILE_IN_PACKAGE,
        IAMWATCH_RUNBOOK_BASE_URL: props.runbookBaseUrl,
        IAMWATCH_GUARDRAIL_OUS: config.guardrailOus.join(','),
        IAMWATCH_INVENTORY_CONCURRENCY: String(config.inventoryConcurrency),
        ...(props.slackSecret !== undefined ? { IAMWATCH_SLACK_SECRET_ARN: props.slackSecret.secretArn } : {}),
      },
      logRetention: config.logRetentionDays as logs.RetentionDays,
    });
    // The schedule invokes asynchronously: one retry (a re-run of the day overwrites), then the
    // failure shows in the errors alarm.
    this.fn.function.configureAsyncInvoke({ retryAttempts: 1, maxEventAge: Duration.hours(6) });

    const role = this.fn.role;
    grantAssumeRoleInOrg(role, config.orgId, MEMBER_ROLE_NAME, 'AssumeMemberRoleInOrg');
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'AssumeOrgReader', actions: ['sts:AssumeRole'], resources: [roleArn(config.managementAccountId, ORG_READER_ROLE_NAME)] }),
    );
    // Hygiene findings of accounts without Security Hub are filed here; the previous sweep's
    // findings are read back to archive what is gone.
    grantOwnSecurityHub(role, { importFindings: true, readFindings: true });
    props.slackSecret?.grantRead(role);
    // Writes its own days and reads the previous ones (state, trend), under the prefix only.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InventoryObjects',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [this.bucket.arnForObjects(`${prefix}/*`)],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InventoryListing',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}/*`, `${prefix}/`] } },
      }),
    );
    const bucketLogicalId = Stack.of(this).resolve((this.bucket.node.defaultChild as s3.CfnBucket).logicalId);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${prefix}/*]`,
      reason: 'The sweep writes one object per account and day (and the report) under the inventory prefix; the keys are known only at run time.',
    });

    // The daily schedule: a group of its own, a role only the scheduler of this account may
    // assume for this group, a dead-letter queue for invocations it could not make.
    this.scheduleGroup = new scheduler.CfnScheduleGroup(this, 'ScheduleGroup', { name: SCHEDULE_GROUP_NAME });
    this.scheduleDlq = new sqs.Queue(this, 'InventoryScheduleDlq', {
      queueName: INVENTORY_SCHEDULE_DLQ_NAME,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.scheduleDlq).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself a dead-letter queue: that of the EventBridge Scheduler schedule (DeadLetterConfig), which cdk-nag does not recognise.',
    });
    const groupArn = `arn:aws:scheduler:${Stack.of(this).region}:${account}:schedule-group/${SCHEDULE_GROUP_NAME}`;
    this.schedulerRole = new iam.Role(this, 'InventorySchedulerRole', {
      roleName: 'iamwatch-inventory-scheduler',
      description: 'Lets EventBridge Scheduler run the daily inventory sweep',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': account }, ArnEquals: { 'aws:SourceArn': groupArn } },
      }),
    });
    this.schedulerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'InvokeInventory', actions: ['lambda:InvokeFunction'], resources: [this.fn.function.functionArn] }),
    );
    this.schedulerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'DeadLetters', actions: ['sqs:SendMessage'], resources: [this.scheduleDlq.queueArn] }),
    );
    this.schedule = new scheduler.CfnSchedule(this, 'InventorySchedule', {
      name: INVENTORY_SCHEDULE_NAME,
      groupName: SCHEDULE_GROUP_NAME,
      description: 'iamwatch: the daily inventory sweep',
      scheduleExpression: config.inventorySchedule,
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: this.fn.function.functionArn,
        roleArn: this.schedulerRole.roleArn,
        input: JSON.stringify({ source: 'iamwatch.schedule', schedule: INVENTORY_SCHEDULE_NAME }),
        retryPolicy: { maximumRetryAttempts: 10, maximumEventAgeInSeconds: 6 * 3600 },
        deadLetterConfig: { arn: this.scheduleDlq.queueArn },
      },
    });
    this.schedule.node.addDependency(this.scheduleGroup);
  }
}
