/**
 * How long the four local stand-ins take to be up and answering (goal: < 2 s).
 * Run: npm run bench -- standins [--runs 7]
 *
 * Measures, as medians over `runs` (default 7):
 *  - fresh: an empty directory, creating a queue pair, a delivery stream, a bucket and a table;
 *  - restart: the same directory again, with 10,000 messages (~10 MiB) in the SQS journal, which is
 *    replayed and compacted on start.
 * "Up" means startStandins() resolved and one real SDK call per service succeeded.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { numberOption } from '../support/options';

const runs = Math.ceil(numberOption(process.argv, 'runs', 7));
/** Issue 8's budget for all stand-ins to be up. */
const GOAL_MS = 2_000;

const importStarted = performance.now();
const { startStandins } = await import('../../local/standins/index');
const { keyedByPk } = await import('../../local/dynamodb-tables');
const { median, ratio } = await import('../support/stats');
const { SQSClient, SendMessageBatchCommand, GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
const { FirehoseClient, DescribeDeliveryStreamCommand } = await import('@aws-sdk/client-firehose');
const { S3Client, HeadBucketCommand } = await import('@aws-sdk/client-s3');
const { DynamoDBClient, DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
const importMs = performance.now() - importStarted;

type StartOptions = Parameters<typeof startStandins>[0];

const options = (dir: string): StartOptions => ({
  dir,
  firehose: {
    bufferSeconds: 5,
    bufferBytes: 8 * 1024 * 1024,
    bucket: 'archive',
    streams: ['events-archive'],
  },
  queues: [{ name: 'events', deadLetterQueue: 'events-dlq' }, { name: 'events-dlq' }],
  dynamodb: {
    tables: [keyedByPk('tenants')],
  },
});

/** Starts the stand-ins and makes one call to each; returns the elapsed ms and the running set. */
async function timeUp(dir: string) {
  const started = performance.now();
  const standins = await startStandins(options(dir));
  const { clients } = standins;
  const sqs = new SQSClient(clients.sqs);
  const firehose = new FirehoseClient(clients.firehose);
  const s3 = new S3Client(clients.s3);
  const dynamodb = new DynamoDBClient(clients.dynamodb);
  await Promise.all([
    sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: standins.queueUrl('events'), AttributeNames: ['All'] }),
    ),
    firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'events-archive' })),
    s3.send(new HeadBucketCommand({ Bucket: 'archive' })),
    dynamodb.send(new DescribeTableCommand({ TableName: 'tenants' })),
  ]);
  const elapsed = performance.now() - started;
  for (const client of [sqs, firehose, s3, dynamodb]) client.destroy();
  return { elapsed, standins };
}

async function fill(
  standins: Awaited<ReturnType<typeof timeUp>>['standins'],
  messages: number,
): Promise<void> {
  const sqs = new SQSClient(standins.clients.sqs);
  const body = 'x'.repeat(1_000);
  const batches = messages / 10;
  for (let i = 0; i < batches; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, batches - i) }, () =>
        sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: standins.queueUrl('events'),
            Entries: Array.from({ length: 10 }, (_, j) => ({ Id: `m${j}`, MessageBody: body })),
          }),
        ),
      ),
    );
  }
  sqs.destroy();
}

const format = (values: number[]): string =>
  `median ${median(values).toFixed(0)} ms (min ${Math.min(...values).toFixed(0)}, max ${Math.max(...values).toFixed(0)})`;

const fresh: number[] = [];
const restart: number[] = [];
for (let run = 0; run < runs; run += 1) {
  const dir = await mkdtemp(join(tmpdir(), 'firehose-bench-standins-'));
  try {
    const first = await timeUp(dir);
    fresh.push(first.elapsed);
    await fill(first.standins, 10_000);
    await first.standins.stop();
    const second = await timeUp(dir);
    restart.push(second.elapsed);
    await second.standins.stop();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

console.log(`stand-ins startup, ${runs} runs, node ${process.version}`);
console.log(`  module import (once per process): ${importMs.toFixed(0)} ms`);
console.log(`  fresh directory:                  ${format(fresh)}`);
console.log(`  restart, 10,000 queued messages:  ${format(restart)}`);
console.log(
  `  restart / fresh = ${ratio(median(restart), median(fresh))}; ` +
    `(import + restart) / goal of 2 s = ${ratio(importMs + median(restart), GOAL_MS)}`,
);
