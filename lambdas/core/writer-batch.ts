/**
 * The writer's pure planning step: from the parsed messages of one SQS batch to the rows one
 * set-based statement inserts. First occurrence wins inside a batch (the database decides across
 * batches); events whose day lies outside the stored range are set aside, never retried forever.
 */
import type { QueueMessage } from './queue-message';
import { addDays, utcDay, utcDayOfIso } from './time-buckets';

export interface EventRow {
  readonly account_id: string;
  readonly event_id: string;
  readonly user_id: string;
  readonly type: string;
  readonly event_time: string;
  readonly received_at: string;
  readonly metadata: Readonly<Record<string, unknown>> | null;
}

export interface MessageRow {
  readonly message_key: string;
  readonly account_id: string;
  readonly received_at: string;
}

export type SkipReason = 'older_than_retention' | 'beyond_partitions_ahead';

export interface SkippedEvent {
  readonly account_id: string;
  readonly event_id: string;
  readonly event_time: string;
  readonly reason: SkipReason;
  readonly message_id: string;
}

export interface ParsedMessage {
  /** SQS message id, for failure records. */
  readonly messageId: string;
  readonly message: QueueMessage;
}

/** Days the writer may store: [today - retention + 1, today + ahead], inclusive, UTC. */
export interface WritableDays {
  readonly first: string;
  readonly last: string;
}

/**
 * The widest range of days firehose_ensure_partitions creates in one call (migration 0001 refuses
 * more); the writable range must fit in it (validateStageConfig).
 */
export const MAX_PARTITION_SPAN_DAYS = 400;

export function writableDays(
  nowMs: number,
  rawRetentionDays: number,
  aheadDays: number,
  firstKeptDay?: string,
): WritableDays {
  const today = utcDay(nowMs);
  const first = addDays(today, -(rawRetentionDays - 1));
  // The store's retention floor wins over this writer's own setting and clock (ports.ts).
  return {
    first: firstKeptDay !== undefined && firstKeptDay > first ? firstKeptDay : first,
    last: addDays(today, aheadDays),
  };
}

export interface BatchPlan {
  readonly rows: EventRow[];
  readonly messages: MessageRow[];
  readonly skipped: SkippedEvent[];
  /** Events dropped because an earlier event of this batch had the same (account_id, event_id). */
  readonly duplicatesInBatch: number;
  /** Distinct UTC days of `rows`, sorted. */
  readonly days: string[];
}

export function planBatch(messages: readonly ParsedMessage[], writable: WritableDays): BatchPlan {
  const seen = new Set<string>();
  const rows: EventRow[] = [];
  const skipped: SkippedEvent[] = [];
  const days = new Set<string>();
  const messageRows: MessageRow[] = [];
  let duplicatesInBatch = 0;
  for (const { messageId, message } of messages) {
    messageRows.push({
      message_key: message.message_key,
      account_id: message.account_id,
      received_at: message.received_at,
    });
    for (const event of message.events) {
      const key = `${message.account_id}\u0000${event.event_id}`;
      if (seen.has(key)) {
        duplicatesInBatch++;
        continue;
      }
      seen.add(key);
      const day = utcDayOfIso(event.timestamp);
      if (day < writable.first || day > writable.last) {
        skipped.push({
          account_id: message.account_id,
          event_id: event.event_id,
          event_time: event.timestamp,
          reason: day < writable.first ? 'older_than_retention' : 'beyond_partitions_ahead',
          message_id: messageId,
        });
        continue;
      }
      days.add(day);
      rows.push({
        account_id: message.account_id,
        event_id: event.event_id,
        user_id: event.user_id,
        type: event.type,
        event_time: event.timestamp,
        received_at: message.received_at,
        metadata: event.metadata ?? null,
      });
    }
  }
  return { rows, messages: messageRows, skipped, duplicatesInBatch, days: [...days].sort() };
}
