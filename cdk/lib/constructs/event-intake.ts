import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BUS_NAME, EVENTS_QUEUE_NAME, FORWARDED_EVENT_PATTERN, ORG_EVENT_SOURCES } from '../names';
import { Group } from './group';
import { QueueWithDlq, ruleTargetDlq } from './queue-with-dlq';

export interface EventIntakeProps {
  /** Only principals of this organization may put events on the bus. */
  readonly orgId: string;
  /** Visibility timeout of the events queue (follows from the detect function's timeout). */
  readonly visibilityTimeout: Duration;
}

/**
 * Trust zone "the organization -> the security account": the central bus the member accounts
 * forward their IAM events to, its resource policy (principals of the organization, and only
 * events whose source is an AWS service iamwatch reads: a member account cannot put an `iamwatch`
 * finding event here), and the rule that queues the in-scope events for the detect function.
 */
export class EventIntake extends Group {
  public readonly bus: events.EventBus;
  public readonly events: QueueWithDlq;
  public readonly rule: events.Rule;
  /** Where the rule's target puts what it could not deliver. */
  public readonly ruleDlq: sqs.Queue;

  constructor(scope: Construct, id: string, props: EventIntakeProps) {
    super(scope, id);

    this.bus = new events.EventBus(this, 'Bus', { eventBusName: BUS_NAME, description: 'iamwatch: IAM events of the organization and iamwatch findings' });
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'iamwatch-org-put-events',
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: { StringEquals: { 'aws:PrincipalOrgID': props.orgId, 'events:source': [...ORG_EVENT_SOURCES] } },
      }),
    );

    this.events = new QueueWithDlq(this, 'Events', {
      queueName: EVENTS_QUEUE_NAME,
      visibilityTimeout: props.visibilityTimeout,
    });
    this.ruleDlq = ruleTargetDlq(this, 'IamEventsTargetDlq', 'iamwatch-iam-events-target-dlq');
    this.rule = new events.Rule(this, 'IamEventsRule', {
      ruleName: 'iam-events',
      description: 'iamwatch: in-scope IAM events forwarded by the member accounts',
      eventBus: this.bus,
      // CloudFormation's key names ('detail-type', '$or'): the L2 rule passes them through.
      eventPattern: FORWARDED_EVENT_PATTERN as events.EventPattern,
      targets: [
        new targets.SqsQueue(this.events.queue, { retryAttempts: 185, maxEventAge: Duration.hours(24), deadLetterQueue: this.ruleDlq }),
      ],
    });
  }
}
