import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Group } from './group';

/** Receives before a message goes to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;

/** AWS's guidance for SQS-triggered functions: visibility timeout = 6x function timeout + batching window. */
export function visibilityTimeoutFor(timeout: Duration, batchingWindow: Duration = Duration.seconds(0)): Duration {
  return Duration.seconds(6 * timeout.toSeconds() + batchingWindow.toSeconds());
}

export interface QueueWithDlqProps {
  /** Name of the queue; the DLQ is `<name>-dlq` (`<name>-dlq.fifo` for a FIFO queue). */
  readonly queueName: string;
  readonly fifo?: boolean;
  /** FIFO only: EventBridge requires content-based deduplication on FIFO targets. */
  readonly contentBasedDeduplication?: boolean;
  /** At least 6x the consuming function's timeout (plus its batching window). */
  readonly visibilityTimeout: Duration;
}

/**
 * A queue with its dead-letter queue, both SQS-encrypted, TLS only; messages stay 4 days in the
 * queue and 14 in the DLQ, which gets a message after MAX_RECEIVE_COUNT receives. Children
 * `<id>Queue` and `<id>Dlq`.
 */
export class QueueWithDlq extends Group {
  public readonly queue: sqs.Queue;
  public readonly dlq: sqs.Queue;

  constructor(scope: Construct, id: string, props: QueueWithDlqProps) {
    super(scope, id);
    const fifo = props.fifo === true;
    this.dlq = new sqs.Queue(this, `${id}Dlq`, {
      queueName: fifo ? props.queueName.replace(/\.fifo$/, '-dlq.fifo') : `${props.queueName}-dlq`,
      ...(fifo ? { fifo: true } : {}),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, `${id}Queue`, {
      queueName: props.queueName,
      ...(fifo ? { fifo: true } : {}),
      ...(props.contentBasedDeduplication !== undefined ? { contentBasedDeduplication: props.contentBasedDeduplication } : {}),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      visibilityTimeout: props.visibilityTimeout,
      deadLetterQueue: { queue: this.dlq, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
  }
}

/**
 * The dead-letter queue of an EventBridge rule target: where an event goes that EventBridge could
 * not deliver after its retries (target deleted, policy denied, throttled for 24 hours), instead
 * of being dropped. Encrypted, TLS only, 14 days. The rule's target names it
 * (`DeadLetterConfig`); EventBridge may send to it only for that rule (`aws:SourceArn`).
 */
export function ruleTargetDlq(scope: Construct, id: string, queueName: string): sqs.Queue {
  const q = new sqs.Queue(scope, id, {
    queueName,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(q).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is itself a dead-letter queue: that of an EventBridge rule target (DeadLetterConfig), which cdk-nag does not recognise.',
  });
  return q;
}
