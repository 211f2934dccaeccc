/**
 * SQS conformance: observable API behaviour (shapes, errors, limits) through @aws-sdk/client-sqs.
 * Runs against the local stand-in by default; FIREHOSE_CONFORMANCE_TARGET=aws runs the same checks
 * against real SQS (docs/local-standins.md).
 */
import { createHash } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListDeadLetterSourceQueuesCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { md5OfAttributes } from '../../local/standins/sqs/message';
import { type ConformanceTarget, conformanceTarget } from './support/conformance-target';
import { eventually } from './support/eventually';
import { rejection } from './support/rejection';

describe('SQS conformance', () => {
  let target: ConformanceTarget;
  let sqs: SQSClient;
  const created: string[] = [];

  beforeAll(async () => {
    target = await conformanceTarget('sqs');
    sqs = new SQSClient({ ...target.sqs, maxAttempts: 1 });
  });

  afterAll(async () => {
    for (const url of created)
      await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
    sqs?.destroy();
    await target?.stop();
  });

  async function createQueue(label: string, attributes: Record<string, string> = {}): Promise<string> {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: target.name(label), Attributes: attributes }),
    );
    created.push(QueueUrl!);
    await target.settle();
    return QueueUrl!;
  }

  async function attributesOf(url: string, names: string[] = ['All']) {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names as never }),
    );
    return Attributes as Record<string, string>;
  }

  const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

  describe('queues', () => {
    it('creates a queue whose URL GetQueueUrl and ListQueues return', async () => {
      // Prepare
      const name = target.name('basic');

      // Act
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
      created.push(QueueUrl!);
      await target.settle();
      const byName = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
      // ListQueues is eventually consistent on SQS.
      const listed = await eventually(async () => {
        const result = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: name }));
        expect(result.QueueUrls).toHaveLength(1);
        return result;
      }, 30_000);

      // Assess
      expect(QueueUrl).toMatch(new RegExp(`/\\d{12}/${name}$`));
      expect(byName.QueueUrl).toBe(QueueUrl);
      expect(listed.QueueUrls).toEqual([QueueUrl]);
    });

    it('pages ListQueues with MaxResults and NextToken, listing every queue once', async () => {
      // Prepare
      const urls = [await createQueue('page-B'), await createQueue('page-a'), await createQueue('page-C')];
      const prefix = target.name('page-');

      // Act: ListQueues is eventually consistent on SQS, so page until all three are seen.
      const listed = await eventually(async () => {
        const seen: string[] = [];
        let NextToken: string | undefined;
        do {
          const page = await sqs.send(
            new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 1, NextToken }),
          );
          expect(page.QueueUrls?.length ?? 0).toBeLessThanOrEqual(1);
          seen.push(...(page.QueueUrls ?? []));
          NextToken = page.NextToken;
        } while (NextToken);
        expect(seen).toHaveLength(3);
        return seen;
      }, 30_000);

      // Assess
      expect([...listed].sort()).toEqual([...urls].sort());
    });

    it('reports the documented attributes and defaults of a new standard queue', async () => {
      // Prepare
      const url = await createQueue('defaults');

      // Act
      const attributes = await attributesOf(url);

      // Assess
      expect(attributes).toMatchObject({
        VisibilityTimeout: '30',
        MessageRetentionPeriod: '345600',
        DelaySeconds: '0',
        ReceiveMessageWaitTimeSeconds: '0',
        MaximumMessageSize: '1048576',
        ApproximateNumberOfMessages: '0',
        ApproximateNumberOfMessagesNotVisible: '0',
        ApproximateNumberOfMessagesDelayed: '0',
      });
      expect(attributes.QueueArn).toMatch(
        new RegExp(`^arn:aws:sqs:${target.region}:\\d{12}:${target.name('defaults')}$`),
      );
      expect(attributes.CreatedTimestamp).toMatch(/^\d{10}$/);
      expect(attributes.RedrivePolicy).toBeUndefined();
    });

    it('is idempotent for the same attributes and refuses different ones with QueueNameExists', async () => {
      // Prepare
      const name = target.name('idempotent');
      const url = await createQueue('idempotent', { VisibilityTimeout: '45' });

      // Act
      const again = await sqs.send(
        new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '45' } }),
      );
      const error = await rejection(
        sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '46' } })),
      );

      // Assess
      expect(again.QueueUrl).toBe(url);
      expect(error.name).toBe('QueueNameExists');
      expect(error.$metadata?.httpStatusCode).toBe(400);
    });

    it('answers QueueDoesNotExist for an unknown queue', async () => {
      // Act
      const error = await rejection(sqs.send(new GetQueueUrlCommand({ QueueName: target.name('missing') })));

      // Assess
      expect(error.name).toBe('QueueDoesNotExist');
      expect(error.Code).toBe('AWS.SimpleQueueService.NonExistentQueue');
      expect(error.$metadata?.httpStatusCode).toBe(400);
    });

    it('rejects an invalid queue name with InvalidParameterValue', async () => {
      // Act
      const error = await rejection(sqs.send(new CreateQueueCommand({ QueueName: 'has spaces' })));

      // Assess
      expect(error.name).toBe('InvalidParameterValue');
    });

    it('deletes a queue, after which it does not exist (SQS may take up to 60 s)', async () => {
      // Prepare
      const name = target.name('deleted');
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
      await target.settle();

      // Act
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      const error = await eventually(
        async () => {
          const failure = await rejection(sqs.send(new GetQueueUrlCommand({ QueueName: name })));
          expect(failure.name).toBe('QueueDoesNotExist');
          return failure;
        },
        90_000,
        2_000,
      );

      // Assess
      expect(error.$metadata?.httpStatusCode).toBe(400);
    }, 120_000);

    it('rejects unknown attribute names and out-of-range values', async () => {
      // Prepare
      const url = await createQueue('bad-attributes');

      // Act
      const unknown = await rejection(
        sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Colour: 'blue' } as never })),
      );
      const outOfRange = await rejection(
        sqs.send(
          new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { VisibilityTimeout: '43201' } }),
        ),
      );

      // Assess
      expect(unknown.name).toBe('InvalidAttributeName');
      expect(outOfRange.name).toBe('InvalidAttributeValue');
    });

    it('stores a redrive policy and lists the source under its dead-letter queue', async () => {
      // Prepare
      const dlq = await createQueue('redrive-dlq');
      const dlqArn = (await attributesOf(dlq, ['QueueArn'])).QueueArn!;
      const source = await createQueue('redrive-source');

      // Act
      await sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: source,
          Attributes: {
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: '7' }),
          },
        }),
      );
      await target.settle();
      const policy = JSON.parse((await attributesOf(source, ['RedrivePolicy'])).RedrivePolicy!);
      const sources = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlq }));

      // Assess
      expect(policy).toEqual({ deadLetterTargetArn: dlqArn, maxReceiveCount: 7 });
      expect(sources.queueUrls).toEqual([source]);
    });
  });

  describe('messages', () => {
    it('answers a send with the MessageId and the MD5 digests of body and attributes', async () => {
      // Prepare
      const url = await createQueue('md5');
      const attributes = {
        tenant: { DataType: 'String', StringValue: 'acct-1' },
        size: { DataType: 'Number', StringValue: '42' },
        blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
      };

      // Act
      const sent = await sqs.send(
        new SendMessageCommand({ QueueUrl: url, MessageBody: '{"v":1}', MessageAttributes: attributes }),
      );

      // Assess
      expect(sent.MessageId).toMatch(/^[0-9a-f-]{36}$/);
      expect(sent.MD5OfMessageBody).toBe(md5('{"v":1}'));
      expect(sent.MD5OfMessageAttributes).toBe(
        md5OfAttributes({
          tenant: { DataType: 'String', StringValue: 'acct-1' },
          size: { DataType: 'Number', StringValue: '42' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]).toString('base64') },
        }),
      );
    });

    it('receives with the requested system and message attributes', async () => {
      // Prepare
      const url = await createQueue('receive-attributes');
      const before = Date.now();
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: 'hello',
          MessageGroupId: 'acct-9',
          MessageAttributes: {
            'trace.id': { DataType: 'String', StringValue: 't-1' },
            other: { DataType: 'String', StringValue: 'x' },
          },
        }),
      );

      // Act
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          WaitTimeSeconds: 5,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp', 'MessageGroupId'],
          MessageAttributeNames: ['trace.*'],
        }),
      );

      // Assess
      const [message] = Messages;
      expect(message?.Body).toBe('hello');
      expect(message?.MD5OfBody).toBe(md5('hello'));
      expect(message?.ReceiptHandle).toEqual(expect.any(String));
      expect(message?.Attributes).toEqual({
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        MessageGroupId: 'acct-9',
      });
      expect(Math.abs(Number(message?.Attributes?.SentTimestamp) - before)).toBeLessThan(60_000);
      expect(Object.keys(message?.MessageAttributes ?? {})).toEqual(['trace.id']);
      expect(message?.MD5OfMessageAttributes).toBe(
        md5OfAttributes({ 'trace.id': { DataType: 'String', StringValue: 't-1' } }),
      );
    });

    it("accepts a message of exactly the queue's MaximumMessageSize and rejects one byte more", async () => {
      // Prepare
      const url = await createQueue('size', { MaximumMessageSize: '1024' });

      // Act
      const atLimit = await sqs.send(
        new SendMessageCommand({ QueueUrl: url, MessageBody: 'x'.repeat(1024) }),
      );
      const over = await rejection(
        sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x'.repeat(1025) })),
      );

      // Assess
      expect(atLimit.MessageId).toEqual(expect.any(String));
      expect(over.name).toBe('InvalidParameterValue');
      expect(over.message).toContain('Message must be shorter than 1024 bytes');
    });

    it('rejects a body with characters SQS does not allow', async () => {
      // Prepare
      const url = await createQueue('characters');

      // Act
      const error = await rejection(
        sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'nul \u0000 here' })),
      );

      // Assess
      expect(error.name).toBe('InvalidMessageContents');
    });

    it('rejects ReceiveMessage asking for more than 10 messages', async () => {
      // Prepare
      const url = await createQueue('receive-limit');

      // Act
      const error = await rejection(
        sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 11 })),
      );

      // Assess
      expect(error.name).toBe('InvalidParameterValue');
    });

    it('rejects a malformed receipt handle and accepts deleting the same message twice', async () => {
      // Prepare
      const url = await createQueue('delete');
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 5 }),
      );
      const handle = Messages[0]!.ReceiptHandle!;

      // Act
      const malformed = await rejection(
        sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'garbage' })),
      );
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: handle }));
      const twice = await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: handle }));

      // Assess
      expect(malformed.name).toBe('ReceiptHandleIsInvalid');
      expect(twice.$metadata.httpStatusCode).toBe(200);
    });

    it('refuses to change the visibility of a message that is no longer in flight', async () => {
      // Prepare
      const url = await createQueue('not-in-flight');
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 5, VisibilityTimeout: 1 }),
      );
      await new Promise((resolve) => setTimeout(resolve, 1_500));

      // Act
      const error = await rejection(
        sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: url,
            ReceiptHandle: Messages[0]!.ReceiptHandle,
            VisibilityTimeout: 30,
          }),
        ),
      );

      // Assess
      expect(error.name).toBe('MessageNotInflight');
    });

    it('refuses a second purge within 60 seconds', async () => {
      // Prepare
      const url = await createQueue('purge');
      await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));

      // Act
      const error = await rejection(sqs.send(new PurgeQueueCommand({ QueueUrl: url })));

      // Assess
      expect(error.name).toBe('PurgeQueueInProgress');
      expect(error.$metadata?.httpStatusCode).toBe(403);
    });
  });

  describe('batches', () => {
    it.each([
      ['no entries', [], 'EmptyBatchRequest'],
      [
        '11 entries',
        Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: 'x' })),
        'TooManyEntriesInBatchRequest',
      ],
      [
        'repeated ids',
        [
          { Id: 'same', MessageBody: 'a' },
          { Id: 'same', MessageBody: 'b' },
        ],
        'BatchEntryIdsNotDistinct',
      ],
      ['an id with a dot', [{ Id: 'not.valid', MessageBody: 'a' }], 'InvalidBatchEntryId'],
    ])('rejects a SendMessageBatch with %s', async (_label, entries, name) => {
      // Prepare
      const url = await createQueue(`batch-${name.length}-${entries.length}`);

      // Act
      const error = await rejection(
        sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries })),
      );

      // Assess
      expect(error.name).toBe(name);
      expect(error.$metadata?.httpStatusCode).toBe(400);
    });

    it('rejects a batch whose total size exceeds the maximum message size', async () => {
      // Prepare
      const url = await createQueue('batch-size', { MaximumMessageSize: '1024' });

      // Act
      const error = await rejection(
        sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: [
              { Id: 'a', MessageBody: 'x'.repeat(600) },
              { Id: 'b', MessageBody: 'y'.repeat(600) },
            ],
          }),
        ),
      );

      // Assess
      expect(error.name).toBe('BatchRequestTooLong');
    });

    it('reports a bad entry in Failed and sends the others', async () => {
      // Prepare
      const url = await createQueue('batch-partial');

      // Act
      const result = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: [
            { Id: 'good', MessageBody: 'fine' },
            { Id: 'bad', MessageBody: 'nul \u0000' },
          ],
        }),
      );

      // Assess
      expect(result.Successful?.map((s) => s.Id)).toEqual(['good']);
      expect(result.Successful?.[0]?.MD5OfMessageBody).toBe(md5('fine'));
      expect(result.Failed).toEqual([
        expect.objectContaining({ Id: 'bad', SenderFault: true, Code: 'InvalidMessageContents' }),
      ]);
    });

    it('changes visibility in a batch, reporting a malformed handle as a failed entry', async () => {
      // Prepare
      const url = await createQueue('visibility-batch');
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 5 }),
      );

      // Act
      const result = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: [
            { Id: 'ok', ReceiptHandle: Messages[0]!.ReceiptHandle!, VisibilityTimeout: 0 },
            { Id: 'bad', ReceiptHandle: 'garbage', VisibilityTimeout: 0 },
          ],
        }),
      );
      const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 5 }));

      // Assess
      expect(result.Successful).toEqual([{ Id: 'ok' }]);
      expect(result.Failed).toEqual([
        expect.objectContaining({ Id: 'bad', SenderFault: true, Code: 'ReceiptHandleIsInvalid' }),
      ]);
      expect(again.Messages?.map((m) => m.Body)).toEqual(['x']);
    });

    it('reports a malformed receipt handle in DeleteMessageBatch as a failed entry', async () => {
      // Prepare
      const url = await createQueue('delete-batch');

      // Act
      const result = await sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: url, Entries: [{ Id: 'x', ReceiptHandle: 'garbage' }] }),
      );

      // Assess
      expect(result.Successful ?? []).toEqual([]);
      expect(result.Failed).toEqual([
        expect.objectContaining({ Id: 'x', SenderFault: true, Code: 'ReceiptHandleIsInvalid' }),
      ]);
    });
  });

  describe('message move tasks', () => {
    it('lists no tasks for a fresh dead-letter queue and refuses a source that is not one', async () => {
      // Prepare
      const dlq = await createQueue('move-dlq');
      const dlqArn = (await attributesOf(dlq, ['QueueArn'])).QueueArn!;
      const source = await createQueue('move-source');
      const sourceArn = (await attributesOf(source, ['QueueArn'])).QueueArn!;
      await sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: source,
          Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }) },
        }),
      );
      await target.settle();

      // Act
      const listed = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn, MaxResults: 10 }));
      const notDlq = await rejection(sqs.send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn })));

      // Assess
      expect(listed.Results ?? []).toEqual([]);
      expect(notDlq.name).toBe('UnsupportedOperation');
    });
  });
});
