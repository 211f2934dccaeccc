/**
 * The writer: drains the event queue into PostgreSQL through RDS Proxy as `firehose_writer`. The SQS
 * event source's maximumConcurrency caps how many writers run, and so the writer's database
 * connections (one per instance); partial batch responses keep a poison message from failing the
 * rest of its batch (design promises 5 and 6).
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MAX_QUEUE_MESSAGE_BYTES } from '../../lambdas/core/queue-message';
import { WRITER_DB_USER } from '../config/database';
import { writerEnvironment } from '../config/function-environment';
import type { StageConfig } from '../config/stage-config';
import type { EventStore } from './event-store';
import { FirehoseFunction } from './firehose-function';
import { grantQueueConsume } from './grants';
import { grantTableActions } from './pipeline-tables';

/** Ingest packs queue messages under this size; a batch of them must fit one invocation payload. */
export { MAX_QUEUE_MESSAGE_BYTES };
/** Lambda's synchronous invocation payload limit (6 MB). */
export const MAX_INVOCATION_PAYLOAD_BYTES = 6 * 1000 * 1000;

export interface EventWriterProps {
  readonly config: StageConfig;
  readonly queue: sqs.IQueue;
  readonly ledger: dynamodb.ITable;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly eventStore: EventStore;
}

export class EventWriter extends Construct {
  public readonly writerFunction: FirehoseFunction;
  public readonly eventSourceMapping: lambda.EventSourceMapping;

  constructor(scope: Construct, id: string, props: EventWriterProps) {
    super(scope, id);
    const { config, eventStore } = props;
    const { batchSize, batchingWindowSeconds, maxConcurrency } = config.writer;
    if (batchSize * MAX_QUEUE_MESSAGE_BYTES > MAX_INVOCATION_PAYLOAD_BYTES) {
      throw new Error(`writer.batchSize ${batchSize} x 256 KiB messages exceeds the 6 MB invocation payload`);
    }
    if (maxConcurrency < 2 || maxConcurrency > 1000) {
      throw new Error(`writer.maxConcurrency must be 2-1000 (SQS event source limit), got ${maxConcurrency}`);
    }
    // CloudFormation takes whole seconds; batches above 10 messages need a window of at least 1 s.
    const window = Math.max(Math.ceil(batchingWindowSeconds), batchSize > 10 ? 1 : 0);

    this.writerFunction = new FirehoseFunction(this, 'WriterFunction', {
      handlerName: 'writer',
      config,
      description: 'Writes queued events, keys and rollups to PostgreSQL; reports partial batch failures',
      environment: writerEnvironment(
        config,
        { ledgerTable: props.ledger.tableName },
        eventStore.proxyEndpoint(WRITER_DB_USER),
      ),
      timeout: Duration.seconds(config.writer.timeoutSeconds),
      memorySize: config.writer.memoryMb,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [eventStore.proxyClientSecurityGroup],
      connectsToDatabase: true,
    });
    // Marks messages committed or dead in the ledger (batched puts that leave the pending index).
    grantTableActions(this.writerFunction, props.ledger, ['dynamodb:BatchWriteItem']);
    eventStore.grantProxyConnect(this.writerFunction, WRITER_DB_USER);
    grantQueueConsume(this.writerFunction, props.queue);

    this.eventSourceMapping = new lambda.EventSourceMapping(this, 'QueueMapping', {
      target: this.writerFunction,
      eventSourceArn: props.queue.queueArn,
      batchSize,
      maxBatchingWindow: Duration.seconds(window),
      reportBatchItemFailures: true,
      maxConcurrency,
      enabled: true,
    });
    // The mapping validates the role's SQS permissions when it is created.
    this.eventSourceMapping.node.addDependency(this.writerFunction.role!);
  }
}
