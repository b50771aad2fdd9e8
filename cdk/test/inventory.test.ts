import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ACCOUNTS_COLUMNS, INVENTORY_QUERIES, USERS_COLUMNS, cloudTrailColumns } from '../lib/constructs/analytics';
import { MANAGEMENT_ACCOUNT, ORG_ID, SECURITY_ACCOUNT, allowedActions, asArray, onlyResource, statementsOfRole, synth, tmpDir } from './helpers';

const built = synth();
const t = built.centralTemplate;
const json = t.toJSON();
const BUCKET = `iamwatch-inventory-${SECURITY_ACCOUNT}-us-east-1`;
const getAtt = (id: string, attr = 'Arn') => ({ 'Fn::GetAtt': [id, attr] });

const [fnId, fn] = onlyResource(t, 'AWS::Lambda::Function', { FunctionName: 'iamwatch-inventory' });
const [roleId, role] = onlyResource(t, 'AWS::IAM::Role', { RoleName: 'iamwatch-inventory' });
const [bucketId, bucket] = onlyResource(t, 'AWS::S3::Bucket', { BucketName: BUCKET });
const [topicId] = onlyResource(t, 'AWS::SNS::Topic', { TopicName: 'iamwatch-alarms' });
const [slackId] = onlyResource(t, 'AWS::SecretsManager::Secret', { Name: 'iamwatch/slack' });

describe('inventory function', () => {
  test('runs on arm64 provided.al2023 for up to 15 minutes, with its own role and log group', () => {
    assert.deepEqual(fn.Properties.Architectures, ['arm64']);
    assert.equal(fn.Properties.Runtime, 'provided.al2023');
    assert.equal(fn.Properties.Timeout, 900);
    assert.deepEqual(fn.Properties.Role, getAtt(roleId));
    assert.equal(json.Resources[fn.Properties.LoggingConfig.LogGroup.Ref].Properties.LogGroupName, '/aws/lambda/iamwatch-inventory');
    assert.equal(role.Properties.ManagedPolicyArns, undefined);
  });

  test('is packaged like the others: its bootstrap and the policy file', () => {
    const assetDir = path.join(built.app.outdir, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
    assert.deepEqual(fs.readdirSync(assetDir).sort(), ['bootstrap', 'policy.toml']);
    assert.match(fs.readFileSync(path.join(assetDir, 'bootstrap'), 'utf8'), /placeholder for iamwatch-inventory/);
  });

  test('gets its environment: output root, roles, Slack secret, runbook base URL, guarded OUs, concurrency', () => {
    assert.deepEqual(fn.Properties.Environment.Variables, {
      IAMWATCH_INVENTORY_OUT: `s3://${BUCKET}/iamwatch`,
      IAMWATCH_MEMBER_ROLE: 'iamwatch-member',
      IAMWATCH_ORG_ROLE_ARN: `arn:aws:iam::${MANAGEMENT_ACCOUNT}:role/iamwatch-org-reader`,
      IAMWATCH_POLICY_FILE: '/var/task/policy.toml',
      IAMWATCH_RUNBOOK_BASE_URL: `https://us-east-1.console.aws.amazon.com/s3/object/iamwatch-runbooks-${SECURITY_ACCOUNT}-us-east-1?region=us-east-1&bucketType=general&prefix=runbooks/`,
      IAMWATCH_GUARDRAIL_OUS: '',
      IAMWATCH_INVENTORY_CONCURRENCY: '32',
      IAMWATCH_SLACK_SECRET_ARN: { Ref: slackId },
    });
    const other = synth({
      'iamwatch:slackEnabled': false,
      'iamwatch:inventoryPrefix': 'org/inventory',
      'iamwatch:inventoryConcurrency': 4,
      'iamwatch:guardrailOus': ['ou-ab12-33333333', 'ou-ab12-44444444'],
      'iamwatch:breakGlassRoles': ['BreakGlassAdmin'],
    }).centralTemplate;
    const [, f] = onlyResource(other, 'AWS::Lambda::Function', { FunctionName: 'iamwatch-inventory' });
    const env = f.Properties.Environment.Variables;
    assert.equal(env.IAMWATCH_INVENTORY_OUT, `s3://${BUCKET}/org/inventory`);
    assert.equal(env.IAMWATCH_INVENTORY_CONCURRENCY, '4');
    assert.equal(env.IAMWATCH_GUARDRAIL_OUS, 'ou-ab12-33333333,ou-ab12-44444444');
    assert.equal(env.IAMWATCH_SLACK_SECRET_ARN, undefined, 'no Slack, no secret');
  });

  test('its role may assume iamwatch-member in the organization and the org-reader role, nothing else of STS', () => {
    const assume = statementsOfRole(t, roleId).filter((s) => asArray(s.Action).some((a: string) => a.startsWith('sts:')));
    assert.deepEqual(assume.map((s) => [s.Action, s.Resource, s.Condition]), [
      ['sts:AssumeRole', 'arn:aws:iam::*:role/iamwatch-member', { StringEquals: { 'aws:ResourceOrgID': ORG_ID } }],
      ['sts:AssumeRole', `arn:aws:iam::${MANAGEMENT_ACCOUNT}:role/iamwatch-org-reader`, undefined],
    ]);
  });

  test('its role may import and read findings here, read the Slack secret, and read and write under the inventory prefix only', () => {
    const actions = allowedActions(t, roleId);
    assert.deepEqual(actions.filter((a) => a.startsWith('securityhub:')), ['securityhub:BatchImportFindings', 'securityhub:GetFindings']);
    const secret = statementsOfRole(t, roleId).filter((s) => asArray(s.Action).includes('secretsmanager:GetSecretValue'));
    assert.deepEqual(secret.map((s) => s.Resource), [{ Ref: slackId }]);
    const s3 = statementsOfRole(t, roleId).filter((s) => asArray(s.Action).some((a: string) => a.startsWith('s3:')));
    assert.deepEqual(s3.map((s) => [asArray(s.Action).sort(), s.Resource, s.Condition]), [
      [['s3:GetObject', 's3:PutObject'], { 'Fn::Join': ['', [getAtt(bucketId), '/iamwatch/*']] }, undefined],
      [['s3:ListBucket'], getAtt(bucketId), { StringLike: { 's3:prefix': ['iamwatch/*', 'iamwatch/'] } }],
    ]);
    assert.ok(!actions.some((a) => a.startsWith('s3:Delete')), 'it never deletes: old days expire by lifecycle');
    assert.ok(!actions.includes('securityhub:BatchUpdateFindings'));
  });

  test('iamwatch-member and iamwatch-org-reader trust the inventory role, and the StackSet waits for it', () => {
    for (const [template, name] of [[built.memberTemplate, 'iamwatch-member'], [built.managementTemplate, 'iamwatch-org-reader'], [built.managementTemplate, 'iamwatch-member']] as const) {
      const [, r] = onlyResource(template, 'AWS::IAM::Role', { RoleName: name });
      const principals = r.Properties.AssumeRolePolicyDocument.Statement.flatMap((s: any) => asArray(s.Principal.AWS));
      assert.ok(principals.includes(`arn:aws:iam::${SECURITY_ACCOUNT}:role/iamwatch-inventory`), name);
    }
    const [stackSetId] = onlyResource(t, 'AWS::CloudFormation::StackSet');
    assert.ok(json.Resources[stackSetId].DependsOn.includes(roleId));
  });
});

describe('inventory schedule', () => {
  const [, group] = onlyResource(t, 'AWS::Scheduler::ScheduleGroup', { Name: 'iamwatch' });
  const [, schedule] = onlyResource(t, 'AWS::Scheduler::Schedule', { Name: 'iamwatch-inventory-daily' });
  const [schedulerRoleId, schedulerRole] = onlyResource(t, 'AWS::IAM::Role', { RoleName: 'iamwatch-inventory-scheduler' });
  const [dlqId, dlq] = onlyResource(t, 'AWS::SQS::Queue', { QueueName: 'iamwatch-inventory-schedule-dlq' });

  test('runs the function daily in its own group, with retries and a dead-letter queue', () => {
    assert.ok(group);
    const p = schedule.Properties;
    assert.equal(p.GroupName, 'iamwatch');
    assert.equal(p.ScheduleExpression, 'cron(0 5 * * ? *)');
    assert.equal(p.ScheduleExpressionTimezone, 'UTC');
    assert.equal(p.State, 'ENABLED');
    assert.deepEqual(p.FlexibleTimeWindow, { Mode: 'OFF' });
    assert.deepEqual(p.Target.Arn, getAtt(fnId));
    assert.deepEqual(p.Target.RoleArn, getAtt(schedulerRoleId));
    assert.deepEqual(p.Target.DeadLetterConfig, { Arn: getAtt(dlqId) });
    assert.ok(p.Target.RetryPolicy.MaximumRetryAttempts > 0);
    assert.equal(dlq.Properties.SqsManagedSseEnabled, true);
    const other = synth({ 'iamwatch:inventorySchedule': 'cron(30 2 * * ? *)' }).centralTemplate;
    other.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(30 2 * * ? *)' });
  });

  test('the role is assumed only by EventBridge Scheduler of this account for the iamwatch group, and may only invoke the function and send to the DLQ', () => {
    assert.deepEqual(schedulerRole.Properties.AssumeRolePolicyDocument.Statement, [
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': SECURITY_ACCOUNT },
          ArnEquals: { 'aws:SourceArn': `arn:aws:scheduler:us-east-1:${SECURITY_ACCOUNT}:schedule-group/iamwatch` },
        },
      },
    ]);
    const statements = statementsOfRole(t, schedulerRoleId);
    assert.deepEqual(statements.map((s) => [s.Action, s.Resource]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))), [
      ['lambda:InvokeFunction', getAtt(fnId)],
      ['sqs:SendMessage', getAtt(dlqId)],
    ]);
  });
});

describe('inventory bucket', () => {
  test('is encrypted, private, owner-enforced, versioned, logged, and refuses requests without TLS 1.2', () => {
    const p = bucket.Properties;
    assert.deepEqual(p.BucketEncryption, { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    assert.deepEqual(p.PublicAccessBlockConfiguration, { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    assert.deepEqual(p.OwnershipControls, { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    assert.deepEqual(p.VersioningConfiguration, { Status: 'Enabled' });
    const [logId] = onlyResource(t, 'AWS::S3::Bucket', { BucketName: `iamwatch-inventory-logs-${SECURITY_ACCOUNT}-us-east-1` });
    assert.deepEqual(p.LoggingConfiguration, { DestinationBucketName: { Ref: logId }, LogFilePrefix: 'inventory-bucket/' });
    const [, policy] = onlyResource(t, 'AWS::S3::BucketPolicy', { Bucket: { Ref: bucketId } });
    const denies = policy.Properties.PolicyDocument.Statement.filter((s: any) => s.Effect === 'Deny').map((s: any) => s.Condition);
    assert.deepEqual(denies, [{ Bool: { 'aws:SecureTransport': 'false' } }, { NumericLessThan: { 's3:TlsVersion': 1.2 } }]);
    assert.ok(!policy.Properties.PolicyDocument.Statement.some((s: any) => s.Effect === 'Allow' && s.Principal === '*'));
  });

  test('expires old days after iamwatch:inventoryRetentionDays, the query results after 30 days', () => {
    const rules = bucket.Properties.LifecycleConfiguration.Rules;
    const days = rules.find((r: any) => r.Id === 'expire-old-days');
    assert.deepEqual([days.Prefix, days.ExpirationInDays, days.Status], ['iamwatch/inventory/v1/', 400, 'Enabled']);
    assert.ok(days.NoncurrentVersionExpiration.NoncurrentDays > 0);
    const results = rules.find((r: any) => r.Id === 'expire-athena-results');
    assert.deepEqual([results.Prefix, results.ExpirationInDays], ['athena-results/', 30]);
    const other = synth({ 'iamwatch:inventoryRetentionDays': 90 }).centralTemplate;
    const [, b] = onlyResource(other, 'AWS::S3::Bucket', { BucketName: BUCKET });
    assert.equal(b.Properties.LifecycleConfiguration.Rules.find((r: any) => r.Id === 'expire-old-days').ExpirationInDays, 90);
    assert.equal(json.Resources[bucketId].DeletionPolicy, 'Retain');
  });
});

describe('Glue tables and Athena', () => {
  const [, db] = onlyResource(t, 'AWS::Glue::Database');
  const table = (name: string) => onlyResource(t, 'AWS::Glue::Table', { TableInput: { Name: name } })[1].Properties;

  test('the database iamwatch holds users and accounts over the inventory paths, gzip JSON Lines, dt projected as a date', () => {
    assert.equal(db.Properties.DatabaseInput.Name, 'iamwatch');
    assert.equal(db.Properties.CatalogId, SECURITY_ACCOUNT);
    for (const [name, columns] of [['users', USERS_COLUMNS], ['accounts', ACCOUNTS_COLUMNS]] as const) {
      const p = table(name);
      const location = `s3://${BUCKET}/iamwatch/inventory/v1/${name}/`;
      assert.equal(p.DatabaseName, 'iamwatch');
      assert.equal(p.TableInput.TableType, 'EXTERNAL_TABLE');
      assert.equal(p.TableInput.StorageDescriptor.Location, location);
      assert.equal(p.TableInput.StorageDescriptor.SerdeInfo.SerializationLibrary, 'org.openx.data.jsonserde.JsonSerDe');
      assert.equal(p.TableInput.StorageDescriptor.InputFormat, 'org.apache.hadoop.mapred.TextInputFormat');
      assert.deepEqual(p.TableInput.StorageDescriptor.Columns, columns.map((c) => ({ Name: c.name, Type: c.type })));
      assert.deepEqual(p.TableInput.PartitionKeys, [{ Name: 'dt', Type: 'string' }]);
      assert.deepEqual(p.TableInput.Parameters, {
        'classification': 'json',
        'compressionType': 'gzip',
        'projection.enabled': 'true',
        'projection.dt.type': 'date',
        'projection.dt.format': 'yyyy-MM-dd',
        'projection.dt.range': 'NOW-400DAYS,NOW',
        'projection.dt.interval': '1',
        'projection.dt.interval.unit': 'DAYS',
        'storage.location.template': `${location}dt=\${dt}/`,
      });
    }
  });

  test('the columns are those of DESIGN.md, section "Inventory"', () => {
    assert.deepEqual(USERS_COLUMNS.map((c) => c.name), [
      'account_id', 'account_name', 'ou_path', 'user', 'arn', 'created', 'password_enabled', 'password_last_used', 'mfa_active',
      'access_keys', 'admin', 'admin_via', 'groups', 'tags', 'owner', 'creator', 'score', 'rules', 'report_time',
    ]);
    assert.equal(USERS_COLUMNS.find((c) => c.name === 'access_keys')!.type,
      'array<struct<id:string,active:boolean,last_rotated:string,last_used:string,last_used_service:string>>');
    assert.deepEqual(ACCOUNTS_COLUMNS.map((c) => c.name), ['account_id', 'account_name', 'ou_path', 'users', 'risky_users', 'access_keys', 'report_time', 'status', 'error']);
  });

  test('the workgroup enforces its configuration and encrypts results in the inventory bucket', () => {
    const [wgId, wg] = onlyResource(t, 'AWS::Athena::WorkGroup', { Name: 'iamwatch' });
    const c = wg.Properties.WorkGroupConfiguration;
    assert.equal(c.EnforceWorkGroupConfiguration, true);
    assert.deepEqual(c.ResultConfiguration, { OutputLocation: `s3://${BUCKET}/athena-results/`, EncryptionConfiguration: { EncryptionOption: 'SSE_S3' } });
    assert.equal(c.PublishCloudWatchMetricsEnabled, true);
    const queries = Object.entries(t.findResources('AWS::Athena::NamedQuery')) as [string, any][];
    assert.deepEqual(queries.map(([, q]) => q.Properties.Name).sort(), [
      'iamwatch: IAM user count trend',
      'iamwatch: IAM users per account today',
      'iamwatch: unused access keys',
    ]);
    for (const [id, q] of queries) {
      assert.equal(q.Properties.WorkGroup, 'iamwatch');
      assert.equal(q.Properties.Database, 'iamwatch');
      assert.ok(json.Resources[id].DependsOn.includes(wgId), 'created after the workgroup it names');
    }
  });

  const hasSql = spawnSync('python3', ['-c', 'import sqlglot, duckdb'], { stdio: 'ignore' }).status === 0;
  test('the saved queries parse as Trino (Athena engine 3) and run over rows shaped like the inventory', { skip: !hasSql && process.env.CI !== 'true' }, () => {
    const dir = tmpDir('iamwatch-queries-');
    const file = path.join(dir, 'queries.json');
    fs.writeFileSync(file, JSON.stringify({
      queries: INVENTORY_QUERIES.map((q) => ({ name: q.name, sql: q.sql })),
      users: USERS_COLUMNS,
      accounts: ACCOUNTS_COLUMNS,
    }));
    const run = spawnSync('python3', [path.join(__dirname, 'tools', 'run_queries.py'), file], { encoding: 'utf8' });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    const results = JSON.parse(run.stdout);
    // Two accounts in the latest sweep: 111111111111 with two users (one risky, with an unused
    // key), 222222222222 with one; the day before, 4 users in all.
    assert.deepEqual(results['iamwatch: IAM users per account today'], [
      ['111111111111', 'prod', 'Root / Prod', 2, 1, 0, 2],
      ['222222222222', 'dev', 'Root / Dev', 1, 0, 0, 0],
    ]);
    assert.deepEqual(results['iamwatch: unused access keys'].map((r: any[]) => [r[0], r[2], r[3]]), [['111111111111', 'legacy', 'AKIAOLD']]);
    assert.deepEqual(results['iamwatch: IAM user count trend'].map((r: any[]) => [r[1], r[2]]), [[4, 2], [3, 1]]);
  });
});

describe('CloudTrail table of the organization trail (hunt athena)', () => {
  const ctConfig = {
    'iamwatch:cloudtrailBucket': 'org-trail-logs',
    'iamwatch:cloudtrailAccounts': ['111111111111', '222222222222'],
    'iamwatch:cloudtrailRegions': ['us-east-1', 'eu-west-1'],
    'iamwatch:cloudtrailStartDate': '2024-06-01',
  };

  test('is not created unless iamwatch:cloudtrailBucket is set', () => {
    assert.equal(Object.values(t.findResources('AWS::Glue::Table')).filter((r: any) => r.Properties.TableInput.Name === 'cloudtrail').length, 0);
  });

  test('is the Athena documentation\'s table: partitions account, region and timestamp projected, storage.location.template under AWSLogs/<org>/', () => {
    const other = synth(ctConfig).centralTemplate;
    const [, table] = onlyResource(other, 'AWS::Glue::Table', { TableInput: { Name: 'cloudtrail' } });
    const p = table.Properties.TableInput;
    assert.equal(table.Properties.DatabaseName, 'iamwatch');
    const root = `s3://org-trail-logs/AWSLogs/${ORG_ID}/`;
    assert.equal(p.StorageDescriptor.Location, root);
    assert.deepEqual(p.PartitionKeys, [{ Name: 'account', Type: 'string' }, { Name: 'region', Type: 'string' }, { Name: 'timestamp', Type: 'string' }]);
    assert.equal(p.StorageDescriptor.InputFormat, 'com.amazon.emr.cloudtrail.CloudTrailInputFormat');
    assert.equal(p.StorageDescriptor.OutputFormat, 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat');
    assert.equal(p.StorageDescriptor.SerdeInfo.SerializationLibrary, 'org.apache.hive.hcatalog.data.JsonSerDe');
    assert.deepEqual(p.Parameters, {
      'classification': 'cloudtrail',
      'projection.enabled': 'true',
      'projection.account.type': 'enum',
      'projection.account.values': '111111111111,222222222222',
      'projection.region.type': 'enum',
      'projection.region.values': 'us-east-1,eu-west-1',
      'projection.timestamp.type': 'date',
      'projection.timestamp.format': 'yyyy/MM/dd',
      'projection.timestamp.interval': '1',
      'projection.timestamp.interval.unit': 'DAYS',
      'projection.timestamp.range': '2024/06/01,NOW',
      'storage.location.template': `${root}\${account}/CloudTrail/\${region}/\${timestamp}`,
    });
    // A trail with a key prefix, and the regions defaulting to the sign-in regions.
    const prefixed = synth({ ...ctConfig, 'iamwatch:cloudtrailPrefix': 'trails/org', 'iamwatch:cloudtrailRegions': undefined }).centralTemplate;
    const [, t2] = onlyResource(prefixed, 'AWS::Glue::Table', { TableInput: { Name: 'cloudtrail' } });
    assert.equal(t2.Properties.TableInput.StorageDescriptor.Location, `s3://org-trail-logs/trails/org/AWSLogs/${ORG_ID}/`);
    assert.equal(t2.Properties.TableInput.Parameters['projection.region.values'], built.config.signinRegions.join(','));
  });

  test('its columns are those of crates/hunt/cloudtrail_table.sql, the table hunt athena reads', () => {
    const other = synth(ctConfig).centralTemplate;
    const [, table] = onlyResource(other, 'AWS::Glue::Table', { TableInput: { Name: 'cloudtrail' } });
    const columns = table.Properties.TableInput.StorageDescriptor.Columns;
    assert.deepEqual(columns, cloudTrailColumns().map((c) => ({ Name: c.name, Type: c.type })));
    const names = columns.map((c: any) => c.Name);
    // What the hunt's query selects (crates/hunt/src/sql.rs) is there.
    for (const c of ['eventversion', 'useridentity', 'eventtime', 'eventsource', 'eventname', 'awsregion', 'sourceipaddress', 'useragent',
      'errorcode', 'requestparameters', 'responseelements', 'eventid', 'recipientaccountid']) {
      assert.ok(names.includes(c), c);
    }
    assert.ok(columns.find((c: any) => c.Name === 'useridentity')!.Type.startsWith('struct<type:string,principalid:string,arn:string,'));
    assert.equal(columns.length, 29);
  });
});

describe('pipeline alarms', () => {
  const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[];
  const emf = (fnName: string, metric: string) =>
    alarms.filter((a) => a.Properties.Namespace === 'iamwatch' && a.Properties.MetricName === metric &&
      JSON.stringify(a.Properties.Dimensions) === JSON.stringify([{ Name: 'Function', Value: fnName }]));

  for (const [fnName, metric] of [['detect', 'RejectedEnvelopes'], ['detect', 'EnrichmentFailures'], ['inventory', 'CoverageGaps']]) {
    test(`an alarm on ${fnName}'s embedded metric ${metric} (namespace iamwatch) notifies the topic`, () => {
      const [a, ...more] = emf(fnName, metric);
      assert.equal(more.length, 0);
      assert.equal(a.Properties.Statistic, 'Sum');
      assert.equal(a.Properties.Threshold, 1);
      assert.equal(a.Properties.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
      assert.deepEqual(a.Properties.AlarmActions, [{ Ref: topicId }]);
    });
  }

  test('the names match what functions/detect emits', () => {
    const src = fs.readFileSync(path.join(__dirname, '..', '..', 'functions', 'detect', 'src', 'lib.rs'), 'utf8');
    assert.match(src, /METRICS_NAMESPACE: &str = "iamwatch"/);
    assert.match(src, /\("Function", "detect"\)/);
    assert.match(src, /\("RejectedEnvelopes", self\.rejected_envelopes\)/);
    assert.match(src, /\("EnrichmentFailures", self\.enrichment_failures\)/);
  });

  test('inventory: errors, schedule DLQ depth, and no run for a day raise alarms', () => {
    const errors = alarms.filter((a) => a.Properties.MetricName === 'Errors' && JSON.stringify(a.Properties.Dimensions[0].Value) === JSON.stringify({ Ref: fnId }));
    assert.equal(errors.length, 1);
    const [dlqId] = onlyResource(t, 'AWS::SQS::Queue', { QueueName: 'iamwatch-inventory-schedule-dlq' });
    assert.equal(alarms.filter((a) => JSON.stringify(a.Properties.Dimensions?.[0]?.Value) === JSON.stringify(getAtt(dlqId, 'QueueName'))).length, 1);
    const notRun = alarms.filter((a) => a.Properties.MetricName === 'Invocations' && JSON.stringify(a.Properties.Dimensions[0].Value) === JSON.stringify({ Ref: fnId }));
    assert.equal(notRun.length, 1);
    assert.deepEqual([notRun[0].Properties.ComparisonOperator, notRun[0].Properties.Threshold, notRun[0].Properties.Period, notRun[0].Properties.TreatMissingData],
      ['LessThanThreshold', 1, 86400, 'breaching']);
    assert.deepEqual(notRun[0].Properties.AlarmActions, [{ Ref: topicId }]);
  });
});

describe('StackSet failures', () => {
  for (const [where, template] of [['management stack (where service-managed StackSets live)', built.managementTemplate], ['central stack (delegated administrator)', t]] as const) {
    test(`a rule sends failed operations and stack instances of iamwatch-member to the alarm topic (${where})`, () => {
      const [ruleId, rule] = onlyResource(template, 'AWS::Events::Rule', { Name: 'iamwatch-stackset-failures' });
      assert.equal(rule.Properties.EventBusName, undefined, 'the default bus, where CloudFormation puts its events');
      assert.deepEqual(rule.Properties.EventPattern, {
        'source': ['aws.cloudformation'],
        'detail-type': ['CloudFormation StackSet Operation Status Change', 'CloudFormation StackSet StackInstance Status Change'],
        'detail': {
          'stack-set-arn': [{ wildcard: 'arn:aws:cloudformation:us-east-1:*:stackset/iamwatch-member:*' }],
          '$or': [
            { 'status-details': { 'status': ['FAILED', 'STOPPED', 'INOPERABLE'] } },
            { 'status-details': { 'detailed-status': ['FAILED', 'FAILED_IMPORT', 'INOPERABLE'] } },
          ],
        },
      });
      const [topicRef] = Object.entries(template.findResources('AWS::SNS::Topic', { Properties: { TopicName: 'iamwatch-alarms' } }));
      const [target] = rule.Properties.Targets;
      assert.deepEqual(target.Arn, { Ref: topicRef[0] });
      assert.match(JSON.stringify(target.InputTransformer), /StackSet iamwatch-member/);
      assert.ok(target.DeadLetterConfig.Arn['Fn::GetAtt']);
      const failed = (Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[]).filter(
        (a) => a.Properties.MetricName === 'FailedInvocations' && JSON.stringify(a.Properties.Dimensions[0].Value) === JSON.stringify({ Ref: ruleId }),
      );
      assert.equal(failed.length, 1);
    });
  }
});
