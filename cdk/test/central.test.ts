import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { DEFAULT_SIGNIN_REGIONS } from '../lib/config';
import {
  MANAGEMENT_ACCOUNT,
  ORG_ID,
  SECURITY_ACCOUNT,
  allowedActions,
  asArray,
  onlyResource,
  resourcesOf,
  statementsOfRole,
  synth,
  tmpDir,
  forwardedPatternOfRulesJson,
} from './helpers';

const built = synth();
const t = built.centralTemplate;
const json = t.toJSON();
const forwardedPattern = forwardedPatternOfRulesJson();

const [busId] = onlyResource(t, 'AWS::Events::EventBus', { Name: 'iamwatch' });
const [findingsBusId] = onlyResource(t, 'AWS::Events::EventBus', { Name: 'iamwatch-findings' });
const [eventsQueueId, eventsQueue] = onlyResource(t, 'AWS::SQS::Queue', { QueueName: 'iamwatch-events' });
const [eventsDlqId, eventsDlq] = onlyResource(t, 'AWS::SQS::Queue', { QueueName: 'iamwatch-events-dlq' });
const [ticketsQueueId, ticketsQueue] = onlyResource(t, 'AWS::SQS::Queue', { QueueName: 'iamwatch-tickets' });
const [ticketsDlqId, ticketsDlq] = onlyResource(t, 'AWS::SQS::Queue', { QueueName: 'iamwatch-tickets-dlq' });
const [detectId, detect] = onlyResource(t, 'AWS::Lambda::Function', { FunctionName: 'iamwatch-detect' });
const [ticketId, ticket] = onlyResource(t, 'AWS::Lambda::Function', { FunctionName: 'iamwatch-ticket' });
const [detectRoleId] = onlyResource(t, 'AWS::IAM::Role', { RoleName: 'iamwatch-detect' });
const [ticketRoleId] = onlyResource(t, 'AWS::IAM::Role', { RoleName: 'iamwatch-ticket' });
const [topicId, topic] = onlyResource(t, 'AWS::SNS::Topic', { TopicName: 'iamwatch-alarms' });

const getAtt = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('central bus', () => {
  test('its policy allows only events:PutEvents, only from principals of the organization, only of aws.iam and aws.signin', () => {
    const policies = (Object.values(resourcesOf(t, 'AWS::Events::EventBusPolicy')) as any[]).filter((p) => p.Properties.EventBusName.Ref === busId);
    assert.equal(policies.length, 1);
    const p = policies[0].Properties;
    assert.deepEqual(p.EventBusName, { Ref: busId });
    const s = p.Statement;
    assert.equal(s.Effect, 'Allow');
    assert.deepEqual(asArray(s.Action), ['events:PutEvents']);
    assert.deepEqual(s.Condition, { StringEquals: { 'aws:PrincipalOrgID': ORG_ID, 'events:source': ['aws.iam', 'aws.signin'] } });
    assert.deepEqual(s.Resource, getAtt(busId));
  });

  test('the iam-events rule matches exactly the in-scope events of rules.json and feeds the events queue', () => {
    const [, rule] = onlyResource(t, 'AWS::Events::Rule', { Name: 'iam-events' });
    assert.deepEqual(rule.Properties.EventBusName, { Ref: busId });
    assert.deepEqual(rule.Properties.EventPattern, forwardedPattern);
    assert.equal(rule.Properties.Targets.length, 1);
    assert.deepEqual(rule.Properties.Targets[0].Arn, getAtt(eventsQueueId));
  });
});

describe('queues', () => {
  for (const [name, id, q] of [
    ['iamwatch-events', eventsQueueId, eventsQueue],
    ['iamwatch-events-dlq', eventsDlqId, eventsDlq],
    ['iamwatch-tickets', ticketsQueueId, ticketsQueue],
    ['iamwatch-tickets-dlq', ticketsDlqId, ticketsDlq],
  ] as const) {
    test(`${name} is encrypted and denies requests without TLS`, () => {
      assert.equal(q.Properties.SqsManagedSseEnabled, true);
      const policies = (Object.values(resourcesOf(t, 'AWS::SQS::QueuePolicy')) as any[]).filter((p) =>
        p.Properties.Queues.some((r: any) => r.Ref === id),
      );
      assert.equal(policies.length, 1);
      const deny = policies[0].Properties.PolicyDocument.Statement.filter((s: any) => s.Effect === 'Deny');
      assert.deepEqual(deny, [
        {
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Resource: getAtt(id),
        },
      ]);
    });
  }

  test('iamwatch-events has a DLQ with maxReceiveCount and a visibility timeout >= 6x the detect timeout', () => {
    assert.deepEqual(eventsQueue.Properties.RedrivePolicy, { deadLetterTargetArn: getAtt(eventsDlqId), maxReceiveCount: 5 });
    assert.ok(eventsQueue.Properties.VisibilityTimeout >= 6 * detect.Properties.Timeout,
      `visibility ${eventsQueue.Properties.VisibilityTimeout}s < 6 x ${detect.Properties.Timeout}s`);
    assert.equal(eventsDlq.Properties.MessageRetentionPeriod, 14 * 24 * 3600);
  });

  test('iamwatch-tickets is a standard queue (no message group to block) with its DLQ and a visibility timeout >= 6x the ticket timeout', () => {
    assert.equal(ticketsQueue.Properties.FifoQueue, undefined);
    assert.equal(ticketsQueue.Properties.ContentBasedDeduplication, undefined);
    assert.equal(ticketsDlq.Properties.FifoQueue, undefined);
    assert.deepEqual(ticketsQueue.Properties.RedrivePolicy, { deadLetterTargetArn: getAtt(ticketsDlqId), maxReceiveCount: 5 });
    assert.ok(ticketsQueue.Properties.VisibilityTimeout >= 6 * ticket.Properties.Timeout);
    assert.equal(ticketsDlq.Properties.MessageRetentionPeriod, 14 * 24 * 3600);
  });
});

describe('functions', () => {
  for (const [name, fn, roleId] of [
    ['detect', detect, detectRoleId],
    ['ticket', ticket, ticketRoleId],
  ] as const) {
    test(`${name} runs on arm64 provided.al2023 with its own role and a log group with retention`, () => {
      assert.deepEqual(fn.Properties.Architectures, ['arm64']);
      assert.equal(fn.Properties.Runtime, 'provided.al2023');
      assert.equal(fn.Properties.Handler, 'bootstrap');
      assert.deepEqual(fn.Properties.Role, getAtt(roleId));
      const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref;
      const logGroup = json.Resources[logGroupId];
      assert.equal(logGroup.Type, 'AWS::Logs::LogGroup');
      assert.equal(logGroup.Properties.LogGroupName, `/aws/lambda/${fn.Properties.FunctionName}`);
      assert.equal(logGroup.Properties.RetentionInDays, 90);
    });

    test(`${name}'s role has no managed policy and no wildcard action`, () => {
      const role = json.Resources[roleId];
      assert.equal(role.Properties.ManagedPolicyArns, undefined);
      assert.deepEqual(role.Properties.AssumeRolePolicyDocument.Statement, [
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
      for (const action of allowedActions(t, roleId)) assert.ok(!action.includes('*') || action === 'kms:GenerateDataKey*', action);
    });
  }

  test('detect gets the environment of docs/contracts.md and no secret', () => {
    assert.deepEqual(detect.Properties.Environment.Variables, {
      IAMWATCH_EVENT_BUS: getAtt(findingsBusId),
      IAMWATCH_MEMBER_ROLE: 'iamwatch-member',
      IAMWATCH_ORG_ROLE_ARN: `arn:aws:iam::${MANAGEMENT_ACCOUNT}:role/iamwatch-org-reader`,
      IAMWATCH_POLICY_FILE: '/var/task/policy.toml',
      IAMWATCH_CACHE_TTL_SECONDS: '300',
      IAMWATCH_RUNBOOK_BASE_URL: `https://us-east-1.console.aws.amazon.com/s3/object/iamwatch-runbooks-${SECURITY_ACCOUNT}-us-east-1?region=us-east-1&bucketType=general&prefix=runbooks/`,
    });
  });

  test('detect is fed by the events queue: batches of 100 gathered for up to 5 s, ReportBatchItemFailures', () => {
    const [, esm] = onlyResource(t, 'AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: detectId } });
    assert.deepEqual(esm.Properties.EventSourceArn, getAtt(eventsQueueId));
    // Batches worth batching: one BatchImportFindings call per 100 findings of an account.
    assert.ok(esm.Properties.BatchSize >= 100 && esm.Properties.BatchSize <= 10000, `${esm.Properties.BatchSize}`);
    // Above 10 messages Lambda requires a batching window; a few seconds keeps a lone finding quick.
    assert.ok(esm.Properties.MaximumBatchingWindowInSeconds >= 1 && esm.Properties.MaximumBatchingWindowInSeconds <= 10);
    assert.deepEqual(esm.Properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
    // AWS's formula: six times the function timeout plus the batching window.
    assert.equal(eventsQueue.Properties.VisibilityTimeout, 6 * detect.Properties.Timeout + esm.Properties.MaximumBatchingWindowInSeconds);
    // A batch must finish well inside the timeout: the function keeps 20 s of it for its deadline budget.
    assert.ok(detect.Properties.Timeout >= 40, `${detect.Properties.Timeout}`);
  });

  test('ticket is fed by the tickets queue with ReportBatchItemFailures', () => {
    const [, esm] = onlyResource(t, 'AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: ticketId } });
    assert.deepEqual(esm.Properties.EventSourceArn, getAtt(ticketsQueueId));
    assert.ok(esm.Properties.BatchSize >= 1 && esm.Properties.BatchSize <= 10);
    assert.equal(esm.Properties.MaximumBatchingWindowInSeconds, undefined, 'tickets are not held back to fill a batch');
    assert.deepEqual(esm.Properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
  });

  test('the detect and ticket packages hold their bootstrap and the configured policy file as policy.toml', () => {
    for (const fn of [detect, ticket]) {
      const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
      const assetDir = path.join(built.app.outdir, `asset.${hash}`);
      assert.deepEqual(fs.readdirSync(assetDir).sort(), ['bootstrap', 'policy.toml']);
      assert.equal(
        fs.readFileSync(path.join(assetDir, 'policy.toml'), 'utf8'),
        fs.readFileSync(path.join(__dirname, '..', 'policy.toml'), 'utf8'),
      );
      assert.ok(fs.statSync(path.join(assetDir, 'bootstrap')).mode & 0o100, 'bootstrap is executable');
    }
    assert.notEqual(detect.Properties.Code.S3Key, ticket.Properties.Code.S3Key);
  });

  test('a different policy file changes the detect package', () => {
    const dir = tmpDir('iamwatch-policy-');
    const policy = path.join(dir, 'custom.toml');
    fs.writeFileSync(policy, 'critical_ous = ["Prod"]\n');
    const other = synth({ 'iamwatch:policyFile': policy }).centralTemplate.toJSON();
    const [otherDetect] = Object.values(other.Resources).filter((r: any) => r.Properties?.FunctionName === 'iamwatch-detect') as any[];
    assert.notEqual(otherDetect.Properties.Code.S3Key, detect.Properties.Code.S3Key);
  });
});

describe('roles of the functions', () => {
  const assumeStatements = (roleId: string) =>
    statementsOfRole(t, roleId).filter((s) => asArray(s.Action).some((a: string) => a.startsWith('sts:')));

  test('detect may assume only iamwatch-member in the organization and the org-reader role', () => {
    assert.deepEqual(
      assumeStatements(detectRoleId).map((s) => ({ Action: s.Action, Resource: s.Resource, Condition: s.Condition })),
      [
        { Action: 'sts:AssumeRole', Resource: 'arn:aws:iam::*:role/iamwatch-member', Condition: { StringEquals: { 'aws:ResourceOrgID': ORG_ID } } },
        { Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${MANAGEMENT_ACCOUNT}:role/iamwatch-org-reader`, Condition: undefined },
      ],
    );
  });

  test('ticket may assume only iamwatch-writeback in the organization', () => {
    assert.deepEqual(
      assumeStatements(ticketRoleId).map((s) => ({ Action: s.Action, Resource: s.Resource, Condition: s.Condition })),
      [{ Action: 'sts:AssumeRole', Resource: 'arn:aws:iam::*:role/iamwatch-writeback', Condition: { StringEquals: { 'aws:ResourceOrgID': ORG_ID } } }],
    );
  });

  test('detect publishes only to the iamwatch-findings bus', () => {
    const put = statementsOfRole(t, detectRoleId).filter((s) => asArray(s.Action).includes('events:PutEvents'));
    assert.deepEqual(put.map((s) => s.Resource), [getAtt(findingsBusId)]);
  });
});

describe('urgent findings -> tickets', () => {
  test('the urgent-findings rule matches active and archived findings of this account with score >= 70 (HIGH) on the findings bus and feeds the tickets queue', () => {
    const [, rule] = onlyResource(t, 'AWS::Events::Rule', { Name: 'urgent-findings' });
    assert.deepEqual(rule.Properties.EventBusName, { Ref: findingsBusId });
    assert.deepEqual(rule.Properties.EventPattern, {
      'source': ['iamwatch'],
      'account': ['111122223333'],
      'detail-type': ['IAM Watch Finding'],
      'detail': { recordState: ['ACTIVE', 'ARCHIVED'], score: [{ numeric: ['>=', 70] }] },
    });
    assert.equal(rule.Properties.Targets.length, 1);
    assert.deepEqual(rule.Properties.Targets[0].Arn, getAtt(ticketsQueueId));
    assert.equal(rule.Properties.Targets[0].SqsParameters, undefined, 'no message group: one bad message never blocks others');
  });

  // contracts.md: LOW 1, MEDIUM 40, HIGH 70, CRITICAL 90.
  const dir = tmpDir('iamwatch-policy-');
  const neutralPolicy = path.join(dir, 'policy.toml');
  fs.writeFileSync(neutralPolicy, 'trusted_services = ["cloudformation.amazonaws.com"]\n');
  for (const [label, score] of [['LOW', 1], ['MEDIUM', 40], ['HIGH', 70], ['CRITICAL', 90]] as const) {
    test(`threshold ${label} -> score >= ${score}`, () => {
      const other = synth({ 'iamwatch:ticketThreshold': label, 'iamwatch:policyFile': neutralPolicy }).centralTemplate;
      other.hasResourceProperties('AWS::Events::Rule', {
        Name: 'urgent-findings',
        EventPattern: Match.objectLike({ detail: { recordState: ['ACTIVE', 'ARCHIVED'], score: [{ numeric: ['>=', score] }] } }),
      });
    });
  }
});

describe('secrets', () => {
  test('Jira and Slack secrets exist, only their ARNs reach the ticket function, and only it may read them', () => {
    const [jiraId] = onlyResource(t, 'AWS::SecretsManager::Secret', { Name: 'iamwatch/jira' });
    const [slackId] = onlyResource(t, 'AWS::SecretsManager::Secret', { Name: 'iamwatch/slack' });
    const [ledgerId] = onlyResource(t, 'AWS::DynamoDB::Table', { TableName: 'iamwatch-ticket-ledger' });
    assert.deepEqual(ticket.Properties.Environment.Variables, {
      IAMWATCH_WRITEBACK_ROLE: 'iamwatch-writeback',
      IAMWATCH_POLICY_FILE: '/var/task/policy.toml',
      IAMWATCH_SECURITY_ACCOUNT: SECURITY_ACCOUNT,
      IAMWATCH_LEDGER_TABLE: { Ref: ledgerId },
      IAMWATCH_TICKETS_DLQ_URL: { Ref: ticketsDlqId },
      IAMWATCH_JIRA_BASE_URL: 'https://example.atlassian.net',
      IAMWATCH_JIRA_PROJECT: 'SEC',
      IAMWATCH_JIRA_SECRET_ARN: { Ref: jiraId },
      IAMWATCH_SLACK_SECRET_ARN: { Ref: slackId },
    });
    const reads = statementsOfRole(t, ticketRoleId).filter((s) => asArray(s.Action).includes('secretsmanager:GetSecretValue'));
    assert.deepEqual(reads.flatMap((s) => asArray(s.Resource)).sort((a: any, b: any) => a.Ref.localeCompare(b.Ref)),
      [{ Ref: jiraId }, { Ref: slackId }].sort((a, b) => a.Ref.localeCompare(b.Ref)));
    for (const s of statementsOfRole(t, detectRoleId)) assert.ok(!asArray(s.Action).some((a: string) => a.startsWith('secretsmanager:')));
    // No secret value in the template: the values are generated, then replaced by the operator.
    for (const id of [jiraId, slackId]) assert.equal(json.Resources[id].Properties.SecretString, undefined);
  });

  test('without Jira and Slack there are no secrets and no notification variables', () => {
    const other = synth({ 'iamwatch:jiraBaseUrl': '', 'iamwatch:slackEnabled': false }).centralTemplate;
    other.resourceCountIs('AWS::SecretsManager::Secret', 0);
    other.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'iamwatch-ticket',
      Environment: { Variables: Match.objectEquals({
        IAMWATCH_WRITEBACK_ROLE: 'iamwatch-writeback',
        IAMWATCH_POLICY_FILE: '/var/task/policy.toml',
        IAMWATCH_SECURITY_ACCOUNT: SECURITY_ACCOUNT,
        IAMWATCH_LEDGER_TABLE: Match.anyValue(),
        IAMWATCH_TICKETS_DLQ_URL: Match.anyValue(),
      }) },
    });
  });
});

describe('logs and alarms', () => {
  test('log retention follows iamwatch:logRetentionDays', () => {
    const other = synth({ 'iamwatch:logRetentionDays': 30 }).centralTemplate;
    const groups = Object.values(other.findResources('AWS::Logs::LogGroup')) as any[];
    assert.equal(groups.length, 3, 'detect, ticket, inventory');
    for (const g of groups) assert.equal(g.Properties.RetentionInDays, 30);
  });

  const alarms = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')) as any[];
  const alarmOn = (metric: string, dimension: any) =>
    alarms.filter((a) => a.Properties.MetricName === metric && a.Properties.Dimensions.some((d: any) => JSON.stringify(d.Value) === JSON.stringify(dimension)));

  for (const [what, metric, dim] of [
    ['events DLQ depth', 'ApproximateNumberOfMessagesVisible', { 'Fn::GetAtt': [eventsDlqId, 'QueueName'] }],
    ['tickets DLQ depth', 'ApproximateNumberOfMessagesVisible', { 'Fn::GetAtt': [ticketsDlqId, 'QueueName'] }],
    ['detect errors', 'Errors', { Ref: detectId }],
    ['ticket errors', 'Errors', { Ref: ticketId }],
    ['events oldest message age', 'ApproximateAgeOfOldestMessage', { 'Fn::GetAtt': [eventsQueueId, 'QueueName'] }],
    ['tickets oldest message age', 'ApproximateAgeOfOldestMessage', { 'Fn::GetAtt': [ticketsQueueId, 'QueueName'] }],
  ] as const) {
    test(`an alarm on ${what} notifies the SNS topic`, () => {
      const found = alarmOn(metric, dim);
      assert.equal(found.length, 1, `one alarm on ${metric} of ${JSON.stringify(dim)}`);
      assert.deepEqual(found[0].Properties.AlarmActions, [{ Ref: topicId }]);
      assert.equal(found[0].Properties.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
      assert.ok(found[0].Properties.Threshold >= 1);
    });
  }

  test('the alarm topic is KMS-encrypted with a rotating key CloudWatch may use, and TLS-only', () => {
    const keyId = topic.Properties.KmsMasterKeyId['Fn::GetAtt'][0];
    const key = json.Resources[keyId];
    assert.equal(key.Properties.EnableKeyRotation, true);
    assert.ok(key.Properties.KeyPolicy.Statement.some((s: any) => s.Principal?.Service === 'cloudwatch.amazonaws.com'));
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('an alarm e-mail address is subscribed when configured', () => {
    synth({ 'iamwatch:alarmEmail': 'secops@example.com' }).centralTemplate.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'secops@example.com',
    });
    t.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('member StackSet', () => {
  const [stackSetId, stackSet] = onlyResource(t, 'AWS::CloudFormation::StackSet', { StackSetName: 'iamwatch-member' });

  test('is service-managed, auto-deploys to the target OUs in every sign-in region, as delegated administrator', () => {
    const p = stackSet.Properties;
    assert.equal(p.PermissionModel, 'SERVICE_MANAGED');
    assert.deepEqual(p.AutoDeployment, { Enabled: true, RetainStacksOnAccountRemoval: false });
    assert.equal(p.CallAs, 'DELEGATED_ADMIN');
    assert.deepEqual(p.Capabilities, ['CAPABILITY_NAMED_IAM']);
    assert.deepEqual(p.StackInstancesGroup, [
      { DeploymentTargets: { OrganizationalUnitIds: ['ou-ab12-11111111', 'ou-ab12-22222222'] }, Regions: built.config.signinRegions },
    ]);
    assert.deepEqual(p.StackInstancesGroup[0].Regions, DEFAULT_SIGNIN_REGIONS, 'the configured list (cdk.json: the default)');
    // us-east-1 first: its instance creates the forwarding role the other regions use.
    assert.equal(p.OperationPreferences.RegionConcurrencyType, 'SEQUENTIAL');
    assert.deepEqual(p.OperationPreferences.RegionOrder, ['us-east-1', ...DEFAULT_SIGNIN_REGIONS.filter((r) => r !== 'us-east-1')]);
    const few = onlyResource(synth({ 'iamwatch:signinRegions': ['eu-west-1', 'us-east-1'] }).centralTemplate, 'AWS::CloudFormation::StackSet')[1];
    assert.deepEqual(few.Properties.StackInstancesGroup[0].Regions, ['eu-west-1', 'us-east-1']);
    assert.deepEqual(few.Properties.OperationPreferences.RegionOrder, ['us-east-1', 'eu-west-1']);
  });

  test('its template body is the synthesized member template', () => {
    assert.deepEqual(JSON.parse(stackSet.Properties.TemplateBody), built.memberTemplate.toJSON());
  });

  test('is created after the function roles the member role trusts', () => {
    const deps: string[] = json.Resources[stackSetId].DependsOn;
    assert.ok(deps.includes(detectRoleId) && deps.includes(ticketRoleId), JSON.stringify(deps));
  });
});

test('the central stack is pinned to the security account in us-east-1', () => {
  assert.equal(built.central.account, '111122223333');
  assert.equal(built.central.region, 'us-east-1');
});
