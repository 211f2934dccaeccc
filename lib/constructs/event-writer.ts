/**
 * The writer: drains the event queue into PostgreSQL through RDS Proxy as `firehose_writer`. The SQS
 * event source's maximumConcurrency caps how many writers run, and so the writer's database
 * connections (one per instance); partial batch responses keep a poison message from failing the
 * rest of its batch (design promises 5 and 6).
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { WRITER_DB_USER } from '../config/database';
import { writerEnvironment } from '../config/function-environment';
import { type StageConfig, writerBatchingWindowSeconds } from '../config/stage-config';
import type { EventStore } from './event-store';
import { FirehoseFunction } from './firehose-function';
import { grantQueueConsume } from './grants';
import { grantTableActions } from './pipeline-tables';

export interface EventWriterProps {
  readonly config: StageConfig;
  readonly queue: sqs.IQueue;
  readonly ledger: dynamodb.ITable;
  readonly eventStore: EventStore;
}

export class EventWriter extends Construct {
  public readonly writerFunction: FirehoseFunction;
  public readonly eventSourceMapping: lambda.EventSourceMapping;

  constructor(scope: Construct, id: string, props: EventWriterProps) {
    super(scope, id);
    const { config } = props;
    // Batch size and concurrency are checked against AWS's limits by validateStageConfig.
    const { batchSize, maxConcurrency } = config.writer;
    const database = props.eventStore.client({ proxyUser: WRITER_DB_USER });

    this.writerFunction = new FirehoseFunction(this, 'WriterFunction', {
      handlerName: 'writer',
      config,
      description: 'Writes queued events, keys and rollups to PostgreSQL; reports partial batch failures',
      environment: writerEnvironment(config, { ledgerTable: props.ledger.tableName }, database.endpoint),
      timeout: Duration.seconds(config.writer.timeoutSeconds),
      memorySize: config.writer.memoryMb,
      ...database.functionProps,
    });
    // Marks messages committed or dead in the ledger (batched puts that leave the pending index).
    grantTableActions(this.writerFunction, props.ledger, ['dynamodb:BatchWriteItem']);
    database.grant(this.writerFunction);
    grantQueueConsume(this.writerFunction, props.queue);

    this.eventSourceMapping = new lambda.EventSourceMapping(this, 'QueueMapping', {
      target: this.writerFunction,
      eventSourceArn: props.queue.queueArn,
      batchSize,
      maxBatchingWindow: Duration.seconds(writerBatchingWindowSeconds(config)),
      reportBatchItemFailures: true,
      maxConcurrency,
      enabled: true,
    });
    // The mapping validates the role's SQS permissions when it is created.
    this.eventSourceMapping.node.addDependency(this.writerFunction.role!);
  }
}
