import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, DEFAULT_SIGNIN_REGIONS, loadConfig, policyTicketMinSeverity } from '../lib/config';
import { packageDir } from '../lib/lambda-package';
import { baseContext, tmpDir } from './helpers';

const load = (overrides: Record<string, unknown>) => {
  const ctx = { ...baseContext(), ...overrides };
  return loadConfig((key) => ctx[key]);
};

const tmpPolicy = (text: string) => {
  const file = path.join(tmpDir('iamwatch-policy-'), 'policy.toml');
  fs.writeFileSync(file, text);
  return file;
};

describe('configuration', () => {
  test('the committed cdk.json is a valid configuration', () => {
    const context = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context;
    const config = loadConfig((key) => context[key]);
    assert.equal(config.ticketThreshold, 'HIGH');
    assert.equal(config.lambdaAssetDir, path.resolve(__dirname, '..', '..', 'target', 'lambda'));
    assert.equal(config.policyFile, path.resolve(__dirname, '..', 'policy.toml'));
  });

  for (const [key, value, message] of [
    ['iamwatch:orgId', undefined, /iamwatch:orgId is required/],
    ['iamwatch:orgId', 'org-1', /iamwatch:orgId: "org-1" is not an organization id/],
    ['iamwatch:securityAccountId', '1234', /iamwatch:securityAccountId: "1234" is not a 12-digit account id/],
    ['iamwatch:managementAccountId', '111122223333', /must differ from iamwatch:securityAccountId/],
    ['iamwatch:targetOus', [], /iamwatch:targetOus: name at least one OU/],
    ['iamwatch:targetOus', ['Prod'], /"Prod" is not an OU id/],
    ['iamwatch:ticketThreshold', 'URGENT', /"URGENT" is not one of LOW, MEDIUM, HIGH, CRITICAL/],
    ['iamwatch:jiraBaseUrl', 'http://jira.example.com', /must be an https:\/\/ URL/],
    ['iamwatch:jiraProject', '', /is not a Jira project key/],
    ['iamwatch:slackEnabled', 'yes', /iamwatch:slackEnabled must be true or false/],
    ['iamwatch:policyFile', 'no-such-policy.toml', /iamwatch:policyFile: .*no-such-policy.toml is not a file/],
    ['iamwatch:logRetentionDays', 42, /42 is not a CloudWatch Logs retention/],
    ['iamwatch:alarmEmail', 'nobody', /"nobody" is not an e-mail address/],
    ['iamwatch:signinRegions', ['eu-west-1'], /iamwatch:signinRegions: must hold us-east-1/],
    ['iamwatch:signinRegions', ['us-east-1', 'cn-north-1'], /iamwatch:signinRegions: "cn-north-1" is not a region of the aws partition/],
    ['iamwatch:signinRegions', ['us-east-1', 'Ireland'], /iamwatch:signinRegions: "Ireland" is not a region/],
    ['iamwatch:signinRegions', ['us-east-1', 'eu-west-1', 'us-east-1'], /iamwatch:signinRegions: lists a region twice/],
    ['iamwatch:signinRegions', 42, /iamwatch:signinRegions must be a list of strings/],
    ['iamwatch:protectionScp', 'on', /iamwatch:protectionScp must be true or false/],
    ['iamwatch:guardrailOus', ['Sandbox'], /iamwatch:guardrailOus: "Sandbox" is not an OU id/],
    ['iamwatch:guardrailOus', ['ou-ab12-33333333'], /iamwatch:breakGlassRoles: name at least one break-glass role/],
    ['iamwatch:breakGlassRoles', ['arn:aws:iam::123456789012:role/BreakGlass'], /iamwatch:breakGlassRoles: "arn:aws:iam::123456789012:role\/BreakGlass" is not a role name/],
    ['iamwatch:breakGlassRoles', ['*'], /iamwatch:breakGlassRoles: "\*" is not a role name/],
    ['iamwatch:breakGlassRoles', ['Break Glass'], /iamwatch:breakGlassRoles: "Break Glass" is not a role name/],
    ['iamwatch:inventoryPrefix', '/inventory/', /iamwatch:inventoryPrefix: "\/inventory\/" is not a key prefix/],
    ['iamwatch:inventoryPrefix', 'athena-results', /iamwatch:inventoryPrefix: athena-results\/ holds the query results/],
    ['iamwatch:inventoryRetentionDays', 3, /iamwatch:inventoryRetentionDays: 3 must be between 7 and 3650/],
    ['iamwatch:inventorySchedule', 'daily', /iamwatch:inventorySchedule: "daily" is not an EventBridge Scheduler expression/],
    ['iamwatch:inventoryConcurrency', 0, /iamwatch:inventoryConcurrency: 0 must be between 1 and 64/],
    ['iamwatch:cloudtrailBucket', 'Org_Trail', /iamwatch:cloudtrailBucket: "Org_Trail" is not an S3 bucket name/],
    ['iamwatch:cloudtrailBucket', 'org-trail', /iamwatch:cloudtrailAccounts: list the accounts of the organization trail/],
  ] as const) {
    test(`rejects ${key} = ${JSON.stringify(value)} with an error naming the key`, () => {
      assert.throws(() => load({ [key]: value }), (e: unknown) => e instanceof ConfigError && message.test(e.message));
    });
  }

  test('sign-in regions: the default-enabled commercial regions unless configured; cdk.json lists the default', () => {
    const context = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context;
    assert.deepEqual(context['iamwatch:signinRegions'], DEFAULT_SIGNIN_REGIONS);
    assert.deepEqual(load({ 'iamwatch:signinRegions': undefined }).signinRegions, DEFAULT_SIGNIN_REGIONS);
    assert.ok(DEFAULT_SIGNIN_REGIONS.includes('us-east-1'));
    assert.deepEqual(load({ 'iamwatch:signinRegions': 'us-east-1, eu-west-1' }).signinRegions, ['us-east-1', 'eu-west-1']);
  });

  test('runbooks: a base URL (https) or hosting, exactly one of them', () => {
    const withUrl = load({ 'iamwatch:runbookHosting': false, 'iamwatch:runbookBaseUrl': 'https://wiki.example.com/rb/' });
    assert.equal(withUrl.runbookBaseUrl, 'https://wiki.example.com/rb/');
    assert.equal(withUrl.runbookHosting, false);
    const hosted = load({ 'iamwatch:runbookHosting': true, 'iamwatch:runbookBaseUrl': '' });
    assert.equal(hosted.runbookHosting, true);
    assert.equal(hosted.runbookBaseUrl, '');
    assert.throws(
      () => load({ 'iamwatch:runbookHosting': false, 'iamwatch:runbookBaseUrl': 'http://wiki.example.com/rb' }),
      /iamwatch:runbookBaseUrl: "http:\/\/wiki.example.com\/rb" must be an https:\/\/ URL/,
    );
    assert.throws(() => load({ 'iamwatch:runbookHosting': false, 'iamwatch:runbookBaseUrl': '' }), /iamwatch:runbookBaseUrl: is empty/);
    assert.throws(() => load({ 'iamwatch:runbookHosting': 'maybe' }), /iamwatch:runbookHosting must be true or false/);
  });

  test('the ticket threshold must agree with the policy file', () => {
    const critical = tmpPolicy('ticket_min_severity = "CRITICAL"\n');
    assert.throws(
      () => load({ 'iamwatch:policyFile': critical, 'iamwatch:ticketThreshold': 'HIGH' }),
      /HIGH differs from ticket_min_severity = "CRITICAL"/,
    );
    assert.equal(load({ 'iamwatch:policyFile': critical, 'iamwatch:ticketThreshold': 'critical' }).ticketThreshold, 'CRITICAL');
  });

  test('reads ticket_min_severity from a policy file, ignoring comments', () => {
    assert.equal(policyTicketMinSeverity('# ticket_min_severity = "LOW"\nticket_min_severity = "MEDIUM"\n'), 'MEDIUM');
    assert.equal(policyTicketMinSeverity('critical_ous = ["Prod"]\n'), undefined);
  });

  test('accepts values as `cdk -c key=value` passes them: strings', () => {
    const config = load({
      'iamwatch:targetOus': 'ou-ab12-11111111, r-ab12',
      'iamwatch:slackEnabled': 'false',
      'iamwatch:logRetentionDays': '30',
      'iamwatch:jiraBaseUrl': 'https://jira.example.com/',
    });
    assert.deepEqual(config.targetOus, ['ou-ab12-11111111', 'r-ab12']);
    assert.equal(config.slackEnabled, false);
    assert.equal(config.logRetentionDays, 30);
    assert.equal(config.jiraBaseUrl, 'https://jira.example.com');
  });

  test('SCPs, inventory and the CloudTrail table: defaults (all optional parts off) and the CloudTrail settings', () => {
    const d = load({});
    assert.equal(d.protectionScp, false);
    assert.deepEqual(d.guardrailOus, []);
    assert.deepEqual(d.breakGlassRoles, []);
    assert.equal(d.inventoryPrefix, 'iamwatch');
    assert.equal(d.inventoryRetentionDays, 400);
    assert.equal(d.inventorySchedule, 'cron(0 5 * * ? *)');
    assert.equal(d.inventoryConcurrency, 32);
    assert.equal(d.cloudtrail, undefined);
    const ct = load({
      'iamwatch:cloudtrailBucket': 'org-trail',
      'iamwatch:cloudtrailAccounts': '111111111111,222222222222',
      'iamwatch:cloudtrailPrefix': '/trails/',
      'iamwatch:cloudtrailStartDate': '2023-02-01',
    }).cloudtrail;
    assert.deepEqual(ct, {
      bucket: 'org-trail',
      prefix: 'trails',
      orgId: 'o-testorg1234',
      accounts: ['111111111111', '222222222222'],
      regions: [...DEFAULT_SIGNIN_REGIONS],
      startDate: '2023/02/01',
    });
    assert.throws(() => load({ 'iamwatch:cloudtrailBucket': 'org-trail', 'iamwatch:cloudtrailAccounts': ['1234'] }), /iamwatch:cloudtrailAccounts: "1234" is not a 12-digit account id/);
    assert.throws(() => load({ 'iamwatch:cloudtrailBucket': 'org-trail', 'iamwatch:cloudtrailAccounts': ['111111111111'], 'iamwatch:cloudtrailStartDate': '2023/02/01' }),
      /iamwatch:cloudtrailStartDate: "2023\/02\/01" is not a date/);
    const guarded = load({ 'iamwatch:guardrailOus': 'ou-ab12-33333333', 'iamwatch:breakGlassRoles': 'BreakGlassAdmin, aws-reserved/sso.amazonaws.com/AWSReservedSSO_BreakGlass_*' });
    assert.deepEqual(guarded.guardrailOus, ['ou-ab12-33333333']);
    assert.deepEqual(guarded.breakGlassRoles, ['BreakGlassAdmin', 'aws-reserved/sso.amazonaws.com/AWSReservedSSO_BreakGlass_*']);
  });

  test('a missing function package names the packaging script', () => {
    const empty = tmpDir('iamwatch-empty-');
    assert.throws(() => packageDir(empty, 'iamwatch-detect'), /iamwatch-detect\/bootstrap not found: build the functions first with scripts\/package-lambdas.sh/);
  });
});
