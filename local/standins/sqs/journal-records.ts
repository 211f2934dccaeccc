/**
 * The SQS store is event-sourced: every change is one of these records, applied to memory by
 * QueueStore.apply both live and when the journal is replayed on start. One record per line (NDJSON).
 */
import type { MessageAttributes } from './message';

/** A message as it is stored (the journal's `put` and the snapshot written by compaction). */
export interface StoredMessage {
  /** Identity inside the queue: the MessageId, or a derived key for an injected duplicate copy. */
  readonly key: string;
  readonly messageId: string;
  readonly body: string;
  readonly attributes: MessageAttributes;
  readonly systemAttributes: MessageAttributes;
  readonly groupId?: string;
  /** Epoch ms of the send; kept when redriven to a DLQ (retention counts from it, as on SQS). */
  readonly sentAt: number;
  readonly receiveCount: number;
  readonly firstReceiveAt?: number;
  readonly lastReceiveAt?: number;
  /** Epoch ms at which the message is (again) visible: after its delay or visibility timeout. */
  readonly visibleAt: number;
  /** Changes on every receive; a receipt handle is only current if it carries the latest nonce. */
  readonly nonce?: string;
  /** Set when the message was redriven into a dead-letter queue (its source queue's ARN). */
  readonly deadLetterSourceArn?: string;
}

export type JournalRecord =
  | {
      readonly op: 'queue';
      readonly name: string;
      readonly attributes: Readonly<Record<string, string>>;
      readonly tags: Readonly<Record<string, string>>;
      readonly createdAt: number;
      readonly modifiedAt: number;
    }
  | { readonly op: 'drop-queue'; readonly name: string }
  | { readonly op: 'put'; readonly queue: string; readonly message: StoredMessage }
  | {
      readonly op: 'receive';
      readonly queue: string;
      readonly key: string;
      readonly receiveCount: number;
      readonly firstReceiveAt: number;
      readonly lastReceiveAt: number;
      readonly visibleAt: number;
      readonly nonce: string;
    }
  | { readonly op: 'visibility'; readonly queue: string; readonly key: string; readonly visibleAt: number }
  | { readonly op: 'delete'; readonly queue: string; readonly key: string }
  /** Atomic delete from `from` and put into `to` (redrive to a DLQ, or a move task). */
  | {
      readonly op: 'move';
      readonly from: string;
      readonly key: string;
      readonly to: string;
      readonly message: StoredMessage;
    }
  | { readonly op: 'purge'; readonly queue: string; readonly at: number };
