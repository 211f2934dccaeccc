import { type ChildProcess, spawn } from 'node:child_process';
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOURNAL_FILE } from '../../local/standins/sqs/journal';
import { type SqsStandin, startSqsStandin } from '../../local/standins/sqs/server';
import { makeTempDir, removeTempDir } from '../support/temp-dir';
import { sqsClient } from './support/sqs-client';

const CHILD = join(import.meta.dirname, 'support', 'sqs-child.ts');

async function startChild(dir: string): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_SUPPRESS_NODE_WARNING: '1' },
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`SQS child exited early (${code})`)));
  });
  lines.close();
  return { child, endpoint: (JSON.parse(first) as { endpoint: string }).endpoint };
}

async function drain(client: SQSClient, queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 60,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return all;
    all.push(...Messages);
  }
}

async function sendBodies(client: SQSClient, queueUrl: string, bodies: string[]): Promise<void> {
  const batches: string[][] = [];
  for (let i = 0; i < bodies.length; i += 10) batches.push(bodies.slice(i, i + 10));
  await Promise.all(
    batches.map(async (batch) => {
      const { Failed = [] } = await client.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((body, i) => ({ Id: `e${i}`, MessageBody: body })),
        }),
      );
      if (Failed.length > 0) throw new Error(`send failed: ${JSON.stringify(Failed)}`);
    }),
  );
}

async function deleteAll(client: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.slice(i, i + 10).map((m, j) => ({ Id: `d${j}`, ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}

describe('SQS stand-in durability', () => {
  let dir: string;
  const running: SqsStandin[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('standins-sqs-durability');
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(running.map((sqs) => sqs.stop()));
    await removeTempDir(dir);
  });

  async function start(sub: string, options: { compactAtBytes?: number } = {}): Promise<SqsStandin> {
    const sqs = await startSqsStandin({ dir: join(dir, sub), ...options });
    running.push(sqs);
    return sqs;
  }

  it('keeps every answered send, including one sent just before a SIGKILL, and no answered delete comes back', async () => {
    // Prepare: a stand-in in its own process, with 300 messages sent and 100 of them deleted.
    const sub = join(dir, 'sigkill');
    const { child, endpoint } = await startChild(sub);
    children.push(child);
    const client = sqsClient(endpoint);
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'events' }));
    const bodies = Array.from({ length: 300 }, (_, i) => `event-${i}`);
    await sendBodies(client, QueueUrl!, bodies);
    const received = await drain(client, QueueUrl!);
    const toDelete = received.slice(0, 100);
    await deleteAll(client, QueueUrl!, toDelete);

    // Act: one more send, then kill -9 the moment it is answered.
    await client.send(new SendMessageCommand({ QueueUrl: QueueUrl!, MessageBody: 'last-before-crash' }));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    client.destroy();
    const restarted = await startSqsStandin({ dir: sub });
    running.push(restarted);
    const queue = restarted.store.queueByName('events');

    // Assess
    const deleted = new Set(toDelete.map((m) => m.Body));
    const expected = [...bodies.filter((b) => !deleted.has(b)), 'last-before-crash'].sort();
    const surviving = [...queue.messages.values()].map((m) => m.body).sort();
    expect(surviving).toEqual(expected);
  });

  it('keeps an answered send after an in-process crash (nothing flushed on the way down)', async () => {
    // Prepare
    const sqs = await start('kill');
    const client = sqsClient(sqs.endpoint);
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'events' }));
    await client.send(new SendMessageCommand({ QueueUrl: QueueUrl!, MessageBody: 'accepted' }));

    // Act
    sqs.kill();
    client.destroy();
    const restarted = await start('kill');
    const survivor = sqsClient(restarted.endpoint);
    const messages = await drain(survivor, restarted.queueUrl('events'));
    survivor.destroy();

    // Assess
    expect(messages.map((m) => m.Body)).toEqual(['accepted']);
  });

  it('keeps dead-letter queue contents, original send time and receive state across a restart', async () => {
    // Prepare: one message redriven to the DLQ, one still in flight.
    const sqs = await start('dlq');
    const client = sqsClient(sqs.endpoint);
    const dlq = await client.send(new CreateQueueCommand({ QueueName: 'events-dlq' }));
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({
        QueueName: 'events',
        Attributes: {
          VisibilityTimeout: '0',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: sqs.queueArn('events-dlq'),
            maxReceiveCount: 1,
          }),
        },
      }),
    );
    await client.send(new SendMessageCommand({ QueueUrl: QueueUrl!, MessageBody: 'poison' }));
    const first = await client.send(
      new ReceiveMessageCommand({ QueueUrl: QueueUrl!, MessageSystemAttributeNames: ['SentTimestamp'] }),
    );
    await client.send(new ReceiveMessageCommand({ QueueUrl: QueueUrl! })); // redrives 'poison'
    await client.send(new SendMessageCommand({ QueueUrl: QueueUrl!, MessageBody: 'in-flight' }));
    await client.send(new ReceiveMessageCommand({ QueueUrl: QueueUrl!, VisibilityTimeout: 300 }));

    // Act
    await sqs.stop();
    client.destroy();
    const restarted = await start('dlq');
    const after = sqsClient(restarted.endpoint);
    const dead = await drain(after, dlq.QueueUrl!);
    const source = await drain(after, QueueUrl!);
    after.destroy();

    // Assess
    expect(dead.map((m) => m.Body)).toEqual(['poison']);
    expect(dead[0]!.Attributes?.SentTimestamp).toBe(first.Messages![0]!.Attributes!.SentTimestamp);
    expect(dead[0]!.Attributes?.DeadLetterQueueSourceArn).toBe(restarted.queueArn('events'));
    expect(source).toEqual([]); // 'in-flight' is still hidden for its 300 s
  });

  it('compacts the journal as it grows, keeping exactly the live messages', async () => {
    // Prepare
    const sqs = await start('compact', { compactAtBytes: 64 * 1024 });
    const client = sqsClient(sqs.endpoint);
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'events' }));
    const padding = 'x'.repeat(500);

    // Act: 2,000 messages of ~0.5 KiB sent and deleted, 10 left.
    for (let round = 0; round < 20; round += 1) {
      await sendBodies(
        client,
        QueueUrl!,
        Array.from({ length: 100 }, (_, i) => `${round}-${i}-${padding}`),
      );
      const received = await drain(client, QueueUrl!);
      const keep = round === 19 ? 10 : 0;
      await deleteAll(client, QueueUrl!, received.slice(keep));
    }
    await sqs.stop();
    client.destroy();
    const { size } = await stat(join(dir, 'compact', JOURNAL_FILE));
    const restarted = await start('compact', { compactAtBytes: 64 * 1024 });

    // Assess: far less than the ~1 MiB of bodies written, and the 10 kept messages are back.
    expect(size).toBeLessThan(256 * 1024);
    expect(restarted.store.queueByName('events').messages.size).toBe(10);
  });

  it('ignores a torn last line (an append cut short by a crash) and refuses a corrupt middle line', async () => {
    // Prepare
    const sqs = await start('torn');
    const client = sqsClient(sqs.endpoint);
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'events' }));
    await client.send(new SendMessageCommand({ QueueUrl: QueueUrl!, MessageBody: 'whole' }));
    await sqs.stop();
    client.destroy();
    const journal = join(dir, 'torn', JOURNAL_FILE);
    await appendFile(journal, '{"op":"put","queue":"events","mess');

    // Act
    const restarted = await startSqsStandin({ dir: join(dir, 'torn') });
    const bodies = [...restarted.store.queueByName('events').messages.values()].map((m) => m.body);
    await restarted.stop();
    const lines = (await readFile(journal, 'utf8')).split('\n');
    await writeFile(journal, [lines[0], 'not json', ...lines.slice(1)].join('\n'));
    const corrupt = startSqsStandin({ dir: join(dir, 'torn') });

    // Assess
    expect(bodies).toEqual(['whole']);
    await expect(corrupt).rejects.toThrow('line 2 is not a valid journal record');
  });

  it('answers sends only after an fdatasync, sharing it between concurrent sends', async () => {
    // Prepare
    const sqs = await start('group-commit');
    const client = sqsClient(sqs.endpoint);
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'events' }));
    const syncsBefore = sqs.journal.stats.syncs;

    // Act
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        client.send(new SendMessageCommand({ QueueUrl: QueueUrl!, MessageBody: `m${i}` })),
      ),
    );
    const syncs = sqs.journal.stats.syncs - syncsBefore;
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: QueueUrl!, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    client.destroy();

    // Assess
    expect(Attributes?.ApproximateNumberOfMessages).toBe('100');
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThan(100);
  });
});
