import { describe, expect, it, vi } from 'vitest';
import { SqsError } from '../../local/standins/sqs/errors';
import type { JournalRecord } from '../../local/standins/sqs/journal-records';
import { md5Hex } from '../../local/standins/sqs/message';
import { MoveTaskRunner } from '../../local/standins/sqs/move-tasks';
import { bodyMd5, type Queue } from '../../local/standins/sqs/queue';
import { QueueStore } from '../../local/standins/sqs/queue-store';

/** A store on a hand-driven clock, recording what it journals. */
function storeAt(start = 1_700_000_000_000, tickPerRead = 0) {
  const clock = { now: start };
  const records: JournalRecord[] = [];
  const store = new QueueStore({
    region: 'us-east-1',
    accountId: '000000000000',
    endpoint: () => 'http://127.0.0.1:1',
    clock: () => {
      const now = clock.now;
      clock.now += tickPerRead;
      return now;
    },
  });
  store.attach((record) => records.push(record));
  const advance = (ms: number): void => {
    clock.now += ms;
  };
  return { store, clock, records, advance };
}

const send = (store: QueueStore, queue: Queue, body: string, groupId?: string) =>
  store.send(queue, { body, attributes: {}, systemAttributes: {}, ...(groupId ? { groupId } : {}) });

function errorOf(action: () => unknown): SqsError {
  try {
    action();
  } catch (error) {
    if (error instanceof SqsError) return error;
    throw error;
  }
  throw new Error('expected an SqsError');
}

describe('Class: QueueStore', () => {
  describe('Method: receive (visibility)', () => {
    it('hides a received message for the visibility timeout, then delivers it again with a higher receive count', () => {
      // Prepare
      const { store, advance } = storeAt();
      const queue = store.createQueue('events', { VisibilityTimeout: '30' }, {});
      send(store, queue, 'hello');

      // Act
      const first = store.receive(queue, { maxMessages: 1 });
      advance(29_999);
      const whileHidden = store.receive(queue, { maxMessages: 1 });
      advance(1);
      const again = store.receive(queue, { maxMessages: 1 });

      // Assess
      expect(first.map((r) => r.message.receiveCount)).toEqual([1]);
      expect(whileHidden).toEqual([]);
      expect(again.map((r) => r.message.receiveCount)).toEqual([2]);
      expect(again[0]!.message.messageId).toBe(first[0]!.message.messageId);
      expect(again[0]!.receiptHandle).not.toBe(first[0]!.receiptHandle);
    });

    it('uses the VisibilityTimeout of the receive call over the queue default', () => {
      // Prepare
      const { store, advance } = storeAt();
      const queue = store.createQueue('events', { VisibilityTimeout: '300' }, {});
      send(store, queue, 'hello');

      // Act
      store.receive(queue, { maxMessages: 1, visibilityTimeoutSeconds: 2 });
      advance(2_000);
      const again = store.receive(queue, { maxMessages: 1 });

      // Assess
      expect(again).toHaveLength(1);
    });

    it('keeps a delayed message out of reach until its delay has passed', () => {
      // Prepare
      const { store, advance } = storeAt();
      const queue = store.createQueue('events', {}, {});
      store.send(queue, { body: 'later', attributes: {}, systemAttributes: {}, delaySeconds: 10 });

      // Act
      const early = store.receive(queue, { maxMessages: 1 });
      const delayedCount = store.attributesOf(queue).ApproximateNumberOfMessagesDelayed;
      advance(10_000);
      const onTime = store.receive(queue, { maxMessages: 1 });

      // Assess
      expect(early).toEqual([]);
      expect(delayedCount).toBe('1');
      expect(onTime.map((r) => r.message.body)).toEqual(['later']);
    });
  });

  describe('Method: attributesOf', () => {
    it('counts visible, in-flight and delayed messages separately', () => {
      // Prepare
      const { store } = storeAt();
      const queue = store.createQueue('events', {}, {});
      send(store, queue, 'a');
      send(store, queue, 'b');
      store.send(queue, { body: 'c', attributes: {}, systemAttributes: {}, delaySeconds: 60 });

      // Act
      store.receive(queue, { maxMessages: 1 });
      const attributes = store.attributesOf(queue);

      // Assess
      expect(attributes).toMatchObject({
        ApproximateNumberOfMessages: '1',
        ApproximateNumberOfMessagesNotVisible: '1',
        ApproximateNumberOfMessagesDelayed: '1',
        QueueArn: 'arn:aws:sqs:us-east-1:000000000000:events',
      });
    });
  });

  describe('Method: receive (redrive)', () => {
    it('moves a message received maxReceiveCount times to the DLQ instead of delivering it again', () => {
      // Prepare
      const { store, advance } = storeAt();
      const dlq = store.createQueue('events-dlq', {}, {});
      const queue = store.createQueue(
        'events',
        {
          VisibilityTimeout: '1',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 3 }),
        },
        {},
      );
      const sent = send(store, queue, 'poison');
      const sentAt = store.clock();

      // Act: three receives are allowed; the fourth attempt redrives.
      const counts: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        counts.push(...store.receive(queue, { maxMessages: 1 }).map((r) => r.message.receiveCount));
        advance(1_000);
      }
      const fourth = store.receive(queue, { maxMessages: 1 });
      const inDlq = store.receive(dlq, { maxMessages: 1 });

      // Assess
      expect(counts).toEqual([1, 2, 3]);
      expect(fourth).toEqual([]);
      expect(inDlq).toHaveLength(1);
      expect(inDlq[0]!.message).toMatchObject({
        messageId: sent.messageId,
        body: 'poison',
        sentAt, // retention keeps counting from the original send
        deadLetterSourceArn: queue.arn,
      });
    });

    it('expires a DLQ message by its original send time, not the time it was redriven', () => {
      // Prepare
      const { store, advance } = storeAt();
      const dlq = store.createQueue('dlq', { MessageRetentionPeriod: '120' }, {});
      const queue = store.createQueue(
        'events',
        {
          VisibilityTimeout: '0',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }),
        },
        {},
      );
      send(store, queue, 'poison');
      advance(100_000);
      store.receive(queue, { maxMessages: 1 });
      store.receive(queue, { maxMessages: 1 }); // redrives

      // Act
      advance(20_000); // 120 s after the send, 20 s after the redrive
      const received = store.receive(dlq, { maxMessages: 1 });

      // Assess
      expect(received).toEqual([]);
      expect(dlq.messages.size).toBe(0);
    });
  });

  describe('Method: receive (retention)', () => {
    it('never delivers a message past the retention period and stops counting it', () => {
      // Prepare
      const { store, advance } = storeAt();
      const queue = store.createQueue('events', { MessageRetentionPeriod: '60' }, {});
      send(store, queue, 'old');

      // Act
      advance(60_000);
      const attributes = store.attributesOf(queue);
      const received = store.receive(queue, { maxMessages: 1 });

      // Assess
      expect(attributes.ApproximateNumberOfMessages).toBe('0');
      expect(received).toEqual([]);
    });
  });

  describe('Method: receive (fair delivery across message groups)', () => {
    it("delivers a quiet group's new message right away while a whale group has thousands waiting", () => {
      // Prepare
      const { store } = storeAt();
      const queue = store.createQueue('events', {}, {});
      for (let i = 0; i < 5_000; i += 1) send(store, queue, `whale-${i}`, 'account-whale');
      send(store, queue, 'small-1', 'account-small');

      // Act
      const batch = store.receive(queue, { maxMessages: 10 });

      // Assess
      expect(batch.map((r) => r.message.body)).toContain('small-1');
    });

    it('serves groups in turn, so each busy group gets its share of every receive', () => {
      // Prepare
      const { store } = storeAt();
      const queue = store.createQueue('events', {}, {});
      for (let i = 0; i < 100; i += 1) {
        send(store, queue, `a-${i}`, 'a');
        send(store, queue, `b-${i}`, 'b');
      }

      // Act
      const groups = store.receive(queue, { maxMessages: 10 }).map((r) => r.message.groupId);

      // Assess
      expect(groups.filter((g) => g === 'a')).toHaveLength(5);
      expect(groups.filter((g) => g === 'b')).toHaveLength(5);
    });

    it('keeps send order within one group', () => {
      // Prepare
      const { store } = storeAt();
      const queue = store.createQueue('events', {}, {});
      for (let i = 0; i < 10; i += 1) send(store, queue, `m-${i}`, 'g');

      // Act
      const bodies = store.receive(queue, { maxMessages: 10 }).map((r) => r.message.body);

      // Assess
      expect(bodies).toEqual(Array.from({ length: 10 }, (_, i) => `m-${i}`));
    });
  });

  describe('Method: deleteMessage', () => {
    it('deletes with the current receipt handle', () => {
      // Prepare
      const { store } = storeAt();
      const queue = store.createQueue('events', {}, {});
      send(store, queue, 'x');
      const [received] = store.receive(queue, { maxMessages: 1 });

      // Act
      store.deleteMessage(queue, received!.receiptHandle);

      // Assess
      expect(queue.messages.size).toBe(0);
    });

    it('accepts but ignores an older handle of a message received again since', () => {
      // Prepare
      const { store, advance } = storeAt();
      const queue = store.createQueue('events', { VisibilityTimeout: '1' }, {});
      send(store, queue, 'x');
      const [first] = store.receive(queue, { maxMessages: 1 });
      advance(1_000);
      const [second] = store.receive(queue, { maxMessages: 1 });

      // Act
      store.deleteMessage(queue, first!.receiptHandle);
      const afterStaleDelete = queue.messages.size;
      store.deleteMessage(queue, second!.receiptHandle);

      // Assess
      expect(afterStaleDelete).toBe(1);
      expect(queue.messages.size).toBe(0);
    });

    it('succeeds for a message already deleted and rejects a malformed handle', () => {
      // Prepare
      const { store } = storeAt();
      const queue = store.createQueue('events', {}, {});
      send(store, queue, 'x');
      const [received] = store.receive(queue, { maxMessages: 1 });
      store.deleteMessage(queue, received!.receiptHandle);

      // Act
      const again = (): void => store.deleteMessage(queue, received!.receiptHandle);
      const malformed = errorOf(() => store.deleteMessage(queue, 'not-a-handle'));

      // Assess
      expect(again).not.toThrow();
      expect(malformed.code).toBe('ReceiptHandleIsInvalid');
    });
  });

  describe('Method: changeVisibility', () => {
    it('makes an in-flight message visible at once with 0 seconds', () => {
      // Prepare
      const { store } = storeAt();
      const queue = store.createQueue('events', { VisibilityTimeout: '300' }, {});
      send(store, queue, 'x');
      const [received] = store.receive(queue, { maxMessages: 1 });

      // Act
      store.changeVisibility(queue, received!.receiptHandle, 0);
      const again = store.receive(queue, { maxMessages: 1 });

      // Assess
      expect(again).toHaveLength(1);
    });

    it('rejects a message that is no longer in flight, and a stale handle', () => {
      // Prepare
      const { store, advance } = storeAt();
      const queue = store.createQueue('events', { VisibilityTimeout: '1' }, {});
      send(store, queue, 'x');
      const [first] = store.receive(queue, { maxMessages: 1 });
      advance(1_000);

      // Act
      const notInFlight = errorOf(() => store.changeVisibility(queue, first!.receiptHandle, 10));
      store.receive(queue, { maxMessages: 1 });
      const stale = errorOf(() => store.changeVisibility(queue, first!.receiptHandle, 10));

      // Assess
      expect(notInFlight.code).toBe('MessageNotInflight');
      expect(stale.code).toBe('InvalidParameterValue');
    });

    it('refuses to extend visibility past 12 hours from the receive', () => {
      // Prepare
      const { store, advance } = storeAt();
      const queue = store.createQueue('events', {}, {});
      send(store, queue, 'x');
      const [received] = store.receive(queue, { maxMessages: 1, visibilityTimeoutSeconds: 43_200 });
      advance(10_000);

      // Act
      const error = errorOf(() => store.changeVisibility(queue, received!.receiptHandle, 43_200));

      // Assess
      expect(error.message).toContain('Total VisibilityTimeout for the message is beyond the limit');
    });
  });

  describe('Method: receive (duplicate deliveries)', () => {
    it('leaves an independent copy with the same MessageId when asked to duplicate', () => {
      // Prepare
      const { store, advance } = storeAt();
      const queue = store.createQueue('events', {}, {});
      const sent = send(store, queue, 'twice');

      // Act
      const [first] = store.receive(queue, { maxMessages: 10, duplicate: () => true });
      advance(1);
      const [copy] = store.receive(queue, { maxMessages: 10 });
      store.deleteMessage(queue, first!.receiptHandle);
      store.deleteMessage(queue, copy!.receiptHandle);

      // Assess
      expect(first!.message.messageId).toBe(sent.messageId);
      expect(copy!.message.messageId).toBe(sent.messageId);
      expect(queue.messages.size).toBe(0);
    });
  });

  describe('Method: receive (one call, one delivery)', () => {
    it('never returns one message twice in a call, even with a 0 s visibility timeout and a ticking clock', () => {
      // Prepare: the clock moves 1 ms on every read, as Date.now() can inside one call.
      const { store } = storeAt(1_700_000_000_000, 1);
      const queue = store.createQueue('events', { VisibilityTimeout: '0' }, {});
      send(store, queue, 'once');

      // Act
      const received = store.receive(queue, { maxMessages: 10, duplicate: () => true });

      // Assess
      expect(received.map((r) => r.message.body)).toEqual(['once']);
    });
  });

  describe('Method: send (body digest)', () => {
    it('computes the MD5 of the body once and keeps it with the message, for every receive', () => {
      // Prepare
      const { store, advance } = storeAt();
      const queue = store.createQueue('events', { VisibilityTimeout: '0' }, {});

      // Act
      const { messageId, md5OfBody } = send(store, queue, 'digest me');
      const first = store.receive(queue, { maxMessages: 1 });
      advance(1);
      const second = store.receive(queue, { maxMessages: 1 });

      // Assess
      expect(md5OfBody).toBe(md5Hex('digest me'));
      expect(queue.messages.get(messageId)?.md5OfBody).toBe(md5OfBody);
      expect([first[0]!.message.md5OfBody, second[0]!.message.md5OfBody]).toEqual([md5OfBody, md5OfBody]);
    });
  });

  describe('Method: purge', () => {
    it('removes every message and refuses a second purge within 60 seconds', () => {
      // Prepare
      const { store, advance } = storeAt();
      const queue = store.createQueue('events', {}, {});
      send(store, queue, 'a');
      send(store, queue, 'b');

      // Act
      store.purge(queue);
      const second = errorOf(() => store.purge(queue));
      advance(60_000);

      // Assess
      expect(queue.messages.size).toBe(0);
      expect(second.code).toBe('PurgeQueueInProgress');
      expect(() => store.purge(queue)).not.toThrow();
    });
  });

  describe('Method: createQueue', () => {
    it('returns the existing queue for matching attributes and refuses different ones', () => {
      // Prepare
      const { store } = storeAt();
      const queue = store.createQueue('events', { VisibilityTimeout: '60' }, {});

      // Act
      const same = store.createQueue('events', { VisibilityTimeout: '60' }, {});
      const different = errorOf(() => store.createQueue('events', { VisibilityTimeout: '61' }, {}));

      // Assess
      expect(same).toBe(queue);
      expect(different.code).toBe('QueueNameExists');
    });

    it('refuses to recreate a deleted queue name within 60 seconds', () => {
      // Prepare
      const { store, advance } = storeAt();
      store.deleteQueue(store.createQueue('events', {}, {}));

      // Act
      const tooSoon = errorOf(() => store.createQueue('events', {}, {}));
      advance(60_000);

      // Assess
      expect(tooSoon.code).toBe('QueueDeletedRecently');
      expect(store.createQueue('events', {}, {}).name).toBe('events');
    });
  });

  describe('Method: apply (replay)', () => {
    it('rebuilds the same queues and messages from the records it journaled', () => {
      // Prepare
      const { store, records, advance } = storeAt();
      const dlq = store.createQueue('dlq', {}, {});
      const queue = store.createQueue(
        'events',
        {
          VisibilityTimeout: '5',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }),
        },
        {},
      );
      send(store, queue, 'deleted');
      send(store, queue, 'in-flight');
      send(store, queue, 'to-dlq', 'g');
      const received = store.receive(queue, { maxMessages: 3 });
      store.deleteMessage(queue, received.find((r) => r.message.body === 'deleted')!.receiptHandle);
      advance(5_000);
      store.receive(queue, { maxMessages: 10 }); // 'in-flight' and 'to-dlq' were received once: both redrive
      const { store: replayed, clock } = storeAt();
      clock.now = store.clock();

      // Act
      for (const record of records) replayed.apply(record);

      // Assess
      const bodies = (q: Queue) => [...q.messages.values()].map((m) => m.body).sort();
      expect(bodies(replayed.queueByName('events'))).toEqual(bodies(queue));
      expect(bodies(replayed.queueByName('dlq'))).toEqual(['in-flight', 'to-dlq']);
      expect(replayed.attributesOf(replayed.queueByName('dlq'))).toMatchObject({
        ApproximateNumberOfMessages: '2',
      });
    });

    it('rebuilds the same state from its snapshot', () => {
      // Prepare
      const { store } = storeAt();
      const queue = store.createQueue('events', {}, { team: 'data' });
      for (let i = 0; i < 5; i += 1) send(store, queue, `m-${i}`, `g-${i % 2}`);
      store.receive(queue, { maxMessages: 2 });
      const { store: restored, clock } = storeAt();
      clock.now = store.clock();

      // Act
      for (const record of store.snapshot()) restored.apply(record);

      // Assess
      const restoredQueue = restored.queueByName('events');
      expect(restored.attributesOf(restoredQueue)).toEqual(store.attributesOf(queue));
      expect(restoredQueue.tags).toEqual({ team: 'data' });
    });
  });
});

describe('Class: MoveTaskRunner', () => {
  function dlqWithMessages(count: number) {
    const harness = storeAt();
    const { store, advance } = harness;
    const dlq = store.createQueue('dlq', {}, {});
    const source = store.createQueue(
      'events',
      {
        VisibilityTimeout: '0',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }),
      },
      {},
    );
    for (let i = 0; i < count; i += 1) send(store, source, `m-${i}`);
    store.receive(source, { maxMessages: 10 });
    advance(1);
    while (store.receive(source, { maxMessages: 10 }).length > 0) advance(1);
    return { ...harness, dlq, source };
  }

  it('moves DLQ messages back to their source queue as new messages', () => {
    // Prepare
    const { store, dlq, source, advance } = dlqWithMessages(3);
    const runner = new MoveTaskRunner(store);

    // Act: the default rate moves far more than 3 messages in 100 ms
    runner.start(dlq.arn, undefined, undefined);
    advance(100);
    runner.tick();

    // Assess
    expect(dlq.messages.size).toBe(0);
    const moved = [...source.messages.values()];
    expect(moved.map((m) => m.body).sort()).toEqual(['m-0', 'm-1', 'm-2']);
    expect(moved.every((m) => m.receiveCount === 0)).toBe(true);
    expect(runner.list(dlq.arn, 1)[0]).toMatchObject({
      Status: 'COMPLETED',
      ApproximateNumberOfMessagesMoved: 3,
      ApproximateNumberOfMessagesToMove: 3,
    });
  });

  it('moves no faster than MaxNumberOfMessagesPerSecond', () => {
    // Prepare
    const { store, dlq, advance } = dlqWithMessages(10);
    const runner = new MoveTaskRunner(store);
    runner.start(dlq.arn, undefined, 2);

    // Act: two seconds of ticks
    for (let i = 0; i < 40; i += 1) {
      advance(50);
      runner.tick();
    }

    // Assess: 1 at once, then 2 per second
    expect(runner.list(dlq.arn, 1)[0]!.ApproximateNumberOfMessagesMoved).toBe(5);
  });

  it('refuses a second running task on the same DLQ and a source that is not a DLQ', () => {
    // Prepare
    const { store, dlq, source } = dlqWithMessages(2);
    const runner = new MoveTaskRunner(store);
    runner.start(dlq.arn, undefined, 1);

    // Act
    const second = errorOf(() => runner.start(dlq.arn, undefined, 1));
    const notDlq = errorOf(() => runner.start(source.arn, undefined, 1));

    // Assess
    expect(second.code).toBe('UnsupportedOperation');
    expect(notDlq.code).toBe('UnsupportedOperation');
  });

  it('cancels a running task and reports how many it moved', () => {
    // Prepare
    const { store, dlq } = dlqWithMessages(5);
    const runner = new MoveTaskRunner(store);
    const handle = runner.start(dlq.arn, undefined, 1);
    runner.tick();

    // Act
    const moved = runner.cancel(handle);

    // Assess
    expect(moved).toBe(1);
    expect(runner.list(dlq.arn, 1)[0]).toMatchObject({ Status: 'CANCELLED' });
    expect(errorOf(() => runner.cancel('unknown')).code).toBe('ResourceNotFoundException');
  });

  it('reads no further than its budget allows, and completes once the messages left are gone', () => {
    // Prepare: one message per second; the first moves at once.
    const { store, dlq, source, advance } = dlqWithMessages(5);
    const runner = new MoveTaskRunner(store);
    runner.start(dlq.arn, undefined, 1);
    runner.tick();
    const reads = vi.spyOn(dlq.messages, 'get');

    // Act: a tick with a twentieth of a message of budget, then the rest deleted meanwhile.
    advance(50);
    runner.tick();
    const readsWithoutBudget = reads.mock.calls.length;
    store.purge(dlq);
    advance(1_000);
    runner.tick();

    // Assess
    expect(readsWithoutBudget).toBe(0);
    expect(source.messages.size).toBe(1);
    expect(runner.list(dlq.arn, 1)[0]).toMatchObject({
      Status: 'COMPLETED',
      ApproximateNumberOfMessagesMoved: 1,
      ApproximateNumberOfMessagesToMove: 5,
    });
  });

  it('gives a moved message the MD5 of its body', () => {
    // Prepare
    const { store, dlq, source, advance } = dlqWithMessages(1);
    const runner = new MoveTaskRunner(store);

    // Act
    runner.start(dlq.arn, undefined, undefined);
    advance(100);
    runner.tick();

    // Assess
    const [moved] = [...source.messages.values()];
    expect(bodyMd5(moved!)).toBe(md5Hex('m-0'));
  });
});
