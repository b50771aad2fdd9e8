import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { SCP_MAX_CHARS } from '../lib/names';
import { CREDENTIAL_ACTIONS, PolicyDocument, guardrailScp, policyText, protectionScp } from '../lib/scps';
import { SECURITY_ACCOUNT, synth, tmpDir } from './helpers';
import { denied, denyingStatements } from './policy-sim';

const MEMBER = '123456789012';
const BREAK_GLASS = ['BreakGlassAdmin', 'aws-reserved/sso.amazonaws.com/AWSReservedSSO_BreakGlass_*'];
const ADMIN = `arn:aws:iam::${MEMBER}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef`;
const BREAK_GLASS_SSO = `arn:aws:iam::${MEMBER}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_BreakGlass_fedcba9876543210`;
const BREAK_GLASS_ROLE = `arn:aws:iam::${MEMBER}:role/BreakGlassAdmin`;
const STACKSET_EXEC = `arn:aws:iam::${MEMBER}:role/stacksets-exec-0123456789abcdef0123456789abcdef`;
const CDK_EXEC = `arn:aws:iam::${SECURITY_ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${SECURITY_ACCOUNT}-us-east-1`;
const CDK_DEPLOY = `arn:aws:iam::${SECURITY_ACCOUNT}:role/cdk-hnb659fds-deploy-role-${SECURITY_ACCOUNT}-us-east-1`;

const config = {
  'iamwatch:protectionScp': true,
  'iamwatch:guardrailOus': ['ou-ab12-33333333', 'ou-ab12-44444444'],
  'iamwatch:breakGlassRoles': BREAK_GLASS,
};

/** The policies of the management template, by name: [logical id, properties, document]. */
function scpsOf(overrides: Record<string, unknown>): Map<string, { props: any; doc: PolicyDocument }> {
  const t = synth(overrides).managementTemplate;
  const out = new Map<string, { props: any; doc: PolicyDocument }>();
  for (const r of Object.values(t.findResources('AWS::Organizations::Policy')) as any[]) {
    out.set(r.Properties.Name, { props: r.Properties, doc: r.Properties.Content });
  }
  return out;
}

const scps = scpsOf(config);
const protect = scps.get('iamwatch-protect')!.doc;
const guardrail = scps.get('iamwatch-no-iam-users')!.doc;

describe('service control policies in the management stack', () => {
  test('off by default: no policy unless iamwatch:protectionScp or iamwatch:guardrailOus is set (cdk.json sets neither)', () => {
    assert.equal(scpsOf({}).size, 0);
    const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context;
    assert.notEqual(cdkJson['iamwatch:protectionScp'], true);
    assert.deepEqual(cdkJson['iamwatch:guardrailOus'] ?? [], []);
    assert.deepEqual([...scpsOf({ 'iamwatch:protectionScp': true }).keys()], ['iamwatch-protect']);
    assert.deepEqual([...scpsOf({ 'iamwatch:guardrailOus': ['ou-ab12-33333333'], 'iamwatch:breakGlassRoles': ['BreakGlassAdmin'] }).keys()], ['iamwatch-no-iam-users']);
  });

  test('iamwatch-protect is an SCP attached to the target OUs; the guardrail to the configured OUs', () => {
    const p = scps.get('iamwatch-protect')!.props;
    assert.equal(p.Type, 'SERVICE_CONTROL_POLICY');
    assert.deepEqual(p.TargetIds, ['ou-ab12-11111111', 'ou-ab12-22222222']);
    const g = scps.get('iamwatch-no-iam-users')!.props;
    assert.equal(g.Type, 'SERVICE_CONTROL_POLICY');
    assert.deepEqual(g.TargetIds, ['ou-ab12-33333333', 'ou-ab12-44444444']);
  });

  test('the documents are compact JSON within the 5,120 characters Organizations accepts, also with many break-glass roles', () => {
    for (const [name, { doc }] of scps) {
      const text = JSON.stringify(doc);
      assert.ok(text.length <= SCP_MAX_CHARS, `${name}: ${text.length} characters`);
    }
    const many = Array.from({ length: 10 }, (_, i) => `aws-reserved/sso.amazonaws.com/AWSReservedSSO_BreakGlass${i}_*`);
    assert.ok(policyText(protectionScp(SECURITY_ACCOUNT, many)).length <= SCP_MAX_CHARS);
    assert.ok(policyText(guardrailScp(many)).length <= SCP_MAX_CHARS);
    // Too many: synthesis fails and says what to do.
    const tooMany = Array.from({ length: 40 }, (_, i) => `aws-reserved/sso.amazonaws.com/AWSReservedSSO_BreakGlassRole${i}_*`);
    assert.throws(() => synth({ ...config, 'iamwatch:breakGlassRoles': tooMany }), /iamwatch-protect is \d+ characters, over the 5120 .*break-glass roles/);
  });

  test('every statement denies, and only for principals outside the exempt roles', () => {
    for (const doc of [protect, guardrail]) {
      for (const s of doc.Statement) {
        assert.equal(s.Effect, 'Deny', s.Sid);
        assert.ok(s.Condition?.ArnNotLike?.['aws:PrincipalArn'], `${s.Sid} exempts principals by aws:PrincipalArn with ArnNotLike`);
      }
    }
  });
});

describe('iamwatch-protect, simulated', () => {
  const change = (principalArn: string, action: string, resource: string, context?: Record<string, string>) =>
    denied(protect, { principalArn, action, resource, ...(context ? { context } : {}) });

  const protectedCalls: [string, string, Record<string, string>?][] = [
    ['iam:DeleteRole', `arn:aws:iam::${MEMBER}:role/iamwatch-member`],
    ['iam:UpdateAssumeRolePolicy', `arn:aws:iam::${MEMBER}:role/iamwatch-forward`],
    ['iam:PutRolePolicy', `arn:aws:iam::${MEMBER}:role/iamwatch-writeback`],
    ['iam:DetachRolePolicy', `arn:aws:iam::${SECURITY_ACCOUNT}:role/iamwatch-detect`],
    ['iam:CreateRole', `arn:aws:iam::${MEMBER}:role/iamwatch-member`],
    ['iam:UpdateAssumeRolePolicy', STACKSET_EXEC.replace(/^arn:aws:iam::\d+:/, `arn:aws:iam::${MEMBER}:`)],
    ['events:DisableRule', `arn:aws:events:us-east-1:${MEMBER}:rule/iamwatch-forward`],
    ['events:DeleteRule', `arn:aws:events:eu-west-1:${MEMBER}:rule/iamwatch-forward-signin`],
    ['events:RemoveTargets', `arn:aws:events:us-east-1:${SECURITY_ACCOUNT}:rule/iamwatch/iam-events`],
    ['events:PutRule', `arn:aws:events:us-east-1:${SECURITY_ACCOUNT}:rule/iamwatch-findings/urgent-findings`],
    ['events:DeleteEventBus', `arn:aws:events:us-east-1:${SECURITY_ACCOUNT}:event-bus/iamwatch`],
    ['cloudformation:DeleteStack', `arn:aws:cloudformation:us-east-1:${MEMBER}:stack/StackSet-iamwatch-member-0a1b2c3d/11111111-2222-3333-4444-555555555555`],
    ['cloudformation:UpdateStack', `arn:aws:cloudformation:eu-west-1:${MEMBER}:stack/StackSet-iamwatch-member-0a1b2c3d/11111111-2222-3333-4444-555555555555`],
    ['cloudformation:DeleteStack', `arn:aws:cloudformation:us-east-1:${SECURITY_ACCOUNT}:stack/IamwatchCentral/11111111-2222-3333-4444-555555555555`],
    ['cloudformation:DeleteStackInstances', `arn:aws:cloudformation:us-east-1:${SECURITY_ACCOUNT}:stackset/iamwatch-member:11111111-2222-3333-4444-555555555555`],
    ['cloudformation:UpdateStackSet', `arn:aws:cloudformation:us-east-1:${SECURITY_ACCOUNT}:stackset/iamwatch-member:11111111-2222-3333-4444-555555555555`],
    ['sqs:PurgeQueue', `arn:aws:sqs:us-east-1:${MEMBER}:iamwatch-forward-target-dlq`],
    ['sqs:DeleteQueue', `arn:aws:sqs:us-east-1:${SECURITY_ACCOUNT}:iamwatch-events`],
    ['lambda:UpdateFunctionCode', `arn:aws:lambda:us-east-1:${SECURITY_ACCOUNT}:function:iamwatch-detect`],
    ['scheduler:UpdateSchedule', `arn:aws:scheduler:us-east-1:${SECURITY_ACCOUNT}:schedule/iamwatch/iamwatch-inventory-daily`],
    ['lambda:DeleteEventSourceMapping', `arn:aws:lambda:us-east-1:${SECURITY_ACCOUNT}:event-source-mapping:0a1b2c3d-1111-2222-3333-444455556666`,
      { 'lambda:FunctionArn': `arn:aws:lambda:us-east-1:${SECURITY_ACCOUNT}:function:iamwatch-detect` }],
  ];

  for (const [action, resource, context] of protectedCalls) {
    test(`an administrator of the account may not ${action} on ${resource.split(':').slice(5).join(':')}`, () => {
      assert.ok(change(ADMIN, action, resource, context), `${action} ${resource} is denied`);
      // Any principal of the account, not just this one.
      assert.ok(change(`arn:aws:iam::${MEMBER}:user/someone`, action, resource, context));
    });
  }

  test('the break-glass roles may (the plain name and the Identity Center glob with its path)', () => {
    for (const [action, resource, context] of protectedCalls) {
      assert.deepEqual(denyingStatements(protect, { principalArn: BREAK_GLASS_ROLE, action, resource, ...(context ? { context } : {}) }), [], `${action} ${resource}`);
      assert.ok(!change(BREAK_GLASS_SSO, action, resource, context), `${action} ${resource}`);
    }
  });

  test("the StackSet's execution role may change the member resources and stack instances", () => {
    for (const [action, resource] of [
      ['iam:DeleteRole', `arn:aws:iam::${MEMBER}:role/iamwatch-member`],
      ['iam:CreateRole', `arn:aws:iam::${MEMBER}:role/iamwatch-forward`],
      ['events:PutRule', `arn:aws:events:us-east-1:${MEMBER}:rule/iamwatch-forward`],
      ['cloudformation:UpdateStack', `arn:aws:cloudformation:us-east-1:${MEMBER}:stack/StackSet-iamwatch-member-0a1b2c3d/11111111-2222-3333-4444-555555555555`],
      ['sqs:SetQueueAttributes', `arn:aws:sqs:eu-west-1:${MEMBER}:iamwatch-forward-target-dlq`],
    ]) {
      assert.ok(!change(STACKSET_EXEC, action, resource), `${action} ${resource}`);
    }
  });

  test('the CDK deployment roles of the security account may deploy IamwatchCentral; the same names elsewhere may not', () => {
    for (const role of [CDK_EXEC, CDK_DEPLOY]) {
      assert.ok(!change(role, 'cloudformation:ExecuteChangeSet', `arn:aws:cloudformation:us-east-1:${SECURITY_ACCOUNT}:stack/IamwatchCentral/11111111-2222-3333-4444-555555555555`));
      assert.ok(!change(role, 'iam:PutRolePolicy', `arn:aws:iam::${SECURITY_ACCOUNT}:role/iamwatch-detect`));
      assert.ok(!change(role, 'cloudformation:UpdateStackSet', `arn:aws:cloudformation:us-east-1:${SECURITY_ACCOUNT}:stackset/iamwatch-member:11111111-2222-3333-4444-555555555555`));
    }
    const impostor = `arn:aws:iam::${MEMBER}:role/cdk-hnb659fds-cfn-exec-role-${SECURITY_ACCOUNT}-us-east-1`;
    assert.ok(change(impostor, 'iam:DeleteRole', `arn:aws:iam::${MEMBER}:role/iamwatch-member`));
  });

  test('everything else of the account stays the account\'s own', () => {
    for (const [action, resource, context] of [
      ['iam:DeleteRole', `arn:aws:iam::${MEMBER}:role/app-role`],
      ['iam:CreateRole', `arn:aws:iam::${MEMBER}:role/iamwatcher`],
      ['events:DeleteRule', `arn:aws:events:us-east-1:${MEMBER}:rule/my-rule`],
      ['cloudformation:DeleteStack', `arn:aws:cloudformation:us-east-1:${MEMBER}:stack/my-app/11111111-2222-3333-4444-555555555555`],
      ['sqs:PurgeQueue', `arn:aws:sqs:us-east-1:${MEMBER}:orders`],
      ['lambda:DeleteEventSourceMapping', `arn:aws:lambda:us-east-1:${MEMBER}:event-source-mapping:0a1b2c3d-1111-2222-3333-444455556666`,
        { 'lambda:FunctionArn': `arn:aws:lambda:us-east-1:${MEMBER}:function:orders` }],
      ['iam:GetRole', `arn:aws:iam::${MEMBER}:role/iamwatch-member`],
    ] as [string, string, Record<string, string>?][]) {
      assert.ok(!change(ADMIN, action, resource, context), `${action} ${resource}`);
    }
  });
});

describe('iamwatch-no-iam-users (guardrail), simulated', () => {
  test('denies every credential-making IAM call to everyone else', () => {
    assert.deepEqual([...CREDENTIAL_ACTIONS].sort(), [
      'iam:CreateAccessKey',
      'iam:CreateLoginProfile',
      'iam:CreateServiceSpecificCredential',
      'iam:CreateUser',
      'iam:ResetServiceSpecificCredential',
      'iam:UpdateLoginProfile',
      'iam:UploadSSHPublicKey',
      'iam:UploadSigningCertificate',
    ]);
    for (const action of CREDENTIAL_ACTIONS) {
      for (const principal of [ADMIN, `arn:aws:iam::${MEMBER}:user/legacy`, STACKSET_EXEC, `arn:aws:iam::${MEMBER}:role/BreakGlassAdminX`]) {
        assert.ok(denied(guardrail, { principalArn: principal, action, resource: `arn:aws:iam::${MEMBER}:user/new-user` }), `${principal} ${action}`);
      }
      // Case does not matter in an action name.
      assert.ok(denied(guardrail, { principalArn: ADMIN, action: action.toLowerCase(), resource: `arn:aws:iam::${MEMBER}:user/x` }));
    }
  });

  test('lets the break-glass roles through, in every account of the OU', () => {
    for (const action of CREDENTIAL_ACTIONS) {
      for (const principal of [BREAK_GLASS_ROLE, BREAK_GLASS_SSO, 'arn:aws:iam::210987654321:role/BreakGlassAdmin']) {
        assert.ok(!denied(guardrail, { principalArn: principal, action, resource: `arn:aws:iam::${MEMBER}:user/x` }), `${principal} ${action}`);
      }
    }
  });

  test('leaves the way to zero open: deleting and deactivating users, keys and passwords', () => {
    for (const action of ['iam:DeleteUser', 'iam:DeleteAccessKey', 'iam:UpdateAccessKey', 'iam:DeleteLoginProfile', 'iam:DeactivateMFADevice', 'iam:ListUsers']) {
      assert.ok(!denied(guardrail, { principalArn: ADMIN, action, resource: `arn:aws:iam::${MEMBER}:user/legacy` }), action);
    }
  });
});

describe('policy linter (parliament)', () => {
  // ci.sh installs parliament (pinned in scripts/requirements-test.txt) before the tests; a plain
  // `npm test` without it skips this check.
  const hasParliament = spawnSync('python3', ['-c', 'import parliament'], { stdio: 'ignore' }).status === 0;
  test('finds nothing in either SCP: known actions, resources each action can match, valid conditions', { skip: !hasParliament && process.env.CI !== 'true' }, () => {
    const dir = tmpDir('iamwatch-scp-');
    const files = [...scps].map(([name, { props }]) => {
      const file = path.join(dir, `${name}.json`);
      fs.writeFileSync(file, JSON.stringify(props.Content));
      return file;
    });
    const lint = path.join(__dirname, 'tools', 'lint_policies.py');
    const run = spawnSync('python3', [lint, ...files], { encoding: 'utf8' });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.deepEqual(JSON.parse(run.stdout), []);
  });

  test('the linter catches what the check relies on it for', { skip: !hasParliament && process.env.CI !== 'true' }, () => {
    const dir = tmpDir('iamwatch-scp-bad-');
    const bad: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Typo', Effect: 'Deny', Action: ['iam:CreateUsr'], Resource: '*' },
        // PutPermission takes no resource: a Deny naming a bus would deny nothing.
        { Sid: 'NoMatch', Effect: 'Deny', Action: ['events:PutPermission'], Resource: 'arn:aws:events:*:*:event-bus/iamwatch' },
      ],
    };
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, JSON.stringify(bad));
    const run = spawnSync('python3', [path.join(__dirname, 'tools', 'lint_policies.py'), file], { encoding: 'utf8' });
    assert.equal(run.status, 1);
    const issues = [...new Set<string>(JSON.parse(run.stdout).map((f: any) => f.issue))].sort();
    assert.deepEqual(issues, ['RESOURCE_MISMATCH', 'UNKNOWN_ACTION']);
  });
});
