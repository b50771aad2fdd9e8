import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { TEMPLATE_BODY_LIMIT } from '../lib/app';
import { ORG_ID, SECURITY_ACCOUNT, allowedActions, asArray, onlyResource, statementsOfRole, synth, forwardedPatternOfRulesJson } from './helpers';

/** docs/contracts.md, "Roles": exactly these, nothing more. */
const CONTRACT_MEMBER_ACTIONS = [
  'iam:GetUser',
  'iam:ListGroupsForUser',
  'iam:ListAttachedUserPolicies',
  'iam:ListUserPolicies',
  'iam:GetUserPolicy',
  'iam:ListAttachedGroupPolicies',
  'iam:ListGroupPolicies',
  'iam:GetGroupPolicy',
  'iam:ListMFADevices',
  'iam:ListAccessKeys',
  'iam:GetAccessKeyLastUsed',
  'iam:ListUserTags',
  'iam:GetLoginProfile',
  // The inventory sweep's (DESIGN.md, "Inventory").
  'iam:GenerateCredentialReport',
  'iam:GetCredentialReport',
  'iam:ListUsers',
  'iam:GetAccountAuthorizationDetails',
  'iam:GetPolicy',
  'iam:GetPolicyVersion',
  'securityhub:BatchImportFindings',
  'securityhub:GetFindings',
].sort();

const forwardedPattern = forwardedPatternOfRulesJson();
const centralBusArn = `arn:aws:events:us-east-1:${SECURITY_ACCOUNT}:event-bus/iamwatch`;

const built = synth();

/**
 * The member resources are checked in both places they are deployed: the StackSet template (member
 * accounts) and the management stack (the management account, which StackSets skip).
 */
for (const [where, template] of [
  ['member template (StackSet)', built.memberTemplate],
  ['management stack', built.managementTemplate],
] as const) {
  describe(where, () => {
    const [forwardRoleId, forwardRole] = onlyResource(template, 'AWS::IAM::Role', {
      RoleName: 'iamwatch-forward',
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' } })], Version: '2012-10-17' },
    });
    const [memberRoleId, memberRole] = onlyResource(template, 'AWS::IAM::Role', { RoleName: 'iamwatch-member' });

    test('the forwarding rule on the default bus matches exactly the in-scope events of rules.json', () => {
      const [, rule] = onlyResource(template, 'AWS::Events::Rule', { Name: 'iamwatch-forward' });
      assert.equal(rule.Properties.EventBusName, 'default');
      assert.equal(rule.Properties.State, 'ENABLED');
      assert.deepEqual(rule.Properties.EventPattern, forwardedPattern);
      const [dlqId] = onlyResource(template, 'AWS::SQS::Queue', { QueueName: 'iamwatch-forward-target-dlq' });
      assert.deepEqual(rule.Properties.Targets, [
        {
          Id: 'central-bus',
          Arn: centralBusArn,
          RoleArn: { 'Fn::GetAtt': [forwardRoleId, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
        },
      ]);
    });

    test('the role EventBridge uses may only put events on the central bus', () => {
      assert.equal(forwardRole.Properties.ManagedPolicyArns, undefined);
      assert.deepEqual(
        statementsOfRole(template, forwardRoleId).map((s) => [s.Effect, s.Action, s.Resource]),
        [['Allow', 'events:PutEvents', centralBusArn]],
      );
    });

    test('iamwatch-member is trusted only by the detect and inventory roles of the security account, within the org', () => {
      assert.deepEqual(memberRole.Properties.AssumeRolePolicyDocument.Statement, [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { AWS: [`arn:aws:iam::${SECURITY_ACCOUNT}:role/iamwatch-detect`, `arn:aws:iam::${SECURITY_ACCOUNT}:role/iamwatch-inventory`] },
          Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG_ID } },
        },
      ]);
    });

    test('iamwatch-member is allowed exactly the actions of docs/contracts.md, on this account only', () => {
      assert.equal(memberRole.Properties.ManagedPolicyArns, undefined);
      assert.deepEqual(allowedActions(template, memberRoleId), CONTRACT_MEMBER_ACTIONS);
      const statements = statementsOfRole(template, memberRoleId);
      assert.ok(statements.every((s) => s.Effect === 'Allow'));
      for (const s of statements) {
        if (s.Sid === 'InventoryAccountReads') {
          // Account-wide calls: no resource but *.
          assert.deepEqual(s.Resource, '*');
          assert.deepEqual(asArray(s.Action).sort(), ['iam:GenerateCredentialReport', 'iam:GetAccountAuthorizationDetails', 'iam:GetCredentialReport', 'iam:ListUsers']);
          continue;
        }
        if (s.Sid === 'InventoryPolicyReads') {
          // AWS managed policies and the account's own.
          const resources = asArray(s.Resource).map((r: unknown) => JSON.stringify(r));
          assert.equal(resources.length, 2);
          assert.ok(resources.includes('"arn:aws:iam::aws:policy/*"'), resources.join(', '));
          assert.ok(resources.some((r: string) => /AWS::AccountId|\d{12}/.test(r) && r.includes(':policy/*')), resources.join(', '));
          assert.deepEqual(asArray(s.Action).sort(), ['iam:GetPolicy', 'iam:GetPolicyVersion']);
          continue;
        }
        for (const r of asArray(s.Resource)) {
          const text = JSON.stringify(r);
          assert.ok(!/^"\*"$/.test(text), `no bare * resource (${s.Sid})`);
          assert.ok(/AWS::AccountId|\d{12}/.test(text), `resource ${text} is scoped to the account`);
        }
      }
    });
  });
}

describe('member template', () => {
  const t = built.memberTemplate.toJSON();

  test('holds only the forwarding rules, their role and dead-letter queue, the member and write-back roles', () => {
    const types = Object.values(t.Resources).map((r: any) => r.Type).sort();
    assert.deepEqual(types, ['AWS::Events::Rule', 'AWS::Events::Rule', 'AWS::IAM::Role', 'AWS::IAM::Role', 'AWS::IAM::Role', 'AWS::SQS::Queue', 'AWS::SQS::QueuePolicy']);
  });

  test('needs no CDK bootstrap in the member accounts and fits a StackSet template body', () => {
    assert.equal(t.Parameters, undefined, 'no BootstrapVersion parameter');
    assert.equal(t.Rules, undefined, 'no CheckBootstrapVersion rule');
    assert.ok(Buffer.byteLength(JSON.stringify(t)) < TEMPLATE_BODY_LIMIT);
    assert.doesNotMatch(JSON.stringify(t), /cdk-hnb659fds|AWS::CDK::Metadata/);
  });

  test('is account-agnostic: one template for every member account', () => {
    const text = JSON.stringify(t);
    const accounts = new Set(text.match(/\d{12}/g));
    assert.deepEqual([...accounts], [SECURITY_ACCOUNT], 'the only account named is the security account');
  });

  test('equals the template a fresh synthesis gives (deterministic)', () => {
    assert.deepEqual(Template.fromStack(synth().member).toJSON(), t);
  });
});
