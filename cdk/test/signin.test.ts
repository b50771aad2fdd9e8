import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_SIGNIN_REGIONS } from '../lib/config';
import { MANAGEMENT_ACCOUNT, SECURITY_ACCOUNT, onlyResource, synth } from './helpers';

/**
 * Console sign-ins (issue 11, point 3): AWS delivers `aws.signin` events in the region of the
 * sign-in endpoint, so every account forwards them from every sign-in region to the central bus
 * in us-east-1, with one forwarding role per account (IAM is global).
 */
const built = synth();
const member = built.memberTemplate.toJSON();
const centralBusArn = `arn:aws:events:us-east-1:${SECURITY_ACCOUNT}:event-bus/iamwatch`;

/** The sign-in pattern computed here from lib/rules.json: the rules of signin.amazonaws.com. */
function signInPatternOfRulesJson(): Record<string, unknown> {
  const rules: any[] = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'lib', 'rules.json'), 'utf8'));
  const names = rules.filter((r) => r.event_source === 'signin.amazonaws.com').flatMap((r) => [...r.event_names, ...r.resolving_events]);
  return {
    'source': ['aws.signin'],
    'detail-type': ['AWS Console Sign In via CloudTrail'],
    'detail': { eventSource: ['signin.amazonaws.com'], eventName: [...new Set<string>(names)].sort() },
  };
}

/** The resources of a template that exist in a region: its conditions evaluated there. */
function resourcesIn(template: any, region: string): Record<string, any> {
  const evaluate = (expr: any): boolean => {
    if (expr['Fn::Equals']) {
      const [a, b] = expr['Fn::Equals'].map((v: any) => (v?.Ref === 'AWS::Region' ? region : v));
      return a === b;
    }
    if (expr['Fn::Not']) return !evaluate(expr['Fn::Not'][0]);
    if (expr.Condition) return evaluate(template.Conditions[expr.Condition]);
    throw new Error(`condition not understood: ${JSON.stringify(expr)}`);
  };
  return Object.fromEntries(
    Object.entries(template.Resources).filter(([, r]: [string, any]) => r.Condition === undefined || evaluate(template.Conditions[r.Condition])),
  );
}

/** Text of a value with pseudo parameters and joins written out. */
function text(v: any): string {
  if (typeof v === 'string') return v;
  if (v?.Ref) return `\${${v.Ref}}`;
  if (v?.['Fn::Join']) return v['Fn::Join'][1].map(text).join(v['Fn::Join'][0]);
  return JSON.stringify(v);
}

describe('sign-in forwarding, member accounts (StackSet template)', () => {
  const [signInId, signIn] = onlyResource(built.memberTemplate, 'AWS::Events::Rule', { Name: 'iamwatch-forward-signin' });
  const [dlqId] = onlyResource(built.memberTemplate, 'AWS::SQS::Queue', { QueueName: 'iamwatch-forward-target-dlq' });

  test('the sign-in rule matches the console sign-ins of rules.json (source aws.signin, its detail-type, the event names)', () => {
    assert.deepEqual(signIn.Properties.EventPattern, signInPatternOfRulesJson());
    assert.ok(signIn.Properties.EventPattern.detail.eventName.includes('ConsoleLogin'));
    assert.equal(signIn.Properties.EventBusName, 'default');
    assert.equal(signIn.Properties.State, 'ENABLED');
  });

  test('it puts on the central bus in us-east-1 with the account forwarding role, undeliverable events to its DLQ', () => {
    assert.equal(signIn.Properties.Targets.length, 1);
    const [target] = signIn.Properties.Targets;
    assert.equal(target.Arn, centralBusArn);
    assert.equal(text(target.RoleArn), 'arn:aws:iam::${AWS::AccountId}:role/iamwatch-forward');
    assert.deepEqual(target.DeadLetterConfig, { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } });
    assert.deepEqual(target.RetryPolicy, { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 });
  });

  test('the template serves every region: roles and the IAM rule in us-east-1, the sign-in rule elsewhere, a DLQ in each', () => {
    assert.deepEqual(member.Conditions.InHomeRegion, { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] });
    assert.deepEqual(member.Conditions.InOtherSignInRegion, { 'Fn::Not': [{ Condition: 'InHomeRegion' }] });
    assert.equal(member.Resources[signInId].Condition, 'InOtherSignInRegion');
    assert.equal(member.Resources[dlqId].Condition, undefined);
    for (const [id, r] of Object.entries(member.Resources) as [string, any][]) {
      if (r.Type === 'AWS::IAM::Role') assert.equal(r.Condition, 'InHomeRegion', id);
    }
  });

  test('per account, across the StackSet regions: each role once by name, one forwarding rule and one DLQ per region', () => {
    const roleNames: string[] = [];
    for (const region of built.config.signinRegions) {
      const here = Object.values(resourcesIn(member, region));
      for (const r of here.filter((r) => r.Type === 'AWS::IAM::Role')) {
        assert.ok(r.Properties.RoleName, 'every role has a fixed name, trusted or referenced by it');
        roleNames.push(r.Properties.RoleName);
      }
      const rules = here.filter((r) => r.Type === 'AWS::Events::Rule');
      assert.equal(rules.length, 1, region);
      assert.equal(rules[0].Properties.Name, region === 'us-east-1' ? 'iamwatch-forward' : 'iamwatch-forward-signin');
      assert.ok(JSON.stringify(rules[0].Properties.EventPattern).includes('"aws.signin"'), `${region} forwards sign-ins`);
      assert.equal(here.filter((r) => r.Type === 'AWS::SQS::Queue').length, 1, region);
    }
    assert.deepEqual(roleNames.sort(), ['iamwatch-forward', 'iamwatch-member', 'iamwatch-writeback']);
  });

  test('the us-east-1 forwarding rule forwards the sign-ins delivered there (its pattern holds the sign-in branch)', () => {
    const [, rule] = onlyResource(built.memberTemplate, 'AWS::Events::Rule', { Name: 'iamwatch-forward' });
    assert.ok(rule.Properties.EventPattern.$or.some((b: any) => JSON.stringify(b) === JSON.stringify(signInPatternOfRulesJson())));
  });
});

describe('sign-in forwarding, management account', () => {
  const others = DEFAULT_SIGNIN_REGIONS.filter((r) => r !== 'us-east-1');

  test('a stack per sign-in region but us-east-1, in the management account, after IamwatchManagement', () => {
    assert.deepEqual([...built.managementSignIn.keys()], others);
    for (const [region, stack] of built.managementSignIn) {
      assert.equal(stack.account, MANAGEMENT_ACCOUNT);
      assert.equal(stack.region, region);
      assert.equal(stack.stackName, `IamwatchManagementSignIn-${region}`);
      assert.ok(stack.dependencies.includes(built.management), region);
    }
  });

  test('each has the sign-in rule, its DLQ, the management forwarding role by ARN, and no role of its own', () => {
    for (const [region, stack] of built.managementSignIn) {
      const t = Template.fromStack(stack);
      const [, rule] = onlyResource(t, 'AWS::Events::Rule', { Name: 'iamwatch-forward-signin' });
      const [dlqId] = onlyResource(t, 'AWS::SQS::Queue', { QueueName: 'iamwatch-forward-target-dlq' });
      assert.deepEqual(rule.Properties.EventPattern, signInPatternOfRulesJson(), region);
      assert.deepEqual(rule.Properties.Targets, [
        {
          Id: 'central-bus',
          Arn: centralBusArn,
          RoleArn: `arn:aws:iam::${MANAGEMENT_ACCOUNT}:role/iamwatch-forward`,
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
        },
      ]);
      const [, dlqPolicy] = onlyResource(t, 'AWS::SQS::QueuePolicy');
      const send = dlqPolicy.Properties.PolicyDocument.Statement.find((s: any) => s.Effect === 'Allow');
      assert.equal(send.Condition.ArnEquals['aws:SourceArn'], `arn:aws:events:${region}:${MANAGEMENT_ACCOUNT}:rule/iamwatch-forward-signin`);
      t.resourceCountIs('AWS::IAM::Role', 0);
      assert.equal(t.toJSON().Parameters, undefined, 'no cdk bootstrap needed in the region');
    }
  });

  test('the management forwarding role is created once, in us-east-1, trusted for every sign-in rule', () => {
    const [, role] = onlyResource(built.managementTemplate, 'AWS::IAM::Role', { RoleName: 'iamwatch-forward' });
    const [s] = role.Properties.AssumeRolePolicyDocument.Statement;
    assert.deepEqual(s.Condition.StringEquals['aws:SourceArn'], [
      `arn:aws:events:us-east-1:${MANAGEMENT_ACCOUNT}:rule/iamwatch-forward`,
      ...others.map((r) => `arn:aws:events:${r}:${MANAGEMENT_ACCOUNT}:rule/iamwatch-forward-signin`),
    ]);
  });

  test('follows the configured regions, and none without the management account member resources', () => {
    const few = synth({ 'iamwatch:signinRegions': ['us-east-1', 'eu-central-1'] });
    assert.deepEqual([...few.managementSignIn.keys()], ['eu-central-1']);
    assert.deepEqual(
      onlyResource(few.centralTemplate, 'AWS::CloudFormation::StackSet')[1].Properties.StackInstancesGroup[0].Regions,
      ['us-east-1', 'eu-central-1'],
    );
    assert.equal(synth({ 'iamwatch:monitorManagementAccount': false }).managementSignIn.size, 0);
    const onlyHome = synth({ 'iamwatch:signinRegions': ['us-east-1'] });
    assert.equal(onlyHome.managementSignIn.size, 0);
    const [, role] = onlyResource(onlyHome.managementTemplate, 'AWS::IAM::Role', { RoleName: 'iamwatch-forward' });
    assert.equal(role.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals['aws:SourceArn'], `arn:aws:events:us-east-1:${MANAGEMENT_ACCOUNT}:rule/iamwatch-forward`);
  });
});
