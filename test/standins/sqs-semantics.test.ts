import {
  CancelMessageMoveTaskCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SqsStandin, startSqsStandin } from '../../local/standins/sqs/server';
import { makeTempDir, removeTempDir } from '../support/temp-dir';
import { eventually } from './support/eventually';
import { sqsClient } from './support/sqs-client';

/**
 * The longest long poll (20 s): tests that a poll returns early wait this long and check it returned
 * in less than half of it, a margin no slow machine comes near (the 30 s test timeout is above it).
 */
const LONG_WAIT_SECONDS = 20;

describe('SQS stand-in semantics (through @aws-sdk/client-sqs)', () => {
  let dir: string;
  let sqs: SqsStandin;
  let client: SQSClient;
  let counter = 0;

  beforeAll(async () => {
    dir = await makeTempDir('standins-sqs-semantics');
    sqs = await startSqsStandin({ dir });
    client = sqsClient(sqs.endpoint);
  });

  afterAll(async () => {
    client.destroy();
    await sqs.stop();
    await removeTempDir(dir);
  });

  async function queue(attributes: Record<string, string> = {}): Promise<string> {
    counter += 1;
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({ QueueName: `q-${counter}`, Attributes: attributes }),
    );
    return QueueUrl!;
  }

  async function queueWithDlq(maxReceiveCount: number, attributes: Record<string, string> = {}) {
    const dlqUrl = await queue();
    const dlqArn = sqs.queueArn(dlqUrl.split('/').pop()!);
    const url = await queue({
      ...attributes,
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
    });
    return { url, arn: sqs.queueArn(url.split('/').pop()!), dlqUrl, dlqArn };
  }

  const receive = (
    url: string,
    extra: Partial<ConstructorParameters<typeof ReceiveMessageCommand>[0]> = {},
  ) =>
    client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
        ...extra,
      }),
    );

  async function count(
    url: string,
    attribute: 'ApproximateNumberOfMessages' | 'ApproximateNumberOfMessagesNotVisible',
  ) {
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [attribute] }),
    );
    return Number(Attributes?.[attribute]);
  }

  it('delivers a received, undeleted message again after its visibility timeout, with a higher receive count', async () => {
    // Prepare
    // (2 s: the second receive must reach the queue while the first one's hold lasts, even on a busy machine.)
    const url = await queue({ VisibilityTimeout: '2' });
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'retry me' }));
    const first = await receive(url);

    // Act
    const hidden = await receive(url);
    const again = await receive(url, { WaitTimeSeconds: 4 });

    // Assess
    expect(first.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(hidden.Messages).toBeUndefined();
    expect(again.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
    expect(again.Messages?.[0]?.MessageId).toBe(first.Messages?.[0]?.MessageId);
  });

  it('redrives a message to the DLQ once it was received maxReceiveCount times', async () => {
    // Prepare
    const { url, arn, dlqUrl } = await queueWithDlq(2, { VisibilityTimeout: '0' });
    const { MessageId } = await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));

    // Act
    const first = await receive(url);
    const second = await receive(url);
    const third = await receive(url);
    const dead = await receive(dlqUrl);

    // Assess
    expect(first.Messages).toHaveLength(1);
    expect(second.Messages).toHaveLength(1);
    expect(third.Messages).toBeUndefined();
    expect(dead.Messages?.[0]).toMatchObject({ MessageId, Body: 'poison' });
    expect(dead.Messages?.[0]?.Attributes?.DeadLetterQueueSourceArn).toBe(arn);
  });

  it('brings DLQ messages back to their source queue with a move task', async () => {
    // Prepare: 20 messages in the DLQ.
    const { url, dlqUrl, dlqArn } = await queueWithDlq(1, { VisibilityTimeout: '0' });
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `a${i}`, MessageBody: `m-${i}` })),
      }),
    );
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `b${i}`, MessageBody: `m-${10 + i}` })),
      }),
    );
    while ((await receive(url)).Messages) {
      // receive each message once, then once more to redrive it
    }
    expect(await count(dlqUrl, 'ApproximateNumberOfMessages')).toBe(20);

    // Act
    const { TaskHandle } = await client.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
    const done = await eventually(async () => {
      const { Results = [] } = await client.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
      expect(Results[0]?.Status).toBe('COMPLETED');
      return Results[0]!;
    });

    // Assess
    expect(TaskHandle).toEqual(expect.any(String));
    expect(done).toMatchObject({
      ApproximateNumberOfMessagesMoved: 20,
      ApproximateNumberOfMessagesToMove: 20,
    });
    expect(done.TaskHandle).toBeUndefined();
    expect(await count(dlqUrl, 'ApproximateNumberOfMessages')).toBe(0);
    const back = await receive(url);
    expect(back.Messages?.length).toBe(10);
    expect(back.Messages?.every((m) => m.Attributes?.ApproximateReceiveCount === '1')).toBe(true);
  });

  // How fast a task moves is checked on a fake clock (sqs-queue-store.test.ts); here, that a cancel
  // stops it part-way and what it moved and what is left add up, whatever the speed of the machine. (At 1 message a second the
  // task is still running when cancelled: it would need 9 s for the ten.)
  it('moves to an explicit DestinationArn, and can be cancelled', async () => {
    // Prepare
    const { url, dlqUrl, dlqArn } = await queueWithDlq(1, { VisibilityTimeout: '0' });
    const elsewhere = await queue();
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `e${i}`, MessageBody: `m-${i}` })),
      }),
    );
    while ((await receive(url)).Messages) {
      // redrive all ten
    }

    // Act: one per second for a while, then cancel.
    const { TaskHandle } = await client.send(
      new StartMessageMoveTaskCommand({
        SourceArn: dlqArn,
        DestinationArn: sqs.queueArn(elsewhere.split('/').pop()!),
        MaxNumberOfMessagesPerSecond: 1,
      }),
    );
    await eventually(async () =>
      expect(await count(elsewhere, 'ApproximateNumberOfMessages')).toBeGreaterThan(0),
    );
    const { ApproximateNumberOfMessagesMoved: moved } = await client.send(
      new CancelMessageMoveTaskCommand({ TaskHandle }),
    );

    // Assess: some moved, not all, and nothing moves after the cancel.
    expect(moved).toBeGreaterThanOrEqual(1);
    expect(moved).toBeLessThanOrEqual(9);
    const { Results } = await client.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
    expect(Results?.[0]).toMatchObject({ Status: 'CANCELLED' });
    expect(await count(elsewhere, 'ApproximateNumberOfMessages')).toBe(moved);
    expect(await count(dlqUrl, 'ApproximateNumberOfMessages')).toBe(10 - moved!);
  });

  it("delivers another tenant's message promptly while a whale tenant's backlog of thousands waits", async () => {
    // Prepare: 3,000 messages of one group, then one of another.
    const url = await queue();
    for (let batch = 0; batch < 300; batch += 30) {
      await Promise.all(
        Array.from({ length: 30 }, (_, b) =>
          client.send(
            new SendMessageBatchCommand({
              QueueUrl: url,
              Entries: Array.from({ length: 10 }, (_, i) => ({
                Id: `w${i}`,
                MessageBody: `whale-${(batch + b) * 10 + i}`,
                MessageGroupId: 'account-whale',
              })),
            }),
          ),
        ),
      );
    }
    await client.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: 'small', MessageGroupId: 'account-small' }),
    );

    // Act
    const first = await receive(url);

    // Assess
    expect(await count(url, 'ApproximateNumberOfMessages')).toBe(2_991);
    expect(first.Messages?.map((m) => m.Body)).toContain('small');
    expect(first.Messages?.find((m) => m.Body === 'small')?.Attributes?.MessageGroupId).toBe('account-small');
  });

  it('returns a long poll as soon as a message arrives', async () => {
    // Prepare
    const url = await queue();
    const started = Date.now();
    const polling = receive(url, { WaitTimeSeconds: LONG_WAIT_SECONDS });

    // Act
    await new Promise((resolve) => setTimeout(resolve, 300));
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'arrived' }));
    const result = await polling;

    // Assess: long before the wait would have ended on its own.
    expect(result.Messages?.map((m) => m.Body)).toEqual(['arrived']);
    expect(Date.now() - started).toBeLessThan(LONG_WAIT_SECONDS * 500);
  });

  it('returns a long poll when an in-flight message becomes visible again', async () => {
    // Prepare
    const url = await queue({ VisibilityTimeout: '1' });
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'comes back' }));
    // Before the first receive: its hold starts when the queue serves it, so never earlier.
    const started = Date.now();
    await receive(url);

    // Act
    const result = await receive(url, { WaitTimeSeconds: LONG_WAIT_SECONDS });

    // Assess: after the 1 s visibility timeout, long before the wait would have ended on its own.
    expect(result.Messages?.map((m) => m.Body)).toEqual(['comes back']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(LONG_WAIT_SECONDS * 500);
  });

  it('waits the full WaitTimeSeconds on an empty queue, using the queue default when the call sets none', async () => {
    // Prepare
    const url = await queue({ ReceiveMessageWaitTimeSeconds: '1' });
    const started = Date.now();

    // Act
    const result = await client.send(new ReceiveMessageCommand({ QueueUrl: url }));

    // Assess
    expect(result.Messages).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('answers waiting long polls with no messages when the server stops', async () => {
    // Prepare
    const own = await startSqsStandin({ dir: `${dir}/stopping` });
    const ownClient = sqsClient(own.endpoint);
    const { QueueUrl } = await ownClient.send(new CreateQueueCommand({ QueueName: 'idle' }));
    const started = Date.now();
    const polling = ownClient.send(
      new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: LONG_WAIT_SECONDS }),
    );

    // Act
    await new Promise((resolve) => setTimeout(resolve, 200));
    await own.stop();
    const result = await polling;
    ownClient.destroy();

    // Assess: long before the wait would have ended on its own.
    expect(result.Messages).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(LONG_WAIT_SECONDS * 500);
  });

  it('deletes a message so that it never comes back', async () => {
    // Prepare
    const url = await queue({ VisibilityTimeout: '1' });
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'done' }));
    const { Messages } = await receive(url);

    // Act
    await client.send(
      new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: Messages![0]!.ReceiptHandle }),
    );
    const later = await receive(url, { WaitTimeSeconds: 2 });

    // Assess
    expect(later.Messages).toBeUndefined();
    expect(await count(url, 'ApproximateNumberOfMessagesNotVisible')).toBe(0);
  });
});
