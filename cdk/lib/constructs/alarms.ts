import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../names';
import { Group } from './group';
import { MAX_RECEIVE_COUNT, QueueWithDlq } from './queue-with-dlq';

/** Oldest message age at which the pipeline is considered stuck. */
export const OLDEST_MESSAGE_ALARM_SECONDS = 900;
const PERIOD = Duration.minutes(5);

export interface AlarmsProps {
  /** Address subscribed to the topic; empty for none. */
  readonly alarmEmail: string;
}

/**
 * What tells the security team that the pipeline is not working: the alarm topic (KMS-encrypted
 * with a key CloudWatch may use, TLS only, and CloudWatch of this account may publish to it) and
 * the alarms that notify it, added by the methods below. Alarm `<Id>` is named `iamwatch-<id>`.
 */
export class Alarms extends Group {
  public readonly topic: sns.Topic;
  private readonly action: cwActions.SnsAction;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const topicKey = new kms.Key(this, 'AlarmTopicKey', {
      alias: 'alias/iamwatch-alarms',
      description: 'iamwatch: encrypts the alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      topicName: 'iamwatch-alarms',
      displayName: 'iamwatch alarms',
      masterKey: topicKey,
      enforceSSL: true,
    });
    // Without this, CloudWatch may be refused sns:Publish and no alarm would reach anyone.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    if (props.alarmEmail !== '') this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    this.action = new cwActions.SnsAction(this.topic);
  }

  /** An alarm at `threshold` or more that notifies the topic when it fires and when it clears. */
  public alarm(id: string, metric: cloudwatch.IMetric, threshold: number, description: string): cloudwatch.Alarm {
    const a = new cloudwatch.Alarm(this, id, {
      alarmName: `iamwatch-${id.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`,
      alarmDescription: description,
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    a.addAlarmAction(this.action);
    a.addOkAction(this.action);
    return a;
  }

  /**
   * `<id>`: an embedded metric of a function (namespace `iamwatch`, dimension `Function`) summed
   * over `period` at or above `threshold`.
   */
  public functionMetric(id: string, fn: string, metricName: string, threshold: number, description: string, period: Duration = PERIOD): cloudwatch.Alarm {
    const metric = new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { Function: fn },
      period,
      statistic: 'Sum',
    });
    return this.alarm(id, metric, threshold, description);
  }

  /** `<id>DlqDepth`: a message in the DLQ. */
  public dlqDepth(q: QueueWithDlq): void {
    this.alarm(`${q.node.id}DlqDepth`, q.dlq.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }), 1,
      `${q.dlq.node.id}: messages that failed ${MAX_RECEIVE_COUNT} times; see runbooks for redriving them`);
  }

  /** `<id>OldestMessage`: a message waiting longer than OLDEST_MESSAGE_ALARM_SECONDS. */
  public oldestMessage(q: QueueWithDlq): void {
    this.alarm(`${q.node.id}OldestMessage`, q.queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum' }), OLDEST_MESSAGE_ALARM_SECONDS,
      `${q.queue.node.id}: a message has waited ${OLDEST_MESSAGE_ALARM_SECONDS}s or more; the pipeline is stuck or behind`);
  }

  /**
   * `<id>FailedInvocations`: events the rule's target could not take after every retry, and
   * `<id>TargetDlqDepth`: those events waiting in the target's dead-letter queue.
   */
  public ruleFailures(id: string, rule: events.IRule, targetDlq: sqs.IQueue): void {
    const failed = new cloudwatch.Metric({
      namespace: 'AWS/Events',
      metricName: 'FailedInvocations',
      dimensionsMap: { RuleName: rule.ruleName },
      period: PERIOD,
      statistic: 'Sum',
    });
    this.alarm(`${id}FailedInvocations`, failed, 1, `${id}: EventBridge could not deliver events to the rule's target; they are in its dead-letter queue`);
    this.alarm(`${id}TargetDlqDepth`, targetDlq.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }), 1,
      `${id}: events the rule could not deliver wait in its target's dead-letter queue; see runbooks for redriving them`);
  }

  /** `<id>Errors`: an invocation that failed as a whole. */
  public functionErrors(id: string, fn: lambda.IFunction): void {
    this.alarm(`${id}Errors`, fn.metricErrors({ period: PERIOD, statistic: 'Sum' }), 1, `${id}Errors: the function failed (whole invocation)`);
  }
}
