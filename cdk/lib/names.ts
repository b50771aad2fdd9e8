/**
 * Names shared with the Rust side and between the stacks (docs/contracts.md). Stacks in different
 * accounts cannot reference each other, so they meet at these fixed names.
 */
import eventNamesJson from './event-names.json';

/** Region of every iamwatch resource: IAM's CloudTrail events reach EventBridge only there. */
export const REGION = 'us-east-1';

export const BUS_NAME = 'iamwatch';
export const EVENTS_QUEUE_NAME = 'iamwatch-events';
export const TICKETS_QUEUE_NAME = 'iamwatch-tickets.fifo';

export const DETECT_PACKAGE = 'iamwatch-detect';
export const TICKET_PACKAGE = 'iamwatch-ticket';
export const DETECT_FUNCTION_NAME = 'iamwatch-detect';
export const TICKET_FUNCTION_NAME = 'iamwatch-ticket';
/** Execution roles of the functions: the member and org-reader roles trust exactly these. */
export const DETECT_ROLE_NAME = 'iamwatch-detect';
export const TICKET_ROLE_NAME = 'iamwatch-ticket';

export const MEMBER_ROLE_NAME = 'iamwatch-member';
export const ORG_READER_ROLE_NAME = 'iamwatch-org-reader';
export const FORWARD_RULE_NAME = 'iamwatch-forward';
export const STACK_SET_NAME = 'iamwatch-member';

/** Where the policy file lands inside the detect function's package. */
export const POLICY_FILE_IN_PACKAGE = '/var/task/policy.toml';

/** The finding event the detect function publishes (docs/contracts.md, "Finding event"). */
export const FINDING_SOURCE = 'iamwatch';
export const FINDING_DETAIL_TYPE = 'IAM Watch Finding';

/** In-scope CloudTrail event names; the Rust core's list is the source of truth, a Rust test keeps them equal. */
export const IN_SCOPE_EVENT_NAMES: readonly string[] = eventNamesJson;

/** The pattern of the forwarding rule (member accounts) and of the central rule: one definition, used by both. */
export const IAM_EVENT_PATTERN = {
  source: ['aws.iam'],
  detailType: ['AWS API Call via CloudTrail'],
  detail: {
    eventSource: ['iam.amazonaws.com'],
    eventName: [...IN_SCOPE_EVENT_NAMES],
  },
};

export function roleArn(account: string, roleName: string): string {
  return `arn:aws:iam::${account}:role/${roleName}`;
}

export function busArn(account: string): string {
  return `arn:aws:events:${REGION}:${account}:event-bus/${BUS_NAME}`;
}
