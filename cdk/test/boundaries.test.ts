import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { DETECT_MAX_CONCURRENCY } from '../lib/constructs/detect';
import { ORG_ID, SECURITY_ACCOUNT, allowedActions, asArray, onlyResource, statementsOfRole, synth } from './helpers';

/**
 * The trust boundaries and delivery guarantees of the live pipeline (DESIGN.md, "Data flow" and
 * "Reliability rules"; issue 10): who may put what on which bus, where an undeliverable event
 * goes, who hears about it, and which role may do what.
 */
const built = synth();
const t = built.centralTemplate;
const json = t.toJSON();
const getAtt = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

const [busId] = onlyResource(t, 'AWS::Events::EventBus', { Name: 'iamwatch' });
const [findingsBusId] = onlyResource(t, 'AWS::Events::EventBus', { Name: 'iamwatch-findings' });
const [detectRoleId] = onlyResource(t, 'AWS::IAM::Role', { RoleName: 'iamwatch-detect' });
const [ticketRoleId] = onlyResource(t, 'AWS::IAM::Role', { RoleName: 'iamwatch-ticket' });
const [detectId, detect] = onlyResource(t, 'AWS::Lambda::Function', { FunctionName: 'iamwatch-detect' });
const [ticketId] = onlyResource(t, 'AWS::Lambda::Function', { FunctionName: 'iamwatch-ticket' });
const [topicId] = onlyResource(t, 'AWS::SNS::Topic', { TopicName: 'iamwatch-alarms' });

const busPolicies = (id: string) =>
  (Object.values(t.findResources('AWS::Events::EventBusPolicy')) as any[]).filter((p) => p.Properties.EventBusName.Ref === id).map((p) => p.Properties.Statement);

/** Text of a value with CloudFormation pseudo parameters and joins written out. */
function text(v: any): string {
  if (typeof v === 'string') return v;
  if (v?.Ref) return `\${${v.Ref}}`;
  if (v?.['Fn::Join']) return v['Fn::Join'][1].map(text).join(v['Fn::Join'][0]);
  return JSON.stringify(v);
}

describe('no forged findings: the buses', () => {
  test('the org bus accepts from the organization only events whose source is aws.iam or aws.signin', () => {
    const [s] = busPolicies(busId);
    assert.equal(busPolicies(busId).length, 1);
    assert.deepEqual(s.Condition.StringEquals['events:source'], ['aws.iam', 'aws.signin']);
    assert.ok(!s.Condition.StringEquals['events:source'].includes('iamwatch'));
  });

  test('no rule of the org bus reads finding events: the ticket route is on the findings bus', () => {
    const rules = Object.values(t.findResources('AWS::Events::Rule')) as any[];
    for (const r of rules.filter((r) => r.Properties.EventBusName?.Ref === busId)) {
      assert.ok(!JSON.stringify(r.Properties.EventPattern).includes('"iamwatch"'), r.Properties.Name);
    }
    const [, urgent] = onlyResource(t, 'AWS::Events::Rule', { Name: 'urgent-findings' });
    assert.deepEqual(urgent.Properties.EventBusName, { Ref: findingsBusId });
    assert.deepEqual(urgent.Properties.EventPattern.source, ['iamwatch']);
    assert.deepEqual(urgent.Properties.EventPattern.account, [SECURITY_ACCOUNT]);
  });

  test('the findings bus denies PutEvents to every principal but the detect role', () => {
    const statements = busPolicies(findingsBusId);
    assert.deepEqual(statements, [
      {
        Sid: 'cdk-iamwatch-only-detect-puts',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'events:PutEvents',
        Resource: getAtt(findingsBusId),
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': `arn:aws:iam::${SECURITY_ACCOUNT}:role/iamwatch-detect` } },
      },
    ]);
    assert.equal(json.Resources[detectRoleId].Properties.RoleName, 'iamwatch-detect');
  });

  test('detect publishes to the findings bus, and only there; ticket puts on no bus', () => {
    assert.deepEqual(detect.Properties.Environment.Variables.IAMWATCH_EVENT_BUS, getAtt(findingsBusId));
    const put = statementsOfRole(t, detectRoleId).filter((s) => asArray(s.Action).includes('events:PutEvents'));
    assert.deepEqual(put.map((s) => s.Resource), [getAtt(findingsBusId)]);
    assert.ok(!allowedActions(t, ticketRoleId).some((a) => a.startsWith('events:')));
  });
});

describe('coverage cannot be switched off silently', () => {
  /** Every target of every rule of a template has a DLQ in it that EventBridge may send to for that rule only. */
  function assertRuleTargetsHaveDlqs(template: Template): void {
    const resources = template.toJSON().Resources;
    const rules = Object.entries(template.findResources('AWS::Events::Rule')) as [string, any][];
    assert.ok(rules.length > 0);
    for (const [ruleId, rule] of rules) {
      for (const target of rule.Properties.Targets) {
        const dlqArn = target.DeadLetterConfig?.Arn;
        assert.ok(dlqArn?.['Fn::GetAtt'], `${ruleId}: target ${target.Id} has a dead-letter queue`);
        const dlqId = dlqArn['Fn::GetAtt'][0];
        assert.equal(resources[dlqId].Type, 'AWS::SQS::Queue');
        assert.equal(resources[dlqId].Properties.FifoQueue, undefined, 'EventBridge DLQs are standard queues');
        assert.equal(resources[dlqId].Properties.SqsManagedSseEnabled, true);
        const policies = (Object.values(template.findResources('AWS::SQS::QueuePolicy')) as any[]).filter((p) =>
          p.Properties.Queues.some((q: any) => q.Ref === dlqId),
        );
        const sends = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((s: any) => s.Effect === 'Allow');
        assert.equal(sends.length, 1, `${ruleId}: one statement lets EventBridge send to the DLQ`);
        assert.deepEqual(sends[0].Principal, { Service: 'events.amazonaws.com' });
        assert.deepEqual(asArray(sends[0].Action), ['sqs:SendMessage']);
        // The rule itself, or by name: this rule and (a template for every region) the other
        // forwarding rule of the template, the one the DLQ serves in the other regions.
        const sourceArns = asArray(sends[0].Condition.ArnEquals['aws:SourceArn']);
        const ruleNames = rules.map(([, r]) => `rule/${r.Properties.Name}`);
        const ruleArn = `rule/${rule.Properties.Name}`;
        assert.ok(
          (sourceArns.length === 1 && JSON.stringify(sourceArns[0]) === JSON.stringify(getAtt(ruleId))) ||
            (sourceArns.some((a) => text(a).endsWith(ruleArn)) && sourceArns.every((a) => ruleNames.some((n) => text(a).endsWith(n)))),
          `${ruleId}: the DLQ accepts only the events of this template's rules (${sourceArns.map(text).join(', ')})`,
        );
      }
    }
  }

  test('every rule target of the central stack has a dead-letter queue', () => assertRuleTargetsHaveDlqs(t));
  test('the member forwarding rule has a dead-letter queue (StackSet template)', () => assertRuleTargetsHaveDlqs(built.memberTemplate));
  test('the member forwarding rule has a dead-letter queue (management stack)', () => assertRuleTargetsHaveDlqs(built.managementTemplate));

  test('each central rule has an alarm on failed invocations and one on its dead-letter queue, notifying the topic', () => {
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[];
    for (const name of ['iam-events', 'urgent-findings']) {
      const [ruleId] = onlyResource(t, 'AWS::Events::Rule', { Name: name });
      const failed = alarms.filter(
        (a) => a.Properties.Namespace === 'AWS/Events' && a.Properties.MetricName === 'FailedInvocations' &&
          JSON.stringify(a.Properties.Dimensions) === JSON.stringify([{ Name: 'RuleName', Value: { Ref: ruleId } }]),
      );
      assert.equal(failed.length, 1, `FailedInvocations alarm of ${name}`);
      assert.deepEqual(failed[0].Properties.AlarmActions, [{ Ref: topicId }]);
      assert.equal(failed[0].Properties.Threshold, 1);
      const rule = json.Resources[ruleId];
      const dlqId = rule.Properties.Targets[0].DeadLetterConfig.Arn['Fn::GetAtt'][0];
      const depth = alarms.filter(
        (a) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          JSON.stringify(a.Properties.Dimensions[0].Value) === JSON.stringify({ 'Fn::GetAtt': [dlqId, 'QueueName'] }),
      );
      assert.equal(depth.length, 1, `DLQ depth alarm of ${name}`);
      assert.deepEqual(depth[0].Properties.AlarmActions, [{ Ref: topicId }]);
    }
  });

  test('CloudWatch of this account may publish to the alarm topic; requests without TLS are still denied', () => {
    const [, policy] = onlyResource(t, 'AWS::SNS::TopicPolicy', { Topics: [{ Ref: topicId }] });
    const statements = policy.Properties.PolicyDocument.Statement;
    const publish = statements.filter((s: any) => s.Effect === 'Allow' && s.Principal?.Service === 'cloudwatch.amazonaws.com');
    assert.equal(publish.length, 1);
    assert.deepEqual(asArray(publish[0].Action), ['sns:Publish']);
    assert.deepEqual(publish[0].Resource, { Ref: topicId });
    assert.deepEqual(publish[0].Condition, { StringEquals: { 'aws:SourceAccount': SECURITY_ACCOUNT } });
    assert.ok(statements.some((s: any) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false'));
  });

  test('the StackSet tolerates no failed account', () => {
    const [, stackSet] = onlyResource(t, 'AWS::CloudFormation::StackSet', { StackSetName: 'iamwatch-member' });
    assert.equal(stackSet.Properties.OperationPreferences.FailureToleranceCount, 0);
    assert.equal(stackSet.Properties.OperationPreferences.FailureTolerancePercentage, undefined);
  });

  for (const [where, template] of [['StackSet template', built.memberTemplate], ['management stack', built.managementTemplate]] as const) {
    test(`the forwarding role trusts EventBridge only for the forwarding rules of its own account (${where})`, () => {
      const roles = Object.values(template.findResources('AWS::IAM::Role')) as any[];
      const forward = roles.filter((r) => r.Properties.RoleName === 'iamwatch-forward');
      assert.ok(forward[0]?.Properties.AssumeRolePolicyDocument.Statement.every((s: any) => s.Principal?.Service === 'events.amazonaws.com'));
      assert.equal(forward.length, 1);
      const [s] = forward[0].Properties.AssumeRolePolicyDocument.Statement;
      const account = '(\\$\\{AWS::AccountId\\}|\\d{12})';
      const [iamRule, ...signInRules] = asArray(s.Condition.StringEquals['aws:SourceArn']).map(text);
      assert.match(iamRule, new RegExp(`^arn:aws:events:us-east-1:${account}:rule/iamwatch-forward$`));
      // The sign-in rules of the other sign-in regions, one each, and nothing else.
      const regions = signInRules.map((arn) => {
        const m = arn.match(new RegExp(`^arn:aws:events:([a-z0-9-]+):${account}:rule/iamwatch-forward-signin$`));
        assert.ok(m, arn);
        return m[1];
      });
      assert.deepEqual(regions, built.config.signinRegions.filter((r) => r !== 'us-east-1'));
      assert.ok(s.Condition.StringEquals['aws:SourceAccount'], 'aws:SourceAccount');
    });
  }
});

describe('least privilege', () => {
  for (const [where, template] of [['StackSet template', built.memberTemplate], ['management stack', built.managementTemplate]] as const) {
    test(`iamwatch-writeback may only BatchUpdateFindings on its own account's hub, assumed only by the ticket role (${where})`, () => {
      const [roleId, role] = onlyResource(template, 'AWS::IAM::Role', { RoleName: 'iamwatch-writeback' });
      assert.deepEqual(allowedActions(template, roleId), ['securityhub:BatchUpdateFindings']);
      const [s] = statementsOfRole(template, roleId);
      assert.match(text(s.Resource), /^arn:aws:securityhub:(\$\{AWS::Region\}|us-east-1):(\$\{AWS::AccountId\}|\d{12}):hub\/default$/);
      assert.deepEqual(role.Properties.AssumeRolePolicyDocument.Statement, [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${SECURITY_ACCOUNT}:role/iamwatch-ticket` },
          Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG_ID } },
        },
      ]);
    });

    test(`iamwatch-member cannot update findings (${where})`, () => {
      const [roleId] = onlyResource(template, 'AWS::IAM::Role', { RoleName: 'iamwatch-member' });
      assert.ok(!allowedActions(template, roleId).includes('securityhub:BatchUpdateFindings'));
    });
  }

  test("detect's own role cannot update findings; ticket's own role may only update them", () => {
    const securityhub = (roleId: string) => allowedActions(t, roleId).filter((a) => a.startsWith('securityhub:'));
    assert.deepEqual(securityhub(detectRoleId), ['securityhub:BatchImportFindings', 'securityhub:GetFindings']);
    assert.deepEqual(securityhub(ticketRoleId), ['securityhub:BatchUpdateFindings']);
  });

  test('the ticket function is told the write-back role', () => {
    const [, ticket] = onlyResource(t, 'AWS::Lambda::Function', { FunctionName: 'iamwatch-ticket' });
    assert.equal(ticket.Properties.Environment.Variables.IAMWATCH_MEMBER_ROLE, undefined);
    assert.equal(ticket.Properties.Environment.Variables.IAMWATCH_WRITEBACK_ROLE, 'iamwatch-writeback');
  });
});

describe('within quotas', () => {
  test('every queue-driven function has a MaximumConcurrency: 2 or more, detect sized for 10 BatchImportFindings a second', () => {
    const mappings = Object.values(t.findResources('AWS::Lambda::EventSourceMapping')) as any[];
    assert.equal(mappings.length, 2);
    for (const m of mappings) {
      const max = m.Properties.ScalingConfig?.MaximumConcurrency;
      assert.ok(Number.isInteger(max) && max >= 2 && max <= 1000, `${JSON.stringify(m.Properties.FunctionName)}: ${max}`);
    }
    const [, d] = onlyResource(t, 'AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: detectId } });
    assert.equal(d.Properties.ScalingConfig.MaximumConcurrency, DETECT_MAX_CONCURRENCY);
    assert.ok(DETECT_MAX_CONCURRENCY <= 10);
    const [, k] = onlyResource(t, 'AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: ticketId } });
    assert.equal(k.Properties.ScalingConfig.MaximumConcurrency, 2);
  });
});
