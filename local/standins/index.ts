/**
 * Local stand-ins at the wire: SQS and Firehose servers of our own, S3 (s3rver) and DynamoDB
 * (dynalite), each on 127.0.0.1, each with fault injection. The real @aws-sdk clients talk to them
 * unchanged. See docs/local-standins.md.
 */
import { join } from 'node:path';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import {
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  type StandinClientConfigs,
  type StandinEndpoints,
  s3ClientConfig,
  standinClientConfigs,
} from './client-config';
import { type DynamoDbStandin, startDynamoDbStandin } from './dynamodb/dynamodb-standin';
import type { FaultController } from './faults/fault-controller';
import { type FirehoseStandin, startFirehoseStandin } from './firehose/server';
import { type S3Standin, startS3Standin } from './s3/s3-standin';
import { normaliseQueueAttributes } from './sqs/queue-attributes';
import { type SqsStandin, startSqsStandin } from './sqs/server';

export {
  dynamoDbClientConfig,
  firehoseClientConfig,
  LOCAL_ACCOUNT_ID,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type StandinClientConfigs,
  type StandinEndpoints,
  s3ClientConfig,
  sqsClientConfig,
  standinClientConfigs,
  standinEnvironment,
} from './client-config';
export { ADMIN_PATH } from './faults/admin-endpoint';
export type { FaultSettings, FaultStats } from './faults/fault-controller';
export { FaultController } from './faults/fault-controller';
export type { DynamoDbStandin, FirehoseStandin, S3Standin, SqsStandin };
// Each stand-in alone (crash tests use their kill()).
export { startDynamoDbStandin, startFirehoseStandin, startS3Standin, startSqsStandin };

export type ServiceName = 'sqs' | 'firehose' | 's3' | 'dynamodb';

export interface QueueSpec {
  readonly name: string;
  /** Queue attributes as CreateQueue takes them, e.g. `{ VisibilityTimeout: '180' }`. */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Name of another queue in the list that receives this queue's messages after `maxReceiveCount`. */
  readonly deadLetterQueue?: string;
  readonly maxReceiveCount?: number;
}

export interface StartStandinsOptions {
  /** Everything is kept under this directory (sqs/, firehose/, s3/, dynamodb/); reuse it to keep data. */
  readonly dir: string;
  /** Fixed ports; any service left out gets a free port from the kernel. */
  readonly ports?: Partial<Readonly<Record<ServiceName, number>>>;
  readonly firehose: {
    /** Buffer interval and size, overriding every stream's BufferingHints (e.g. 5 s / 8 MiB locally). */
    readonly bufferSeconds: number;
    readonly bufferBytes: number;
    /** The archive bucket, created in S3 on start. */
    readonly bucket: string;
    /** Delivery streams to create (DirectPut into `bucket`, GZIP, prefix `events/`). */
    readonly streams?: readonly string[];
    /** The streams' output prefixes, as the deployed stream's (default `events/`, no error prefix). */
    readonly prefix?: string;
    readonly errorOutputPrefix?: string;
  };
  /** Queues to create; existing ones (same dir) keep their messages and get these attributes. */
  readonly queues?: readonly QueueSpec[];
  readonly dynamodb?: {
    /** Tables to create when missing. */
    readonly tables?: readonly CreateTableCommandInput[];
  };
  /** Errors the stand-ins cannot answer with (e.g. an S3 delivery attempt that failed). */
  readonly onError?: (error: unknown) => void;
}

export interface Standins {
  readonly endpoints: StandinEndpoints;
  readonly faults: Readonly<Record<ServiceName, FaultController>>;
  /** SDK client config for each service (endpoint, region, credentials, and S3's path style). */
  readonly clients: StandinClientConfigs;
  readonly region: string;
  readonly accountId: string;
  readonly sqs: SqsStandin;
  readonly firehose: FirehoseStandin;
  readonly s3: S3Standin;
  readonly dynamodb: DynamoDbStandin;
  queueUrl(name: string): string;
  /** Stops all four: Firehose first (it flushes into S3), then SQS, S3 and DynamoDB. */
  stop(): Promise<void>;
}

export async function startStandins(options: StartStandinsOptions): Promise<Standins> {
  const started: { stop(): Promise<void> }[] = [];
  try {
    const [s3, dynamodb, sqs] = await Promise.all([
      startS3Standin({
        dir: join(options.dir, 's3'),
        buckets: [options.firehose.bucket],
        ...(options.ports?.s3 !== undefined ? { port: options.ports.s3 } : {}),
      }).then(track),
      startDynamoDbStandin({
        dir: join(options.dir, 'dynamodb'),
        ...(options.dynamodb?.tables ? { tables: options.dynamodb.tables } : {}),
        ...(options.ports?.dynamodb !== undefined ? { port: options.ports.dynamodb } : {}),
      }).then(track),
      startSqsStandin({
        dir: join(options.dir, 'sqs'),
        region: LOCAL_REGION,
        accountId: LOCAL_ACCOUNT_ID,
        ...(options.ports?.sqs !== undefined ? { port: options.ports.sqs } : {}),
        ...(options.onError ? { onError: options.onError } : {}),
      }).then(track),
    ]);
    const firehose = track(
      await startFirehoseStandin({
        dir: join(options.dir, 'firehose'),
        s3: s3ClientConfig(s3.endpoint),
        region: LOCAL_REGION,
        accountId: LOCAL_ACCOUNT_ID,
        buffer: { seconds: options.firehose.bufferSeconds, bytes: options.firehose.bufferBytes },
        ...(options.ports?.firehose !== undefined ? { port: options.ports.firehose } : {}),
        ...(options.onError ? { onError: options.onError } : {}),
      }),
    );
    for (const name of options.firehose.streams ?? []) {
      await firehose.ensureStream({
        name,
        bucket: options.firehose.bucket,
        ...(options.firehose.prefix ? { prefix: options.firehose.prefix } : {}),
        ...(options.firehose.errorOutputPrefix
          ? { errorOutputPrefix: options.firehose.errorOutputPrefix }
          : {}),
      });
    }
    await createQueues(sqs, options.queues ?? []);

    const endpoints: StandinEndpoints = {
      sqs: sqs.endpoint,
      firehose: firehose.endpoint,
      s3: s3.endpoint,
      dynamodb: dynamodb.endpoint,
    };
    return {
      endpoints,
      faults: { sqs: sqs.faults, firehose: firehose.faults, s3: s3.faults, dynamodb: dynamodb.faults },
      clients: standinClientConfigs(endpoints),
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT_ID,
      sqs,
      firehose,
      s3,
      dynamodb,
      queueUrl: (name) => sqs.queueUrl(name),
      async stop() {
        await firehose.stop();
        await Promise.all([sqs.stop(), s3.stop(), dynamodb.stop()]);
      },
    };
  } catch (error) {
    await Promise.allSettled(started.map((service) => service.stop()));
    throw error;
  }

  function track<T extends { stop(): Promise<void> }>(service: T): T {
    started.push(service);
    return service;
  }
}

/** Creates (or updates) the queues, then sets each redrive policy once every target exists. */
async function createQueues(sqs: SqsStandin, specs: readonly QueueSpec[]): Promise<void> {
  const { store } = sqs;
  const exists = (arn: string): boolean => store.findByArn(arn) !== undefined;
  for (const spec of specs) {
    const attributes = normaliseQueueAttributes(spec.attributes ?? {}, exists);
    const existing = store.listQueues(spec.name).find((queue) => queue.name === spec.name);
    if (existing) store.setAttributes(existing, attributes);
    else store.createQueue(spec.name, attributes, {});
  }
  for (const spec of specs) {
    if (!spec.deadLetterQueue) continue;
    const redrive = JSON.stringify({
      deadLetterTargetArn: store.arnOf(spec.deadLetterQueue),
      maxReceiveCount: spec.maxReceiveCount ?? 5,
    });
    store.setAttributes(
      store.queueByName(spec.name),
      normaliseQueueAttributes({ RedrivePolicy: redrive }, exists),
    );
  }
  await sqs.journal.durable();
}
