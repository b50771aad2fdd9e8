import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildIamwatchApp, IamwatchApp } from '../lib/app';
import { IamwatchConfig, loadConfig } from '../lib/config';

export const ORG_ID = 'o-testorg1234';
/** Temporary folders of this test process, removed when it exits. */
const tmpDirs: string[] = [];
process.on('exit', () => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});
export function tmpDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}

export const SECURITY_ACCOUNT = '111122223333';
export const MANAGEMENT_ACCOUNT = '444455556666';

/**
 * A folder shaped like scripts/package-lambdas.sh's output, with placeholder `bootstrap` files, so
 * that the app synthesizes without building the Rust functions.
 */
export function fixtureAssetDir(): string {
  const dir = tmpDir('iamwatch-cdk-test-assets-');
  for (const pkg of ['iamwatch-detect', 'iamwatch-ticket', 'iamwatch-inventory']) {
    fs.mkdirSync(path.join(dir, pkg));
    fs.writeFileSync(path.join(dir, pkg, 'bootstrap'), `#!/bin/sh\n# placeholder for ${pkg}\n`, { mode: 0o755 });
  }
  return dir;
}

export const ASSET_DIR = fixtureAssetDir();

/** Feature flags and defaults of cdk.json, so that tests synthesize what `cdk synth` does. */
function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context;
}

export function baseContext(): Record<string, unknown> {
  return {
    ...cdkJsonContext(),
    'iamwatch:orgId': ORG_ID,
    'iamwatch:securityAccountId': SECURITY_ACCOUNT,
    'iamwatch:managementAccountId': MANAGEMENT_ACCOUNT,
    'iamwatch:targetOus': ['ou-ab12-11111111', 'ou-ab12-22222222'],
    'iamwatch:ticketThreshold': 'HIGH',
    'iamwatch:jiraBaseUrl': 'https://example.atlassian.net',
    'iamwatch:jiraProject': 'SEC',
    'iamwatch:slackEnabled': true,
    'iamwatch:policyFile': 'policy.toml',
    'iamwatch:lambdaAssetDir': ASSET_DIR,
    'iamwatch:logRetentionDays': 90,
  };
}

export interface Synthesized extends IamwatchApp {
  readonly app: App;
  readonly config: IamwatchConfig;
  readonly centralTemplate: Template;
  readonly managementTemplate: Template;
  readonly memberTemplate: Template;
}

/** Builds the app as bin/iamwatch.ts does, with the base context plus `overrides`. */
export function synth(overrides: Record<string, unknown> = {}): Synthesized {
  const context = { ...baseContext(), ...overrides };
  const outdir = tmpDir('iamwatch-cdk-test-out-');
  const app = new App({ context, outdir });
  const config = loadConfig((key) => app.node.tryGetContext(key));
  const built = buildIamwatchApp(app, config);
  return {
    ...built,
    app,
    config,
    centralTemplate: Template.fromStack(built.central),
    managementTemplate: Template.fromStack(built.management),
    memberTemplate: Template.fromStack(built.member),
  };
}

/** Resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, any> {
  return template.findResources(type);
}

/** The only resource of a type whose properties match `props` (fails unless exactly one). */
export function onlyResource(template: Template, type: string, props: Record<string, unknown> = {}): [string, any] {
  const found = Object.entries(template.findResources(type, { Properties: props }));
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${type} matching ${JSON.stringify(props)}, found ${found.length}`);
  }
  return found[0];
}

/** Every statement of every inline or attached policy of a role, by the role's logical id. */
export function statementsOfRole(template: Template, roleLogicalId: string): any[] {
  const statements: any[] = [];
  const role = template.toJSON().Resources[roleLogicalId];
  for (const p of role.Properties.Policies ?? []) statements.push(...p.PolicyDocument.Statement);
  for (const p of Object.values(template.findResources('AWS::IAM::Policy')) as any[]) {
    if ((p.Properties.Roles ?? []).some((r: any) => r.Ref === roleLogicalId)) statements.push(...p.Properties.PolicyDocument.Statement);
  }
  return statements;
}

export function asArray<T>(v: T | T[]): T[] {
  return Array.isArray(v) ? v : [v];
}

/** All actions a role is allowed, sorted. */
export function allowedActions(template: Template, roleLogicalId: string): string[] {
  return statementsOfRole(template, roleLogicalId)
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) => asArray(s.Action))
    .sort();
}

/**
 * The IAM event names the rules forward, computed here from `lib/rules.json` as the Rust core
 * defines them: the sorted union of `event_names` and `resolving_events` of the rules of
 * `iam.amazonaws.com`.
 */
export function iamEventNamesOfRulesJson(): string[] {
  const rules: any[] = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'lib', 'rules.json'), 'utf8'));
  const names = rules
    .filter((r) => r.event_source === 'iam.amazonaws.com')
    .flatMap((r) => [...r.event_names, ...r.resolving_events]);
  return [...new Set<string>(names)].sort();
}

/**
 * The pattern both forwarding rules must have, computed here from `lib/rules.json`: per event
 * source (in the catalog's order) its CloudTrail events of the union of its rules' names; `$or`
 * over the sources when there is more than one.
 */
export function forwardedPatternOfRulesJson(): Record<string, unknown> {
  const delivery: Record<string, [string, string]> = {
    'iam.amazonaws.com': ['aws.iam', 'AWS API Call via CloudTrail'],
    'signin.amazonaws.com': ['aws.signin', 'AWS Console Sign In via CloudTrail'],
  };
  const rules: any[] = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'lib', 'rules.json'), 'utf8'));
  const sources = [...new Set<string>(rules.map((r) => r.event_source))];
  const branches = sources
    .map((source) => {
      const names = rules.filter((r) => r.event_source === source).flatMap((r) => [...r.event_names, ...r.resolving_events]);
      return { source, names: [...new Set<string>(names)].sort() };
    })
    .filter((b) => b.names.length > 0)
    .map((b) => ({
      'source': [delivery[b.source][0]],
      'detail-type': [delivery[b.source][1]],
      'detail': { eventSource: [b.source], eventName: b.names },
    }));
  return branches.length === 1 ? branches[0] : { $or: branches };
}
