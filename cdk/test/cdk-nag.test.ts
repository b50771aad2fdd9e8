import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { synth } from './helpers';

/**
 * cdk-nag's AwsSolutions pack over the whole construct tree, nested stage included. `cdk synth`
 * fails on findings in the app's own stacks (bin/iamwatch.ts registers the pack), but findings
 * inside a nested stage (the StackSet's member template) do not fail synthesis: this test does.
 */
function findings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}: ${v.description}`),
  );
}

/** Every `Validations.of(x).acknowledge(...)` in the tree: [path, rule id, reason]. */
function acknowledgements(scope: IConstruct): [string, string, string][] {
  const out: [string, string, string][] = [];
  for (const c of scope.node.findAll()) {
    for (const m of c.node.metadata) {
      if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(m.data as Record<string, string>)) out.push([c.node.path, id, reason]);
    }
  }
  return out;
}

describe('cdk-nag AwsSolutions', () => {
  for (const [name, overrides] of [
    ['default configuration', {}],
    ['without Jira, Slack or the management account member resources', {
      'iamwatch:jiraBaseUrl': '',
      'iamwatch:slackEnabled': false,
      'iamwatch:monitorManagementAccount': false,
    }],
    ['with an alarm e-mail subscription', { 'iamwatch:alarmEmail': 'secops@example.com' }],
    ['with an operator runbook base URL (nothing hosted) and two sign-in regions', {
      'iamwatch:runbookHosting': false,
      'iamwatch:runbookBaseUrl': 'https://wiki.example.com/iamwatch/runbooks/',
      'iamwatch:signinRegions': ['us-east-1', 'eu-west-1'],
    }],
    ['with both SCPs, the CloudTrail table and a custom inventory prefix', {
      'iamwatch:protectionScp': true,
      'iamwatch:guardrailOus': ['ou-ab12-33333333'],
      'iamwatch:breakGlassRoles': ['BreakGlassAdmin', 'aws-reserved/sso.amazonaws.com/AWSReservedSSO_BreakGlass_*'],
      'iamwatch:cloudtrailBucket': 'org-trail-logs',
      'iamwatch:cloudtrailAccounts': ['111111111111', '222222222222'],
      'iamwatch:inventoryPrefix': 'org/inventory',
    }],
  ] as const) {
    test(`no unacknowledged finding in any stack or nested stage (${name})`, () => {
      const built = synth(overrides);
      built.app.synth();
      assert.deepEqual(findings(built.app), []);
    });
  }

  test('the check reaches the member stage: a non-compliant queue there is found', () => {
    const built = synth();
    new sqs.Queue(built.member, 'Unencrypted', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    const found = findings(built.app);
    assert.ok(found.some((f) => f.startsWith('AwsSolutions-SQS2 at MemberAccounts/IamwatchMember/Unencrypted')), found.join('\n'));
  });

  test('every acknowledgement is specific and gives a reason', () => {
    const built = synth();
    const acks = acknowledgements(built.app);
    assert.ok(acks.length > 0);
    for (const [where, id, reason] of acks) {
      assert.match(id, /AwsSolutions-[A-Z]+\d+/, `${where}: ${id}`);
      assert.ok(reason.trim().length >= 40, `${where}: ${id} needs a real reason, got "${reason}"`);
    }
  });

  test('every acknowledgement is needed: without it, its finding comes back', () => {
    const built = synth();
    const acks = acknowledgements(built.app);
    for (const c of built.app.node.findAll()) {
      // Drop the acknowledgements by emptying the metadata entries' data (the tree is not re-synthesized).
      for (const m of c.node.metadata) {
        if (m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) for (const k of Object.keys(m.data)) delete (m.data as any)[k];
      }
    }
    const found = findings(built.app);
    for (const [where, id] of acks) {
      const rule = id.replace(/^annotation::/i, '');
      assert.ok(found.some((f) => f.startsWith(`${rule} at ${where}`)), `acknowledgement ${rule} on ${where} matches no finding`);
    }
  });
});
