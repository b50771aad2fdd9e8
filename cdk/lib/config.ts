import * as fs from 'node:fs';
import * as path from 'node:path';

/** Directory of the CDK app (where cdk.json lives); relative paths in the configuration start here. */
export const CDK_ROOT = path.resolve(__dirname, '..');

/** Severity labels, as in the policy file's `ticket_min_severity`. */
export const SEVERITY_LABELS = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type SeverityLabel = (typeof SEVERITY_LABELS)[number];

/**
 * Lowest score of each label (docs/contracts.md, "Finding event"): the ticket rule matches
 * `detail.score >= TICKET_MIN_SCORE[threshold]`.
 */
export const TICKET_MIN_SCORE: Record<SeverityLabel, number> = {
  LOW: 1,
  MEDIUM: 40,
  HIGH: 70,
  CRITICAL: 90,
};

/** Log retentions CloudWatch Logs accepts, in days. */
const VALID_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
];

/** Everything a team configures, read from `cdk.json` context (keys `iamwatch:<name>`). */
export interface IamwatchConfig {
  /** AWS Organizations id, `o-...`. */
  readonly orgId: string;
  /** Security / audit account: central bus, queues, functions, StackSet. */
  readonly securityAccountId: string;
  /** Management account: the org-reader role. */
  readonly managementAccountId: string;
  /** OUs (or the root `r-...`) the member StackSet auto-deploys to. */
  readonly targetOus: string[];
  /** Findings at or above this label become tickets. */
  readonly ticketThreshold: SeverityLabel;
  /** Jira base URL; empty: no Jira. */
  readonly jiraBaseUrl: string;
  /** Jira project key (required with Jira). */
  readonly jiraProject: string;
  /** Jira transition that closes the issue of an archived finding; empty: comment only. */
  readonly jiraCloseTransition: string;
  /** Jira transition that reopens a done issue when its finding recurs; empty: a new issue. */
  readonly jiraReopenTransition: string;
  /** Slack notifications on/off. */
  readonly slackEnabled: boolean;
  /** Absolute path of the policy TOML bundled into the detect function. */
  readonly policyFile: string;
  /** Absolute path of the folder holding `iamwatch-detect/bootstrap` and `iamwatch-ticket/bootstrap`. */
  readonly lambdaAssetDir: string;
  /**
   * Base URL of runbooks/: the operator's (`iamwatch:runbookBaseUrl`), or, with runbook hosting,
   * empty here and set by the central stack to the hosted copy's URL.
   */
  readonly runbookBaseUrl: string;
  /** Render runbooks/*.md to HTML and serve them to the organization from the security account. */
  readonly runbookHosting: boolean;
  /**
   * Regions whose sign-in events (`aws.signin`) are forwarded to the central bus: the member
   * StackSet and the management account's sign-in stacks are deployed to each. Holds us-east-1.
   */
  readonly signinRegions: string[];
  /** Retention of the functions' log groups, days. */
  readonly logRetentionDays: number;
  /** Address subscribed to the alarm topic (optional). */
  readonly alarmEmail: string;
  /** Also deploy the forwarding rule and member role into the management account (StackSets skip it). */
  readonly monitorManagementAccount: boolean;
  /**
   * Attach the service control policy `iamwatch-protect` to the target OUs: nobody but the
   * StackSet, the CDK deployment roles and the break-glass roles may change or delete iamwatch's
   * rules, roles, queues, functions and stacks.
   */
  readonly protectionScp: boolean;
  /** OUs the guardrail SCP `iamwatch-no-iam-users` is attached to; empty: no guardrail. */
  readonly guardrailOus: string[];
  /** Role names (path allowed, `*` globs) exempt from both SCPs: the break-glass roles. */
  readonly breakGlassRoles: string[];
  /** Key prefix of the inventory under its bucket (`s3://<bucket>/<prefix>`). */
  readonly inventoryPrefix: string;
  /** Days an inventory object (one account, one day) is kept. */
  readonly inventoryRetentionDays: number;
  /** EventBridge Scheduler expression of the daily sweep (UTC). */
  readonly inventorySchedule: string;
  /** Accounts swept at once. */
  readonly inventoryConcurrency: number;
  /** The organization trail's table (`hunt athena`); undefined: none. */
  readonly cloudtrail?: CloudTrailTableConfig;
}

/** Where the organization trail writes, for the Athena table `iamwatch.cloudtrail`. */
export interface CloudTrailTableConfig {
  /** The trail's bucket. */
  readonly bucket: string;
  /** Key prefix of the trail in the bucket, before `AWSLogs/` ("" for none). */
  readonly prefix: string;
  /** Organization id in the keys (`AWSLogs/<orgId>/<account>/...`). */
  readonly orgId: string;
  /** Accounts the `account` partition projects (enum). */
  readonly accounts: string[];
  /** Regions the `region` partition projects (enum). */
  readonly regions: string[];
  /** First day of the `timestamp` projection, `YYYY/MM/DD`. */
  readonly startDate: string;
}

/**
 * The commercial regions enabled by default in every account (no opt-in needed): where console
 * sign-in events can be delivered unless the organization enables an opt-in region. A region that
 * is not enabled in every target account must not be listed: the StackSet would fail there.
 */
export const DEFAULT_SIGNIN_REGIONS: readonly string[] = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'sa-east-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-southeast-1',
  'ap-southeast-2',
];

/** Where the context lookups come from: `App.node.tryGetContext` or a plain object in tests. */
export type ContextSource = (key: string) => unknown;

export class ConfigError extends Error {}

function str(ctx: ContextSource, key: string, fallback?: string): string {
  const value = ctx(`iamwatch:${key}`);
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(`context key iamwatch:${key} is required (set it in cdk/cdk.json)`);
  }
  if (typeof value !== 'string') {
    throw new ConfigError(`context key iamwatch:${key} must be a string, got ${JSON.stringify(value)}`);
  }
  return value.trim();
}

function bool(ctx: ContextSource, key: string, fallback: boolean): boolean {
  const value = ctx(`iamwatch:${key}`);
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ConfigError(`context key iamwatch:${key} must be true or false, got ${JSON.stringify(value)}`);
}

function list(ctx: ContextSource, key: string): string[] {
  const value = ctx(`iamwatch:${key}`);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.map((v) => v.trim());
  // `cdk synth -c iamwatch:targetOus=ou-a,ou-b` passes a string.
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.startsWith('[')) return list(() => JSON.parse(trimmed), key);
    return trimmed.split(',').map((v) => v.trim()).filter((v) => v.length > 0);
  }
  throw new ConfigError(`context key iamwatch:${key} must be a list of strings, got ${JSON.stringify(value)}`);
}

function num(ctx: ContextSource, key: string, fallback: number): number {
  const value = ctx(`iamwatch:${key}`);
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n)) throw new ConfigError(`context key iamwatch:${key} must be an integer, got ${JSON.stringify(value)}`);
  return n;
}

function check(ok: boolean, key: string, what: string): void {
  if (!ok) throw new ConfigError(`context key iamwatch:${key}: ${what}`);
}

/**
 * The ticket threshold named in the policy file, if it names one. The policy file and cdk.json must
 * agree, or the rule would send the ticket function findings the policy says are below the bar.
 */
export function policyTicketMinSeverity(policyText: string): string | undefined {
  const m = policyText.match(/^\s*ticket_min_severity\s*=\s*["']([^"']*)["']/m);
  return m ? m[1] : undefined;
}

/** Reads and validates the configuration; every error names the context key. */
export function loadConfig(ctx: ContextSource): IamwatchConfig {
  const orgId = str(ctx, 'orgId');
  check(/^o-[a-z0-9]{10,32}$/.test(orgId), 'orgId', `"${orgId}" is not an organization id (o-xxxxxxxxxx)`);

  const securityAccountId = str(ctx, 'securityAccountId');
  check(/^\d{12}$/.test(securityAccountId), 'securityAccountId', `"${securityAccountId}" is not a 12-digit account id`);
  const managementAccountId = str(ctx, 'managementAccountId');
  check(/^\d{12}$/.test(managementAccountId), 'managementAccountId', `"${managementAccountId}" is not a 12-digit account id`);
  check(managementAccountId !== securityAccountId, 'managementAccountId', 'must differ from iamwatch:securityAccountId (run iamwatch in a dedicated security account)');

  const targetOus = list(ctx, 'targetOus');
  check(targetOus.length > 0, 'targetOus', 'name at least one OU id (ou-...) or the root id (r-...)');
  for (const ou of targetOus) {
    check(/^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/.test(ou), 'targetOus', `"${ou}" is not an OU id (ou-xxxx-xxxxxxxx) or root id (r-xxxx)`);
  }

  const ticketThreshold = str(ctx, 'ticketThreshold', 'HIGH').toUpperCase();
  check((SEVERITY_LABELS as readonly string[]).includes(ticketThreshold), 'ticketThreshold', `"${ticketThreshold}" is not one of ${SEVERITY_LABELS.join(', ')}`);

  const jiraBaseUrl = str(ctx, 'jiraBaseUrl', '').replace(/\/+$/, '');
  const jiraProject = str(ctx, 'jiraProject', '');
  if (jiraBaseUrl !== '') {
    check(/^https:\/\/[^\s/]+/.test(jiraBaseUrl), 'jiraBaseUrl', `"${jiraBaseUrl}" must be an https:// URL`);
    check(/^[A-Z][A-Z0-9_]+$/.test(jiraProject), 'jiraProject', `"${jiraProject}" is not a Jira project key (required with iamwatch:jiraBaseUrl)`);
  }

  const policyFile = path.resolve(CDK_ROOT, str(ctx, 'policyFile', 'policy.toml'));
  check(fs.existsSync(policyFile) && fs.statSync(policyFile).isFile(), 'policyFile', `${policyFile} is not a file`);
  const policySeverity = policyTicketMinSeverity(fs.readFileSync(policyFile, 'utf8'));
  check(
    policySeverity === undefined || policySeverity.toUpperCase() === ticketThreshold,
    'ticketThreshold',
    `${ticketThreshold} differs from ticket_min_severity = "${policySeverity}" in ${policyFile}; make them equal`,
  );

  const runbookBaseUrl = str(ctx, 'runbookBaseUrl', '');
  const runbookHosting = bool(ctx, 'runbookHosting', false);
  if (runbookHosting) {
    check(runbookBaseUrl === '', 'runbookBaseUrl', `must be empty with iamwatch:runbookHosting (the hosted runbooks' URL is used), got "${runbookBaseUrl}"; keep one of the two`);
  } else {
    check(
      runbookBaseUrl !== '',
      'runbookBaseUrl',
      'is empty: every finding, Jira issue and Slack message links its runbook under this URL. Set it to where your ' +
        'runbooks/ folder is served (https://...), or set iamwatch:runbookHosting to true to have the security account serve them to the organization',
    );
    check(/^https:\/\/[^\s/]+/.test(runbookBaseUrl), 'runbookBaseUrl', `"${runbookBaseUrl}" must be an https:// URL`);
  }

  const signinRegions = ctx('iamwatch:signinRegions') === undefined ? [...DEFAULT_SIGNIN_REGIONS] : list(ctx, 'signinRegions');
  check(signinRegions.includes('us-east-1'), 'signinRegions', 'must hold us-east-1 (the central bus and the IAM forwarding rule are there)');
  for (const region of signinRegions) {
    check(/^[a-z]{2}-[a-z]+-\d$/.test(region) && !region.startsWith('cn-'), 'signinRegions', `"${region}" is not a region of the aws partition (e.g. eu-west-1)`);
  }
  check(new Set(signinRegions).size === signinRegions.length, 'signinRegions', `lists a region twice: ${signinRegions.join(', ')}`);

  const logRetentionDays = num(ctx, 'logRetentionDays', 90);
  check(VALID_RETENTION_DAYS.includes(logRetentionDays), 'logRetentionDays', `${logRetentionDays} is not a CloudWatch Logs retention (${VALID_RETENTION_DAYS.join(', ')})`);

  const alarmEmail = str(ctx, 'alarmEmail', '');
  if (alarmEmail !== '') check(/^[^@\s]+@[^@\s]+$/.test(alarmEmail), 'alarmEmail', `"${alarmEmail}" is not an e-mail address`);

  const protectionScp = bool(ctx, 'protectionScp', false);
  const guardrailOus = ctx('iamwatch:guardrailOus') === undefined ? [] : list(ctx, 'guardrailOus');
  for (const ou of guardrailOus) {
    check(/^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/.test(ou), 'guardrailOus', `"${ou}" is not an OU id (ou-xxxx-xxxxxxxx) or root id (r-xxxx)`);
  }
  check(new Set(guardrailOus).size === guardrailOus.length, 'guardrailOus', `lists an OU twice: ${guardrailOus.join(', ')}`);
  const breakGlassRoles = ctx('iamwatch:breakGlassRoles') === undefined ? [] : list(ctx, 'breakGlassRoles');
  for (const role of breakGlassRoles) {
    check(
      /^[\w+=,.@*-]+(\/[\w+=,.@*-]+)*$/.test(role) && role.replace(/\*/g, '').length > 0 && !role.startsWith('arn:'),
      'breakGlassRoles',
      `"${role}" is not a role name (letters, digits, +=,.@_- and * globs; a path before it with /), e.g. "BreakGlassAdmin" or "aws-reserved/sso.amazonaws.com/AWSReservedSSO_BreakGlass_*"`,
    );
  }
  if (guardrailOus.length > 0) {
    check(breakGlassRoles.length > 0, 'breakGlassRoles', 'name at least one break-glass role with iamwatch:guardrailOus, or nobody could ever create an IAM user or key in those OUs');
  }

  const inventoryPrefix = str(ctx, 'inventoryPrefix', 'iamwatch');
  check(/^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/.test(inventoryPrefix), 'inventoryPrefix', `"${inventoryPrefix}" is not a key prefix (lowercase letters, digits, . _ -, parts separated by /, no leading or trailing /)`);
  check(inventoryPrefix !== 'athena-results' && !inventoryPrefix.startsWith('athena-results/'), 'inventoryPrefix', 'athena-results/ holds the query results of the workgroup; choose another prefix');
  const inventoryRetentionDays = num(ctx, 'inventoryRetentionDays', 400);
  check(inventoryRetentionDays >= 7 && inventoryRetentionDays <= 3650, 'inventoryRetentionDays', `${inventoryRetentionDays} must be between 7 and 3650 days`);
  const inventorySchedule = str(ctx, 'inventorySchedule', 'cron(0 5 * * ? *)');
  check(/^(cron\([^()]+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$/.test(inventorySchedule), 'inventorySchedule', `"${inventorySchedule}" is not an EventBridge Scheduler expression (cron(...) or rate(...))`);
  const inventoryConcurrency = num(ctx, 'inventoryConcurrency', 32);
  check(inventoryConcurrency >= 1 && inventoryConcurrency <= 64, 'inventoryConcurrency', `${inventoryConcurrency} must be between 1 and 64`);

  const cloudtrailBucket = str(ctx, 'cloudtrailBucket', '');
  let cloudtrail: CloudTrailTableConfig | undefined;
  if (cloudtrailBucket !== '') {
    check(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(cloudtrailBucket), 'cloudtrailBucket', `"${cloudtrailBucket}" is not an S3 bucket name`);
    const prefix = str(ctx, 'cloudtrailPrefix', '').replace(/^\/+|\/+$/g, '');
    check(prefix === '' || /^[A-Za-z0-9!_.*'()\/-]+$/.test(prefix), 'cloudtrailPrefix', `"${prefix}" is not a key prefix`);
    const trailOrgId = str(ctx, 'cloudtrailOrgId', orgId);
    check(/^o-[a-z0-9]{10,32}$/.test(trailOrgId), 'cloudtrailOrgId', `"${trailOrgId}" is not an organization id (o-xxxxxxxxxx)`);
    const accounts = ctx('iamwatch:cloudtrailAccounts') === undefined ? [] : list(ctx, 'cloudtrailAccounts');
    check(accounts.length > 0, 'cloudtrailAccounts', 'list the accounts of the organization trail (the account partition is projected from this list) with iamwatch:cloudtrailBucket');
    for (const a of accounts) check(/^\d{12}$/.test(a), 'cloudtrailAccounts', `"${a}" is not a 12-digit account id`);
    const regions = ctx('iamwatch:cloudtrailRegions') === undefined ? [...signinRegions] : list(ctx, 'cloudtrailRegions');
    check(regions.length > 0, 'cloudtrailRegions', 'name at least one region');
    for (const r of regions) check(/^[a-z]{2}(-[a-z]+)+-\d$/.test(r), 'cloudtrailRegions', `"${r}" is not a region`);
    const start = str(ctx, 'cloudtrailStartDate', '2020-01-01');
    check(/^\d{4}-\d{2}-\d{2}$/.test(start) && !Number.isNaN(Date.parse(`${start}T00:00:00Z`)), 'cloudtrailStartDate', `"${start}" is not a date (YYYY-MM-DD)`);
    cloudtrail = { bucket: cloudtrailBucket, prefix, orgId: trailOrgId, accounts, regions, startDate: start.replace(/-/g, '/') };
  }

  return {
    orgId,
    securityAccountId,
    managementAccountId,
    targetOus,
    ticketThreshold: ticketThreshold as SeverityLabel,
    jiraBaseUrl,
    jiraProject,
    jiraCloseTransition: str(ctx, 'jiraCloseTransition', '').trim(),
    jiraReopenTransition: str(ctx, 'jiraReopenTransition', '').trim(),
    slackEnabled: bool(ctx, 'slackEnabled', false),
    policyFile,
    lambdaAssetDir: path.resolve(CDK_ROOT, str(ctx, 'lambdaAssetDir', '../target/lambda')),
    runbookBaseUrl,
    runbookHosting,
    signinRegions,
    logRetentionDays,
    alarmEmail,
    monitorManagementAccount: bool(ctx, 'monitorManagementAccount', true),
    protectionScp,
    guardrailOus,
    breakGlassRoles,
    inventoryPrefix,
    inventoryRetentionDays,
    inventorySchedule,
    inventoryConcurrency,
    ...(cloudtrail !== undefined ? { cloudtrail } : {}),
  };
}
