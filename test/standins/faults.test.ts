/**
 * Every fault knob of every stand-in, seen from the real SDK clients: what a caller gets, and whether
 * the write behind the call happened.
 */
import { gunzipSync } from 'node:zlib';
import {
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { FirehoseClient, ListDeliveryStreamsCommand, PutRecordCommand } from '@aws-sdk/client-firehose';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyedByPk } from '../../local/dynamodb-tables';
import { type FaultController, type Standins, startStandins } from '../../local/standins/index';
import { makeTempDir, removeTempDir } from '../support/temp-dir';
import { rejection } from './support/rejection';

interface Harness {
  readonly faults: FaultController;
  readonly endpoint: string;
  /** The operation `write` performs (for the operations filter). */
  readonly operation: string;
  write(id: string, maxAttempts?: number, signal?: AbortSignal): Promise<unknown>;
  wasWritten(id: string): Promise<boolean>;
  /** A call of another operation. */
  other(): Promise<unknown>;
  readonly errors: Readonly<Record<'down' | 'throttle' | 'error', readonly [name: string, status: number]>>;
}

let dir: string;
let standins: Standins;
let ids = 0;
const nextId = (): string => `id-${++ids}`;

const harnesses: Record<string, () => Harness> = {
  SQS: () => {
    const client = (maxAttempts: number) => new SQSClient({ ...standins.clients.sqs, maxAttempts });
    const url = standins.queueUrl('faults');
    return {
      faults: standins.faults.sqs,
      endpoint: standins.endpoints.sqs,
      operation: 'SendMessage',
      write: (id, maxAttempts = 1, signal) =>
        client(maxAttempts).send(new SendMessageCommand({ QueueUrl: url, MessageBody: id }), {
          abortSignal: signal,
        }),
      wasWritten: async (id) =>
        [...standins.sqs.store.queueByName('faults').messages.values()].some(
          (message) => message.body === id,
        ),
      other: () => client(1).send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] })),
      errors: {
        down: ['ServiceUnavailable', 503],
        throttle: ['RequestThrottled', 403],
        error: ['InternalError', 500],
      },
    };
  },
  Firehose: () => {
    const client = (maxAttempts: number) => new FirehoseClient({ ...standins.clients.firehose, maxAttempts });
    const s3 = new S3Client(standins.clients.s3);
    return {
      faults: standins.faults.firehose,
      endpoint: standins.endpoints.firehose,
      operation: 'PutRecord',
      write: (id, maxAttempts = 1, signal) =>
        client(maxAttempts).send(
          new PutRecordCommand({ DeliveryStreamName: 'faults', Record: { Data: Buffer.from(`${id}\n`) } }),
          { abortSignal: signal },
        ),
      wasWritten: async (id) => {
        await standins.firehose.flush();
        const { Contents = [] } = await s3.send(
          new ListObjectsV2Command({ Bucket: 'archive', Prefix: 'events/' }),
        );
        for (const { Key } of Contents) {
          const object = await s3.send(new GetObjectCommand({ Bucket: 'archive', Key: Key! }));
          const text = gunzipSync(Buffer.from(await object.Body!.transformToByteArray())).toString();
          if (text.split('\n').includes(id)) return true;
        }
        return false;
      },
      other: () => client(1).send(new ListDeliveryStreamsCommand({})),
      errors: {
        down: ['ServiceUnavailableException', 503],
        throttle: ['ServiceUnavailableException', 503],
        error: ['InternalFailure', 500],
      },
    };
  },
  S3: () => {
    const client = (maxAttempts: number) => new S3Client({ ...standins.clients.s3, maxAttempts });
    return {
      faults: standins.faults.s3,
      endpoint: standins.endpoints.s3,
      operation: 'PutObject',
      write: (id, maxAttempts = 1, signal) =>
        client(maxAttempts).send(new PutObjectCommand({ Bucket: 'archive', Key: `faults/${id}`, Body: id }), {
          abortSignal: signal,
        }),
      wasWritten: async (id) =>
        client(1)
          .send(new HeadObjectCommand({ Bucket: 'archive', Key: `faults/${id}` }))
          .then(() => true)
          .catch(() => false),
      other: () => client(1).send(new ListObjectsV2Command({ Bucket: 'archive', Prefix: 'faults/' })),
      errors: {
        down: ['ServiceUnavailable', 503],
        throttle: ['SlowDown', 503],
        error: ['InternalError', 500],
      },
    };
  },
  DynamoDB: () => {
    const client = (maxAttempts: number) => new DynamoDBClient({ ...standins.clients.dynamodb, maxAttempts });
    return {
      faults: standins.faults.dynamodb,
      endpoint: standins.endpoints.dynamodb,
      operation: 'PutItem',
      write: (id, maxAttempts = 1, signal) =>
        client(maxAttempts).send(new PutItemCommand({ TableName: 'faults', Item: { pk: { S: id } } }), {
          abortSignal: signal,
        }),
      wasWritten: async (id) =>
        (await client(1).send(new GetItemCommand({ TableName: 'faults', Key: { pk: { S: id } } }))).Item !==
        undefined,
      other: () => client(1).send(new DescribeTableCommand({ TableName: 'faults' })),
      errors: {
        down: ['ServiceUnavailable', 503],
        throttle: ['ProvisionedThroughputExceededException', 400],
        error: ['InternalServerError', 500],
      },
    };
  },
};

beforeAll(async () => {
  dir = await makeTempDir('standins-faults');
  standins = await startStandins({
    dir,
    firehose: { bufferSeconds: 3600, bufferBytes: 8 * 1024 * 1024, bucket: 'archive', streams: ['faults'] },
    queues: [{ name: 'faults' }],
    dynamodb: {
      tables: [keyedByPk('faults')],
    },
  });
});

afterAll(async () => {
  await standins?.stop();
  await removeTempDir(dir);
});

afterEach(() => {
  for (const faults of Object.values(standins.faults)) faults.reset();
});

describe.each(Object.keys(harnesses))('%s stand-in faults', (service) => {
  let harness: Harness;

  beforeAll(() => {
    harness = harnesses[service]!();
  });

  it('answers every call 503 while down, and nothing is written', async () => {
    // Prepare
    const id = nextId();
    harness.faults.set({ down: true });

    // Act
    const error = await rejection(harness.write(id));
    harness.faults.reset();

    // Assess
    expect([error.name, error.$metadata?.httpStatusCode]).toEqual([...harness.errors.down]);
    expect(await harness.wasWritten(id)).toBe(false);
  });

  it("fails calls with the service's throttling error", async () => {
    // Prepare
    const id = nextId();
    harness.faults.set({ throttleRate: 1 });

    // Act
    const error = await rejection(harness.write(id));

    // Assess
    expect([error.name, error.$metadata?.httpStatusCode]).toEqual([...harness.errors.throttle]);
    expect(harness.faults.stats().throttled).toBeGreaterThan(0);
  });

  it('throttles a share of calls in a way the SDK retries through', async () => {
    // Prepare: seed 7 throttles the first two calls and lets the third through.
    const id = nextId();
    harness.faults.set({ throttleRate: 0.5, seed: 7 });

    // Act
    const result = (await harness.write(id, 10)) as { $metadata: { attempts?: number } };
    harness.faults.reset();

    // Assess
    expect(result.$metadata.attempts).toBe(3);
    expect(await harness.wasWritten(id)).toBe(true);
  });

  it("fails calls with the service's internal error", async () => {
    // Prepare
    harness.faults.set({ errorRate: 1 });

    // Act
    const error = await rejection(harness.write(nextId()));

    // Assess
    expect([error.name, error.$metadata?.httpStatusCode]).toEqual([...harness.errors.error]);
  });

  it('drops the connection before the call: the caller gets a socket error and nothing is written', async () => {
    // Prepare
    const id = nextId();
    harness.faults.set({ dropRequestRate: 1 });

    // Act
    const error = await rejection(harness.write(id));
    harness.faults.reset();

    // Assess
    expect(error.$metadata?.httpStatusCode).toBeUndefined();
    expect(`${error.name} ${error.message} ${(error as { code?: string }).code}`).toMatch(
      /socket hang up|ECONNRESET/,
    );
    expect(await harness.wasWritten(id)).toBe(false);
  });

  it('drops the connection after the call: the caller gets a socket error, yet the write happened', async () => {
    // Prepare
    const id = nextId();
    harness.faults.set({ dropResponseRate: 1 });

    // Act
    const error = await rejection(harness.write(id));
    harness.faults.reset();

    // Assess
    expect(error.$metadata?.httpStatusCode).toBeUndefined();
    expect(await harness.wasWritten(id)).toBe(true);
  });

  it('delays every answer by delayMs', async () => {
    // Prepare
    harness.faults.set({ delayMs: 300 });
    const started = Date.now();

    // Act
    await harness.write(nextId());

    // Assess
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('never carries out a delayed call whose caller gave up waiting', async () => {
    // Prepare
    const id = nextId();
    // (The delay outlasts the caller's patience by far, so a stalled event loop cannot fire both together.)
    harness.faults.set({ delayMs: 1_000 });

    // Act
    const error = await rejection(harness.write(id, 1, AbortSignal.timeout(100)));
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    harness.faults.reset();

    // Assess
    expect(error.name).toBe('AbortError');
    expect(await harness.wasWritten(id)).toBe(false);
  });

  it('applies faults only to the listed operations', async () => {
    // Prepare
    harness.faults.set({ errorRate: 1, operations: [harness.operation] });

    // Act
    const error = await rejection(harness.write(nextId()));
    const other = await harness.other();

    // Assess
    expect(error.$metadata?.httpStatusCode).toBe(harness.errors.error[1]);
    expect(other).toBeDefined();
  });

  it('is controlled over HTTP at /__faults on its own port', async () => {
    // Prepare
    const admin = `${harness.endpoint}/__faults`;

    // Act
    const set = await fetch(admin, { method: 'POST', body: JSON.stringify({ down: true }) });
    const whileDown = await rejection(harness.write(nextId()));
    const read = await (await fetch(admin)).json();
    const cleared = await fetch(admin, { method: 'DELETE' });
    await harness.write(nextId());
    const invalid = await fetch(admin, { method: 'POST', body: JSON.stringify({ errorRate: 2 }) });

    // Assess
    expect(set.status).toBe(200);
    expect(whileDown.$metadata?.httpStatusCode).toBe(503);
    expect(read).toMatchObject({ settings: { down: true }, stats: { down: expect.any(Number) } });
    expect(((await cleared.json()) as { settings: { down: boolean } }).settings.down).toBe(false);
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({ error: 'errorRate must be a number from 0 to 1' });
  });
});

describe('SQS stand-in duplicate deliveries', () => {
  it('delivers the same message a second time, with its own receipt handle', async () => {
    // Prepare
    const sqs = new SQSClient({ ...standins.clients.sqs, maxAttempts: 1 });
    const url = standins.queueUrl('faults');
    await standins.sqs.store.purge(standins.sqs.store.queueByName('faults'));
    const { MessageId } = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'twice' }));
    standins.faults.sqs.set({ duplicateRate: 1 });

    // Act
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    standins.faults.sqs.reset();
    const second = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );

    // Assess
    expect(first.Messages?.map((m) => m.MessageId)).toEqual([MessageId]);
    expect(second.Messages?.map((m) => m.MessageId)).toEqual([MessageId]);
    expect(second.Messages?.[0]?.ReceiptHandle).not.toBe(first.Messages?.[0]?.ReceiptHandle);
    expect(standins.faults.sqs.stats().duplicated).toBe(1);
  });
});

describe('Firehose stand-in failed records on PutRecord', () => {
  it('answers a PutRecord whose record is failed with ServiceUnavailableException', async () => {
    // Prepare
    const firehose = new FirehoseClient({ ...standins.clients.firehose, maxAttempts: 1 });
    standins.faults.firehose.set({ failedPutRate: 1 });

    // Act
    const error = await rejection(
      firehose.send(
        new PutRecordCommand({ DeliveryStreamName: 'faults', Record: { Data: Buffer.from('x\n') } }),
      ),
    );

    // Assess
    expect([error.name, error.message, error.$metadata?.httpStatusCode]).toEqual([
      'ServiceUnavailableException',
      'Slow down.',
      503,
    ]);
  });
});
