import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { REGION, STACK_SET_NAME } from '../names';
import { Alarms } from './alarms';
import { ruleTargetDlq } from './queue-with-dlq';

/** The rule that reports failed operations and instances of the member StackSet. */
export const STACKSET_FAILURES_RULE_NAME = 'iamwatch-stackset-failures';

/**
 * The events CloudFormation sends when an operation of the member StackSet fails or is stopped,
 * or when one of its stack instances fails or becomes inoperable (CloudFormation User Guide,
 * "StackSet Operation Status Change" and "StackSet StackInstance Status Change" event details).
 */
export const STACKSET_FAILURE_PATTERN: Record<string, unknown> = {
  'source': ['aws.cloudformation'],
  'detail-type': ['CloudFormation StackSet Operation Status Change', 'CloudFormation StackSet StackInstance Status Change'],
  'detail': {
    'stack-set-arn': [{ wildcard: `arn:aws:cloudformation:${REGION}:*:stackset/${STACK_SET_NAME}:*` }],
    '$or': [
      { 'status-details': { 'status': ['FAILED', 'STOPPED', 'INOPERABLE'] } },
      { 'status-details': { 'detailed-status': ['FAILED', 'FAILED_IMPORT', 'INOPERABLE'] } },
    ],
  },
};

export interface StackSetAlertsProps {
  /** The topic the failures are published to (its policy is extended for the rule). */
  readonly alarms: Alarms;
}

/**
 * A stack instance that fails leaves an account without forwarding or without the member role:
 * the rule `iamwatch-stackset-failures` on the default bus publishes each such event, made
 * readable, to the alarm topic; the rule's failures and its target's dead-letter queue raise
 * alarms like the other rules. Service-managed StackSets live in the management account (also
 * when a delegated administrator creates them), so the management stack has this rule; the
 * central stack has it too, for the events CloudFormation delivers to the delegated administrator.
 */
export class StackSetAlerts extends Construct {
  public readonly rule: events.Rule;
  public readonly dlq: sqs.Queue;

  constructor(scope: Construct, id: string, props: StackSetAlertsProps) {
    super(scope, id);
    this.dlq = ruleTargetDlq(this, 'StackSetFailuresTargetDlq', 'iamwatch-stackset-failures-target-dlq');
    const message = events.RuleTargetInput.fromText(
      `iamwatch: StackSet ${STACK_SET_NAME}: ${events.EventField.fromPath('$.detail-type')}, ` +
        `status ${events.EventField.fromPath('$.detail.status-details.status')} ` +
        `${events.EventField.fromPath('$.detail.status-details.detailed-status')}, ` +
        `stack ${events.EventField.fromPath('$.detail.stack-id')}: ${events.EventField.fromPath('$.detail.status-details.status-reason')}. ` +
        'The account is not watched until the instance is fixed; see runbooks/ops-add-account-or-ou.md.',
    );
    this.rule = new events.Rule(this, 'StackSetFailuresRule', {
      ruleName: STACKSET_FAILURES_RULE_NAME,
      description: `iamwatch: failed operations and stack instances of the StackSet ${STACK_SET_NAME}`,
      eventPattern: STACKSET_FAILURE_PATTERN as events.EventPattern,
      targets: [
        // EventBridge publishes with a role of its own (the topic's policy stays as it is).
        new targets.SnsTopic(props.alarms.topic, { message, authorizeUsingRole: true, retryAttempts: 185, maxEventAge: Duration.hours(24), deadLetterQueue: this.dlq }),
      ],
    });
    Validations.of(this.rule.node.findChild('EventsRole')).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'aws-cdk-lib grants the role EventBridge publishes with the use of the alarm topic\'s key (GenerateDataKey* covers the variants SNS asks for), on that key only.',
    });
    props.alarms.ruleFailures('StackSetFailures', this.rule, this.dlq);
  }
}
