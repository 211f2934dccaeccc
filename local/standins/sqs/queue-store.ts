/**
 * All queues of the SQS stand-in, as a state machine with no I/O: every change is a JournalRecord
 * that is applied to memory and handed to the sink (the journal). Replaying the journal through
 * `apply` rebuilds the same state. Time comes from an injected clock, so visibility timeouts,
 * delays, retention and redrive are testable without waiting.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { sqsErrors } from './errors';
import type { JournalRecord, StoredMessage } from './journal-records';
import { QUEUE_DEFAULTS, SQS_LIMITS } from './limits';
import { type MessageAttributes, md5OfAttributes } from './message';
import { bodyMd5, type LiveMessage, Queue } from './queue';
import { attributesMatch } from './queue-attributes';
import { decodeReceiptHandle, encodeReceiptHandle } from './receipt-handle';

export interface QueueStoreOptions {
  readonly region: string;
  readonly accountId: string;
  /** Base of queue URLs, e.g. `http://127.0.0.1:4566`; read each time a URL is built. */
  readonly endpoint: () => string;
  readonly clock?: () => number;
}

export interface SendInput {
  readonly body: string;
  readonly attributes: MessageAttributes;
  readonly systemAttributes: MessageAttributes;
  readonly delaySeconds?: number;
  readonly groupId?: string;
}

export interface SendResult {
  readonly messageId: string;
  readonly md5OfBody: string;
  readonly md5OfAttributes?: string;
  readonly md5OfSystemAttributes?: string;
}

export interface ReceiveOptions {
  readonly maxMessages: number;
  readonly visibilityTimeoutSeconds?: number;
  /** Asked once per delivered message: true leaves a second copy behind (an at-least-once duplicate). */
  readonly duplicate?: () => boolean;
}

export interface ReceivedMessage {
  readonly message: StoredMessage & { readonly md5OfBody: string };
  readonly receiptHandle: string;
}

export type RecordSink = (record: JournalRecord) => void;

export class QueueStore {
  private readonly queues = new Map<string, Queue>();
  private readonly deletedAt = new Map<string, number>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private sink: RecordSink = () => undefined;
  private duplicates = 0;
  readonly clock: () => number;

  constructor(private readonly options: QueueStoreOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /** Where records go from now on (attached after replay, so replay does not write them again). */
  attach(sink: RecordSink): void {
    this.sink = sink;
  }

  // ---- naming -------------------------------------------------------------------------------

  arnOf(name: string): string {
    return `arn:aws:sqs:${this.options.region}:${this.options.accountId}:${name}`;
  }

  urlOf(name: string): string {
    return `${this.options.endpoint()}/${this.options.accountId}/${name}`;
  }

  /** Resolves a QueueUrl by its last path segment (any host: localhost and 127.0.0.1 both work). */
  queueByUrl(url: unknown): Queue {
    if (typeof url !== 'string' || url === '') throw sqsErrors.missingParameter('QueueUrl');
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      throw sqsErrors.invalidAddress(url);
    }
    const segments = path.split('/').filter(Boolean);
    if (segments.length !== 2) throw sqsErrors.invalidAddress(url);
    if (segments[0] !== this.options.accountId) throw sqsErrors.queueDoesNotExist();
    return this.queueByName(decodeURIComponent(segments[1]!));
  }

  queueByName(name: string): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw sqsErrors.queueDoesNotExist();
    return queue;
  }

  findByArn(arn: string): Queue | undefined {
    const prefix = `arn:aws:sqs:${this.options.region}:${this.options.accountId}:`;
    return arn.startsWith(prefix) ? this.queues.get(arn.slice(prefix.length)) : undefined;
  }

  listQueues(prefix = ''): Queue[] {
    return (
      [...this.queues.values()]
        .filter((q) => q.name.startsWith(prefix))
        // Code-unit order, the order NextToken pagination compares in.
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    );
  }

  deadLetterSourcesOf(queue: Queue): Queue[] {
    return this.listQueues().filter((q) => q.redrivePolicy?.deadLetterTargetArn === queue.arn);
  }

  // ---- queues -------------------------------------------------------------------------------

  /** Creates a queue, or returns the existing one when the given attributes match it. */
  createQueue(name: string, attributes: Record<string, string>, tags: Record<string, string>): Queue {
    const existing = this.queues.get(name);
    if (existing) {
      if (!attributesMatch(existing.attributes, attributes, QUEUE_DEFAULTS)) {
        throw sqsErrors.queueNameExists(name);
      }
      return existing;
    }
    const deletedAt = this.deletedAt.get(name);
    if (deletedAt !== undefined && this.clock() - deletedAt < SQS_LIMITS.recreateAfterDeleteMs) {
      throw sqsErrors.queueDeletedRecently();
    }
    const now = this.clock();
    const clean = Object.fromEntries(Object.entries(attributes).filter(([, value]) => value !== ''));
    // A customer managed KMS key replaces SQS-managed encryption, as on SQS.
    if (clean.KmsMasterKeyId && clean.SqsManagedSseEnabled === undefined) {
      clean.SqsManagedSseEnabled = 'false';
    }
    this.commit({
      op: 'queue',
      name,
      attributes: { ...QUEUE_DEFAULTS, ...clean },
      tags,
      createdAt: now,
      modifiedAt: now,
    });
    return this.queueByName(name);
  }

  setAttributes(queue: Queue, attributes: Record<string, string>): void {
    const merged = { ...queue.attributes };
    for (const [key, value] of Object.entries(attributes)) {
      if (value === '' && (key === 'RedrivePolicy' || key === 'Policy' || key === 'RedriveAllowPolicy')) {
        delete merged[key];
      } else {
        merged[key] = value;
      }
    }
    this.commitQueue(queue, merged, queue.tags);
  }

  setTags(queue: Queue, tags: Record<string, string>): void {
    this.commitQueue(queue, queue.attributes, tags);
  }

  private commitQueue(queue: Queue, attributes: Record<string, string>, tags: Record<string, string>): void {
    this.commit({
      op: 'queue',
      name: queue.name,
      attributes,
      tags,
      createdAt: queue.createdAt,
      modifiedAt: this.clock(),
    });
  }

  deleteQueue(queue: Queue): void {
    this.commit({ op: 'drop-queue', name: queue.name });
    this.deletedAt.set(queue.name, this.clock());
  }

  purge(queue: Queue): void {
    const now = this.clock();
    if (queue.lastPurgeAt !== undefined && now - queue.lastPurgeAt < SQS_LIMITS.purgeIntervalMs) {
      throw sqsErrors.purgeQueueInProgress(queue.name);
    }
    this.commit({ op: 'purge', queue: queue.name, at: now });
  }

  /** Attribute values as GetQueueAttributes returns them (all strings). */
  attributesOf(queue: Queue): Record<string, string> {
    const now = this.clock();
    this.expire(queue, now);
    queue.promote(now);
    return {
      ...queue.attributes,
      QueueArn: queue.arn,
      ApproximateNumberOfMessages: String(queue.count('visible')),
      ApproximateNumberOfMessagesNotVisible: String(queue.count('inflight')),
      ApproximateNumberOfMessagesDelayed: String(queue.count('delayed')),
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.modifiedAt / 1000)),
    };
  }

  // ---- messages -----------------------------------------------------------------------------

  send(queue: Queue, input: SendInput): SendResult {
    const now = this.clock();
    const messageId = randomUUID();
    const delaySeconds = input.delaySeconds ?? queue.delaySeconds;
    const message: StoredMessage = {
      key: messageId,
      messageId,
      body: input.body,
      attributes: input.attributes,
      systemAttributes: input.systemAttributes,
      ...(input.groupId !== undefined ? { groupId: input.groupId } : {}),
      sentAt: now,
      receiveCount: 0,
      visibleAt: now + delaySeconds * 1000,
    };
    this.commit({ op: 'put', queue: queue.name, message }, now);
    const md5OfBody = bodyMd5(queue.messages.get(messageId)!);
    const attributesMd5 = md5OfAttributes(input.attributes);
    const systemAttributesMd5 = md5OfAttributes(input.systemAttributes);
    return {
      messageId,
      md5OfBody,
      ...(attributesMd5 ? { md5OfAttributes: attributesMd5 } : {}),
      ...(systemAttributesMd5 ? { md5OfSystemAttributes: systemAttributesMd5 } : {}),
    };
  }

  /**
   * Receives up to `maxMessages` visible messages, fairly across message groups. A message already
   * received `maxReceiveCount` times is moved to the dead-letter queue instead of being returned.
   */
  receive(queue: Queue, options: ReceiveOptions): ReceivedMessage[] {
    const now = this.clock();
    queue.promote(now);
    const visibilityMs = (options.visibilityTimeoutSeconds ?? queue.visibilityTimeoutSeconds) * 1000;
    const redrive = queue.redrivePolicy;
    const deadLetterQueue = redrive ? this.findByArn(redrive.deadLetterTargetArn) : undefined;
    const received: ReceivedMessage[] = [];
    while (received.length < options.maxMessages) {
      const message = queue.takeVisible();
      if (!message) break;
      if (message.sentAt + queue.retentionMs <= now) {
        this.commit({ op: 'delete', queue: queue.name, key: message.key }, now);
        continue;
      }
      if (redrive && deadLetterQueue && message.receiveCount >= redrive.maxReceiveCount) {
        this.redriveToDeadLetterQueue(queue, message, deadLetterQueue, now);
        continue;
      }
      const nonce = randomBytes(8).toString('hex');
      this.commit(
        {
          op: 'receive',
          queue: queue.name,
          key: message.key,
          receiveCount: message.receiveCount + 1,
          firstReceiveAt: message.firstReceiveAt ?? now,
          lastReceiveAt: now,
          visibleAt: now + visibilityMs,
          nonce,
        },
        now,
      );
      bodyMd5(message);
      const { state: _state, version: _version, ...view } = message;
      received.push({
        message: view as ReceivedMessage['message'], // md5OfBody is set just above
        receiptHandle: encodeReceiptHandle({ queue: queue.name, key: message.key, nonce }),
      });
      if (options.duplicate?.()) this.leaveDuplicate(queue, message, now);
    }
    return received;
  }

  private redriveToDeadLetterQueue(
    queue: Queue,
    message: LiveMessage,
    deadLetterQueue: Queue,
    now: number,
  ): void {
    // Same MessageId, body, receive count and SentTimestamp: retention keeps counting from the send.
    const moved: StoredMessage = {
      ...snapshotOf(message),
      visibleAt: now,
      deadLetterSourceArn: queue.arn,
    };
    delete (moved as { nonce?: string }).nonce;
    this.commit(
      { op: 'move', from: queue.name, key: message.key, to: deadLetterQueue.name, message: moved },
      now,
    );
  }

  /** A second, independent copy with the same MessageId, visible at once (deleting one keeps the other). */
  private leaveDuplicate(queue: Queue, message: LiveMessage, now: number): void {
    this.duplicates += 1;
    // Visible from the next receive on, not within this one.
    const copy: StoredMessage = {
      ...snapshotOf(message),
      key: `${message.messageId}#copy${this.duplicates}`,
      visibleAt: now + 1,
    };
    delete (copy as { nonce?: string }).nonce;
    this.commit({ op: 'put', queue: queue.name, message: copy }, now);
  }

  /**
   * Deletes by receipt handle. A malformed handle is an error; a handle of an already deleted
   * message, or an older handle of a message received again since, succeeds without deleting.
   */
  deleteMessage(queue: Queue, receiptHandle: unknown): void {
    const message = this.messageFor(queue, receiptHandle);
    if (message) this.commit({ op: 'delete', queue: queue.name, key: message.key });
  }

  changeVisibility(queue: Queue, receiptHandle: unknown, seconds: number): void {
    const now = this.clock();
    const message = this.messageFor(queue, receiptHandle);
    if (!message) throw sqsErrors.notAvailableForVisibilityChange(String(receiptHandle));
    queue.promote(now);
    if (message.state !== 'inflight') throw sqsErrors.messageNotInflight();
    const visibleAt = now + seconds * 1000;
    const limit = (message.lastReceiveAt ?? now) + SQS_LIMITS.maxVisibilitySeconds * 1000;
    if (visibleAt > limit) {
      throw sqsErrors.invalidParameterValue(
        `Value ${seconds} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [${SQS_LIMITS.maxVisibilitySeconds} seconds]`,
      );
    }
    this.commit({ op: 'visibility', queue: queue.name, key: message.key, visibleAt }, now);
  }

  /** The message a handle currently refers to, or undefined when the handle is stale. */
  private messageFor(queue: Queue, receiptHandle: unknown): LiveMessage | undefined {
    const handle = decodeReceiptHandle(receiptHandle);
    if (!handle || handle.queue !== queue.name)
      throw sqsErrors.receiptHandleIsInvalid(String(receiptHandle ?? ''));
    const message = queue.messages.get(handle.key);
    return message && message.nonce === handle.nonce ? message : undefined;
  }

  /**
   * Moves one message for a move task: a new message (new MessageId, send time and receive count)
   * in the destination, as SQS redrive does. False when the message is gone or not visible.
   */
  moveForTask(source: Queue, key: string, destination: Queue): boolean {
    const now = this.clock();
    source.promote(now);
    const message = source.messages.get(key);
    if (message?.state !== 'visible') return false;
    const messageId = randomUUID();
    const moved: StoredMessage = {
      key: messageId,
      messageId,
      body: message.body,
      attributes: message.attributes,
      systemAttributes: message.systemAttributes,
      ...(message.groupId !== undefined ? { groupId: message.groupId } : {}),
      sentAt: now,
      receiveCount: 0,
      visibleAt: now,
    };
    this.commit({ op: 'move', from: source.name, key, to: destination.name, message: moved }, now);
    return true;
  }

  /** Drops messages past the queue's retention period. */
  expire(queue: Queue, now = this.clock()): void {
    const retention = queue.retentionMs;
    for (const message of queue.messages.values()) {
      if (message.sentAt + retention <= now)
        this.commit({ op: 'delete', queue: queue.name, key: message.key });
    }
  }

  expireAll(): void {
    for (const queue of this.queues.values()) this.expire(queue);
  }

  /** When the next hidden message of the queue becomes visible, if any. */
  nextVisibleAt(queue: Queue): number | undefined {
    return queue.nextVisibleAt();
  }

  /** Calls `listener` whenever a message may have become receivable in the named queue. */
  subscribe(queueName: string, listener: () => void): () => void {
    let set = this.listeners.get(queueName);
    if (!set) {
      set = new Set();
      this.listeners.set(queueName, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  // ---- the state machine --------------------------------------------------------------------

  /** Applies and journals one change; `now` is the time of the operation making it. */
  private commit(record: JournalRecord, now = this.clock()): void {
    this.apply(record, now);
    this.sink(record);
  }

  apply(record: JournalRecord, now = this.clock()): void {
    switch (record.op) {
      case 'queue': {
        const existing = this.queues.get(record.name);
        if (existing) {
          existing.attributes = { ...record.attributes };
          existing.tags = { ...record.tags };
          existing.modifiedAt = record.modifiedAt;
        } else {
          this.queues.set(record.name, new Queue(record.name, this.arnOf(record.name), record));
        }
        return;
      }
      case 'drop-queue':
        this.queues.get(record.name)?.clearMessages();
        this.queues.delete(record.name);
        return;
      case 'put':
        this.queues.get(record.queue)?.put(record.message, now);
        this.notify(record.queue);
        return;
      case 'receive':
        this.queues.get(record.queue)?.markReceived(record.key, record, now);
        return;
      case 'visibility':
        this.queues.get(record.queue)?.setVisibleAt(record.key, record.visibleAt, now);
        if (record.visibleAt <= now) this.notify(record.queue);
        return;
      case 'delete':
        this.queues.get(record.queue)?.remove(record.key);
        return;
      case 'move':
        this.queues.get(record.from)?.remove(record.key);
        this.queues.get(record.to)?.put(record.message, now);
        this.notify(record.to);
        return;
      case 'purge': {
        const queue = this.queues.get(record.queue);
        if (queue) {
          queue.clearMessages();
          queue.lastPurgeAt = record.at;
        }
        return;
      }
    }
  }

  /** The whole state as records: what compaction writes as the new journal. */
  *snapshot(): Generator<JournalRecord> {
    for (const queue of this.queues.values()) {
      yield {
        op: 'queue',
        name: queue.name,
        attributes: queue.attributes,
        tags: queue.tags,
        createdAt: queue.createdAt,
        modifiedAt: queue.modifiedAt,
      };
    }
    for (const queue of this.queues.values()) {
      for (const message of queue.messages.values())
        yield { op: 'put', queue: queue.name, message: snapshotOf(message) };
    }
  }

  private notify(queueName: string): void {
    for (const listener of this.listeners.get(queueName) ?? []) listener();
  }
}

function snapshotOf(message: LiveMessage): StoredMessage {
  const { state: _state, version: _version, md5OfBody: _md5, ...stored } = message;
  return stored;
}
