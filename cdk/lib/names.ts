/**
 * Names shared with the Rust side and between the stacks (docs/contracts.md). Stacks in different
 * accounts cannot reference each other, so they meet at these fixed names.
 */
import rulesJson from './rules.json';

/** Region of every iamwatch resource: IAM's CloudTrail events reach EventBridge only there. */
export const REGION = 'us-east-1';

/** The bus the member accounts forward to (org-facing: only aws.iam / aws.signin events from the org). */
export const BUS_NAME = 'iamwatch';
/** The bus of finding events: only the detect function's role may put to it. */
export const FINDINGS_BUS_NAME = 'iamwatch-findings';
export const EVENTS_QUEUE_NAME = 'iamwatch-events';
/** The tickets queue: standard (the ticket ledger makes ticketing idempotent; no group to block). */
export const TICKETS_QUEUE_NAME = 'iamwatch-tickets';
/** The ticket ledger (DynamoDB): per finding and episode, the state of each output. */
export const LEDGER_TABLE_NAME = 'iamwatch-ticket-ledger';

export const DETECT_PACKAGE = 'iamwatch-detect';
export const TICKET_PACKAGE = 'iamwatch-ticket';
export const DETECT_FUNCTION_NAME = 'iamwatch-detect';
export const TICKET_FUNCTION_NAME = 'iamwatch-ticket';
/** Execution roles of the functions: the member and org-reader roles trust exactly these. */
export const DETECT_ROLE_NAME = 'iamwatch-detect';
export const TICKET_ROLE_NAME = 'iamwatch-ticket';

/** Assumed by detect in each member account: IAM reads, filing findings there. */
export const MEMBER_ROLE_NAME = 'iamwatch-member';
/** Assumed by ticket in each member account: the ticket key written back on a finding, nothing else. */
export const WRITEBACK_ROLE_NAME = 'iamwatch-writeback';
export const ORG_READER_ROLE_NAME = 'iamwatch-org-reader';
export const FORWARD_RULE_NAME = 'iamwatch-forward';
/**
 * The role EventBridge assumes to put forwarded events on the central bus: one per account,
 * created in us-east-1 only (IAM is global), used by the forwarding rule there and by the sign-in
 * rules of the other regions.
 */
export const FORWARD_ROLE_NAME = 'iamwatch-forward';
/** The rule forwarding `aws.signin` events in every sign-in region but us-east-1. */
export const SIGNIN_FORWARD_RULE_NAME = 'iamwatch-forward-signin';
/** The event source of console sign-ins (delivered in the region of the sign-in endpoint). */
export const SIGNIN_EVENT_SOURCE = 'signin.amazonaws.com';
/** Dead-letter queue of the forwarding rule's target in each member account. */
export const FORWARD_DLQ_NAME = 'iamwatch-forward-target-dlq';
export const STACK_SET_NAME = 'iamwatch-member';

/** Where the policy file lands inside the detect function's package. */
export const POLICY_FILE_IN_PACKAGE = '/var/task/policy.toml';

/** The finding event the detect function publishes (docs/contracts.md, "Finding event"). */
export const FINDING_SOURCE = 'iamwatch';
export const FINDING_DETAIL_TYPE = 'IAM Watch Finding';

/**
 * The fields of `rules.json` (the output of `iamwatch rules --format json`, the Rust core's rule
 * catalog) this app reads; the other fields are the core's business.
 */
export interface CatalogRule {
  readonly id: string;
  readonly event_source: string;
  /** Calls that make the rule's findings. */
  readonly event_names: readonly string[];
  /** Calls that end them. */
  readonly resolving_events: readonly string[];
}

export const RULES: readonly CatalogRule[] = rulesJson;

/**
 * How the CloudTrail events of an event source reach EventBridge: its `source` and `detail-type`.
 * A rule of a source that is not here fails synthesis: add the source here.
 */
export const EVENT_SOURCES: Readonly<Record<string, { readonly source: string; readonly detailType: string }>> = {
  'iam.amazonaws.com': { source: 'aws.iam', detailType: 'AWS API Call via CloudTrail' },
  'signin.amazonaws.com': { source: 'aws.signin', detailType: 'AWS Console Sign In via CloudTrail' },
};

/**
 * The event names forwarded for each event source of the catalog: the sorted, deduplicated union of
 * the `event_names` and `resolving_events` of its rules. Sources in first-seen order.
 */
export function forwardedEventNames(rules: readonly CatalogRule[] = RULES): Map<string, string[]> {
  const bySource = new Map<string, Set<string>>();
  for (const rule of rules) {
    if (!(rule.event_source in EVENT_SOURCES)) {
      throw new Error(`rules.json: rule ${rule.id} has event source ${rule.event_source}, which EVENT_SOURCES in lib/names.ts does not know`);
    }
    const names = bySource.get(rule.event_source) ?? new Set<string>();
    for (const name of [...rule.event_names, ...rule.resolving_events]) names.add(name);
    bySource.set(rule.event_source, names);
  }
  return new Map([...bySource].filter(([, names]) => names.size > 0).map(([source, names]) => [source, [...names].sort()]));
}

/** The pattern of one event source's forwarded events, in CloudFormation's key names. */
function sourcePattern(eventSource: string, eventNames: string[]): Record<string, unknown> {
  return {
    'source': [EVENT_SOURCES[eventSource].source],
    'detail-type': [EVENT_SOURCES[eventSource].detailType],
    'detail': { eventSource: [eventSource], eventName: eventNames },
  };
}

/**
 * The pattern of the forwarding rule (member accounts) and of the central rule, one definition
 * for both, in CloudFormation's key names: one source's calls, or `$or` over the sources.
 */
export function forwardedEventPattern(rules: readonly CatalogRule[] = RULES): Record<string, unknown> {
  const perSource = [...forwardedEventNames(rules)].map(([eventSource, eventNames]) => sourcePattern(eventSource, eventNames));
  if (perSource.length === 0) throw new Error('rules.json: no rule names an event to forward');
  return perSource.length === 1 ? perSource[0] : { $or: perSource };
}

/**
 * The pattern of the sign-in rules of the regions other than us-east-1: the `signin.amazonaws.com`
 * branch of the forwarding pattern (the same names, from the rules of that source).
 */
export function signInEventPattern(rules: readonly CatalogRule[] = RULES): Record<string, unknown> {
  const names = forwardedEventNames(rules).get(SIGNIN_EVENT_SOURCE);
  if (names === undefined) throw new Error(`rules.json: no rule of ${SIGNIN_EVENT_SOURCE} names an event to forward`);
  return sourcePattern(SIGNIN_EVENT_SOURCE, names);
}

/** EventBridge `source` values of the forwarded events. */
export function forwardedSources(rules: readonly CatalogRule[] = RULES): string[] {
  return [...forwardedEventNames(rules).keys()].map((s) => EVENT_SOURCES[s].source);
}

/** The only `source` values the central bus accepts from the organization: every known event source's. */
export const ORG_EVENT_SOURCES: readonly string[] = Object.values(EVENT_SOURCES).map((s) => s.source);

export const FORWARDED_EVENT_PATTERN = forwardedEventPattern();
export const SIGNIN_EVENT_PATTERN = signInEventPattern();

export function roleArn(account: string, roleName: string): string {
  return `arn:aws:iam::${account}:role/${roleName}`;
}

export function busArn(account: string): string {
  return `arn:aws:events:${REGION}:${account}:event-bus/${BUS_NAME}`;
}

/** The bucket of the hosted runbooks (iamwatch:runbookHosting) in the security account. */
export function runbookBucketName(account: string): string {
  return `iamwatch-runbooks-${account}-${REGION}`;
}

/** Key prefix of the hosted runbooks: `runbooks/<rule-id>.md`, as the finding links them. */
export const RUNBOOK_KEY_PREFIX = 'runbooks/';

/**
 * Base URL of the hosted runbooks: the S3 console's view of an object, which a responder signed
 * in to any account of the organization opens (the finding appends `/<rule-id>.md`).
 */
export function hostedRunbookBaseUrl(bucketName: string): string {
  return `https://${REGION}.console.aws.amazon.com/s3/object/${bucketName}?region=${REGION}&bucketType=general&prefix=${RUNBOOK_KEY_PREFIX}`;
}

/** The daily inventory: its package, function and execution role (trusted by iamwatch-member and iamwatch-org-reader). */
export const INVENTORY_PACKAGE = 'iamwatch-inventory';
export const INVENTORY_FUNCTION_NAME = 'iamwatch-inventory';
export const INVENTORY_ROLE_NAME = 'iamwatch-inventory';

/**
 * CloudWatch namespace of the functions' embedded metrics (`METRICS_NAMESPACE` of
 * functions/detect); each function's documents carry the dimension `Function` (`detect`,
 * `inventory`).
 */
export const METRICS_NAMESPACE = 'iamwatch';

/** The bucket of the inventory (and of the Athena workgroup's results) in the security account. */
export function inventoryBucketName(account: string): string {
  return `iamwatch-inventory-${account}-${REGION}`;
}

/** Server access logs of the inventory bucket. */
export function inventoryLogBucketName(account: string): string {
  return `iamwatch-inventory-logs-${account}-${REGION}`;
}

/** Glue database of the inventory tables (and the CloudTrail table), and the Athena workgroup. */
export const GLUE_DATABASE = 'iamwatch';
export const ATHENA_WORKGROUP = 'iamwatch';
/** Key prefix of the workgroup's query results in the inventory bucket. */
export const ATHENA_RESULTS_PREFIX = 'athena-results/';
/** The organization trail's table (`iamwatch hunt athena --table iamwatch.cloudtrail`). */
export const CLOUDTRAIL_TABLE = 'cloudtrail';

/** Service control policies of the management stack. */
export const PROTECT_SCP_NAME = 'iamwatch-protect';
export const GUARDRAIL_SCP_NAME = 'iamwatch-no-iam-users';
/** Organizations refuses a policy document longer than this (characters). */
export const SCP_MAX_CHARS = 5120;
