/**
 * One queue's messages and the indexes that make receiving cheap: visible messages in fair
 * per-group lists, hidden ones (delayed or in flight) in a heap ordered by the time they reappear.
 * Indexes are updated lazily: every change bumps the message's version, and stale index entries are
 * skipped when met.
 */
import { FairReadyLists } from './fair-ready-lists';
import type { StoredMessage } from './journal-records';
import { QUEUE_DEFAULTS } from './limits';
import { md5Hex } from './message';
import { MinHeap } from './min-heap';
import { type RedrivePolicy, redrivePolicyOf } from './queue-attributes';

export type MessageState = 'delayed' | 'visible' | 'inflight';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface LiveMessage extends Mutable<StoredMessage> {
  state: MessageState;
  version: number;
  /**
   * MD5 of the body, as sends and receives answer it: derived once, when first needed (bodyMd5), so
   * replaying a journal or moving messages computes none.
   */
  md5OfBody?: string;
}

/** The message's body MD5, computed on first use and kept. */
export function bodyMd5(message: LiveMessage): string {
  message.md5OfBody ??= md5Hex(message.body);
  return message.md5OfBody;
}

interface Ticket {
  readonly key: string;
  readonly version: number;
}

export interface QueueInit {
  readonly attributes: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly createdAt: number;
  readonly modifiedAt: number;
}

export class Queue {
  attributes: Record<string, string>;
  tags: Record<string, string>;
  readonly createdAt: number;
  modifiedAt: number;
  lastPurgeAt: number | undefined;
  readonly messages = new Map<string, LiveMessage>();
  private readonly ready = new FairReadyLists<Ticket>();
  private readonly hidden = new MinHeap<Ticket>();
  private readonly counts: Record<MessageState, number> = { delayed: 0, visible: 0, inflight: 0 };

  constructor(
    readonly name: string,
    readonly arn: string,
    init: QueueInit,
  ) {
    this.attributes = { ...init.attributes };
    this.tags = { ...init.tags };
    this.createdAt = init.createdAt;
    this.modifiedAt = init.modifiedAt;
  }

  private numberAttribute(name: string): number {
    return Number(this.attributes[name] ?? QUEUE_DEFAULTS[name]);
  }

  get visibilityTimeoutSeconds(): number {
    return this.numberAttribute('VisibilityTimeout');
  }
  get retentionMs(): number {
    return this.numberAttribute('MessageRetentionPeriod') * 1000;
  }
  get delaySeconds(): number {
    return this.numberAttribute('DelaySeconds');
  }
  get maxMessageBytes(): number {
    return this.numberAttribute('MaximumMessageSize');
  }
  get waitSeconds(): number {
    return this.numberAttribute('ReceiveMessageWaitTimeSeconds');
  }
  get redrivePolicy(): RedrivePolicy | undefined {
    return redrivePolicyOf(this.attributes);
  }

  count(state: MessageState): number {
    return this.counts[state];
  }

  put(stored: StoredMessage, now: number): LiveMessage {
    this.remove(stored.key);
    const message: LiveMessage = { ...stored, state: 'delayed', version: 0 };
    this.counts.delayed += 1;
    this.messages.set(message.key, message);
    this.place(message, now);
    return message;
  }

  remove(key: string): LiveMessage | undefined {
    const message = this.messages.get(key);
    if (!message) return undefined;
    this.messages.delete(key);
    this.counts[message.state] -= 1;
    message.version += 1;
    return message;
  }

  /** A receive: new count, timestamps, nonce, and hidden until `visibleAt`. */
  markReceived(
    key: string,
    receipt: Pick<StoredMessage, 'receiveCount' | 'firstReceiveAt' | 'lastReceiveAt' | 'visibleAt' | 'nonce'>,
    now: number,
  ): void {
    const message = this.messages.get(key);
    if (!message) return;
    Object.assign(message, receipt);
    // Even with a 0 s visibility timeout it waits for the next promote: one receive call must not
    // return the same message twice.
    this.place(message, now, true);
  }

  setVisibleAt(key: string, visibleAt: number, now: number): void {
    const message = this.messages.get(key);
    if (!message) return;
    message.visibleAt = visibleAt;
    this.place(message, now);
  }

  /** Makes every hidden message whose time has come visible. */
  promote(now: number): void {
    for (let top = this.hidden.peek(); top && top.key <= now; top = this.hidden.peek()) {
      this.hidden.pop();
      const message = this.current(top.value);
      if (message && message.state !== 'visible') this.show(message);
    }
  }

  /** The next visible message in fair order (call promote first). */
  takeVisible(): LiveMessage | undefined {
    const ticket = this.ready.take((entry) => this.current(entry)?.state === 'visible');
    return ticket ? this.messages.get(ticket.key) : undefined;
  }

  /** When the earliest hidden message reappears (for long polls), if any is hidden. */
  nextVisibleAt(): number | undefined {
    for (let top = this.hidden.peek(); top; top = this.hidden.peek()) {
      const message = this.current(top.value);
      if (message && message.state !== 'visible') return top.key;
      this.hidden.pop();
    }
    return undefined;
  }

  clearMessages(): void {
    for (const message of this.messages.values()) message.version += 1;
    this.messages.clear();
    this.ready.clear();
    this.hidden.clear();
    this.counts.delayed = 0;
    this.counts.visible = 0;
    this.counts.inflight = 0;
  }

  private current(ticket: Ticket): LiveMessage | undefined {
    const message = this.messages.get(ticket.key);
    return message && message.version === ticket.version ? message : undefined;
  }

  private place(message: LiveMessage, now: number, viaHeap = false): void {
    message.version += 1;
    if (message.visibleAt <= now && !viaHeap) {
      this.show(message);
      return;
    }
    this.setState(message, message.receiveCount > 0 ? 'inflight' : 'delayed');
    this.hidden.push(message.visibleAt, { key: message.key, version: message.version });
  }

  private show(message: LiveMessage): void {
    this.setState(message, 'visible');
    this.ready.add(message.groupId ?? '', { key: message.key, version: message.version });
  }

  private setState(message: LiveMessage, state: MessageState): void {
    this.counts[message.state] -= 1;
    this.counts[state] += 1;
    message.state = state;
  }
}
