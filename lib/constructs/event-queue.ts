/**
 * The standard SQS queue between ingest and the writer, with its dead-letter queue. Fairness between
 * tenants comes from `MessageGroupId = account_id` on every message (SQS fair queues), not from a
 * queue setting. Both queues are KMS-encrypted with a customer managed key and refuse plain HTTP.
 */
import { Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { removalPolicy } from './retention';

/** SQS asks for at least 5 receives before a message moves to the DLQ (Lambda retries need room). */
export const MIN_MAX_RECEIVE_COUNT = 5;

export interface EventQueueProps {
  readonly encryptionKey: kms.IKey;
  readonly visibilityTimeout: Duration;
  readonly retentionPeriod: Duration;
  /** Must be longer than the source's: a moved message keeps its first enqueue time. */
  readonly deadLetterRetentionPeriod: Duration;
  readonly maxReceiveCount: number;
  readonly retain: boolean;
}

export class EventQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: EventQueueProps) {
    super(scope, id);
    if (props.maxReceiveCount < MIN_MAX_RECEIVE_COUNT) {
      throw new Error(
        `maxReceiveCount must be at least ${MIN_MAX_RECEIVE_COUNT}, got ${props.maxReceiveCount}`,
      );
    }
    if (props.deadLetterRetentionPeriod.toSeconds() <= props.retentionPeriod.toSeconds()) {
      throw new Error('The dead-letter queue must retain messages longer than the source queue');
    }
    const common: sqs.QueueProps = {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
      removalPolicy: removalPolicy(props.retain),
    };
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...common,
      retentionPeriod: props.deadLetterRetentionPeriod,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...common,
      retentionPeriod: props.retentionPeriod,
      visibilityTimeout: props.visibilityTimeout,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
