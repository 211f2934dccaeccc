/**
 * The interfaces use cases depend on. Adapters (lambdas/adapters) implement them against
 * PostgreSQL, DynamoDB, SQS and Firehose; tests run use cases against the real adapters.
 */
import type { EventRow, MessageRow, SkippedEvent } from './writer-batch';

export interface WriteBatchInput {
  readonly rows: readonly EventRow[];
  readonly messages: readonly MessageRow[];
  readonly skipped: readonly SkippedEvent[];
}

export interface WriteBatchResult {
  /** Events newly stored (and counted in rollups); the rest were already stored. */
  readonly inserted: number;
}

export interface MessageFailure {
  readonly messageId: string;
  readonly receiveCount: number;
  readonly errorCode: string;
  readonly error: string;
  readonly bodyExcerpt?: string;
}

export interface EventStore {
  /** Makes sure every given UTC day (YYYY-MM-DD) has its partitions. */
  ensurePartitions(days: readonly string[]): Promise<void>;
  /** Stores events exactly once and updates rollups from the rows actually inserted, atomically. */
  writeBatch(input: WriteBatchInput): Promise<WriteBatchResult>;
  /** Drops any cached knowledge of partitions (after maintenance dropped some). */
  forgetPartitions?(): void;
  /** Records why messages failed (best effort: the caller logs if this fails too). */
  recordFailures(failures: readonly MessageFailure[]): Promise<void>;
}

/** The in-flight message ledger behind the freshness watermark (docs/freshness.md). */
export interface MessageLedger {
  /** Ingest: the message is in the queue, not yet counted. */
  markPending(
    entries: readonly { messageKey: string; accountId: string; receivedAt: string }[],
  ): Promise<void>;
  /** Writer: the message's events are committed. */
  markCommitted(messageKeys: readonly string[]): Promise<void>;
  /** Writer: the message failed its last attempt and goes to the DLQ. */
  markDead(messageKeys: readonly string[]): Promise<void>;
}

/** Structured logging as use cases see it; the handlers adapt Powertools' Logger to it. */
export interface Log {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}
