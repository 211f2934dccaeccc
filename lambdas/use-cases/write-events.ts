/**
 * The writer's use case: one SQS batch of packed messages → the event store, exactly once.
 *
 * - A malformed message fails alone (its error is recorded); the others are written.
 * - A statement rejected for its data is retried message by message, so only the message carrying
 *   the bad data fails.
 * - An unreachable or failing database fails the whole batch: SQS redelivers it after the
 *   visibility timeout, and nothing was half-written because each write is one transaction.
 */

import {
  type EventStore,
  type LedgerEntry,
  type Log,
  type MessageFailure,
  StoreMissingPartition,
  StoreRejectedData,
  type WriterLedger,
} from '../core/ports';
import { type MalformedMessageError, parseQueueMessage, type QueueMessage } from '../core/queue-message';
import { type ParsedMessage, planBatch, writableDays } from '../core/writer-batch';
import { describeError } from '../shared/describe-error';

export interface IncomingMessage {
  readonly messageId: string;
  readonly body: string;
  readonly receiveCount: number;
}

export interface WriterSettings {
  readonly rawRetentionDays: number;
  readonly partitionsAheadDays: number;
  readonly maxReceiveCount: number;
}

export interface WriterDependencies {
  readonly store: EventStore;
  readonly ledger: WriterLedger;
  readonly settings: WriterSettings;
  readonly log: Log;
  readonly now?: () => number;
}

export interface WriteOutcome {
  /** SQS message ids to report as `batchItemFailures`. */
  readonly failedMessageIds: string[];
  readonly inserted: number;
  /** Events already stored (redeliveries, retries) or repeated inside the batch. */
  readonly duplicates: number;
  readonly skipped: number;
  readonly malformed: number;
  /** now - received_at of the oldest committed message (replays aside), in ms (freshness lag). */
  readonly maxLagMs: number;
  readonly ledgerErrors: number;
}

/** A message of the batch that parsed, with what its failure record would need. */
interface Delivered extends ParsedMessage {
  readonly receiveCount: number;
  /** The body as received, for the failure record's excerpt. */
  readonly body: string;
}

/** A failed message, with its ledger entry when it names one. */
type Failure = MessageFailure & { readonly entry?: LedgerEntry };

function ledgerEntry(message: QueueMessage): LedgerEntry {
  return { messageKey: message.message_key, accountId: message.account_id, receivedAt: message.received_at };
}

export async function writeEvents(
  deps: WriterDependencies,
  incoming: readonly IncomingMessage[],
): Promise<WriteOutcome> {
  const now = deps.now ?? Date.now;
  const failures: Failure[] = [];
  const parsed: Delivered[] = [];
  for (const message of incoming) {
    try {
      parsed.push({
        messageId: message.messageId,
        message: parseQueueMessage(message.body),
        receiveCount: message.receiveCount,
        body: message.body,
      });
    } catch (error) {
      // parseQueueMessage throws MalformedMessageError only; its message is the reason.
      const malformed = error as MalformedMessageError;
      failures.push({
        messageId: message.messageId,
        receiveCount: message.receiveCount,
        errorCode: 'malformed_message',
        error: malformed.message,
        bodyExcerpt: message.body,
        ...(malformed.entry ? { entry: malformed.entry } : {}),
      });
    }
  }
  const malformed = failures.length;

  let committed: Delivered[] = [];
  let inserted = 0;
  let total = 0;
  let skipped = 0;
  try {
    // A batch of nothing but malformed messages has nothing to write.
    if (parsed.length > 0) ({ inserted, total, skipped } = await writeGroup(deps, parsed, now));
    committed = parsed;
  } catch (error) {
    if (!(error instanceof StoreRejectedData) || parsed.length === 1) {
      // The database is unreachable or failing: nothing of this batch is stored; all of it retries.
      deps.log.error('batch write failed; the whole batch will be retried', { error: describeError(error) });
      for (const { messageId, message, receiveCount } of parsed) {
        failures.push({
          messageId,
          receiveCount,
          errorCode: error instanceof StoreRejectedData ? 'rejected_by_database' : 'database_unavailable',
          error: describeError(error),
          entry: ledgerEntry(message),
        });
      }
    } else {
      // Some message carries data the database refuses: find it by writing messages one by one.
      deps.log.warn('batch rejected for its data; isolating the message', { error: describeError(error) });
      for (const message of parsed) {
        try {
          const result = await writeGroup(deps, [message], now);
          committed.push(message);
          inserted += result.inserted;
          total += result.total;
          skipped += result.skipped;
        } catch (single) {
          failures.push({
            messageId: message.messageId,
            receiveCount: message.receiveCount,
            errorCode: single instanceof StoreRejectedData ? 'rejected_by_database' : 'database_unavailable',
            error: describeError(single),
            bodyExcerpt: message.body,
            entry: ledgerEntry(message.message),
          });
        }
      }
    }
  }

  const ledgerErrors = await updateLedger(deps, committed, failures);
  if (failures.length > 0) {
    await deps.store.recordFailures(failures).catch((error: unknown) => {
      deps.log.error('could not record message failures', {
        error: describeError(error),
        failures: failures.length,
      });
    });
  }
  // A replayed message is as old as the archive it came from: its age is not the pipeline's lag.
  const oldest = committed.reduce(
    (min, { message }) => (message.replay ? min : Math.min(min, Date.parse(message.received_at))),
    Infinity,
  );
  return {
    failedMessageIds: failures.map((failure) => failure.messageId),
    inserted,
    duplicates: total - inserted - skipped,
    skipped,
    malformed,
    maxLagMs: Number.isFinite(oldest) ? now() - oldest : 0,
    ledgerErrors,
  };
}

interface GroupResult {
  readonly inserted: number;
  /** Events in the messages, including in-batch duplicates. */
  readonly total: number;
  readonly skipped: number;
}

async function writeGroup(
  deps: WriterDependencies,
  messages: readonly ParsedMessage[],
  now: () => number,
): Promise<GroupResult> {
  const { settings, store } = deps;
  const writable = async () =>
    writableDays(now(), settings.rawRetentionDays, settings.partitionsAheadDays, await store.firstKeptDay());
  const plan = planBatch(messages, await writable());
  const total = messages.reduce((sum, { message }) => sum + message.events.length, 0);
  try {
    await store.ensurePartitions(plan.days);
    const { inserted } = await store.writeBatch(plan);
    return { inserted, total, skipped: plan.skipped.length };
  } catch (error) {
    if (!(error instanceof StoreMissingPartition)) throw error;
    // Maintenance dropped a partition since the store cached the list, or raised the retention floor
    // past a day this batch needs. Plan again with a fresh clock and floor: that day's events are then set aside,
    // never written into a recreated partition, and the batch is retried once.
    const fresh = planBatch(messages, await writable());
    await store.ensurePartitions(fresh.days);
    const { inserted } = await store.writeBatch(fresh);
    return { inserted, total, skipped: fresh.skipped.length };
  }
}

/** Ledger updates never fail the batch: the watermark also consults committed_messages. */
async function updateLedger(
  deps: WriterDependencies,
  committed: readonly ParsedMessage[],
  failures: readonly Failure[],
): Promise<number> {
  let errors = 0;
  const committedKeys = committed.map(({ message }) => message.message_key);
  // On its last attempt a failing message goes to the DLQ: the watermark stops waiting for it.
  const dead = failures.flatMap((failure) =>
    failure.entry && failure.receiveCount >= deps.settings.maxReceiveCount ? [failure.entry] : [],
  );
  const updates: Promise<void>[] = [];
  if (committedKeys.length > 0) updates.push(deps.ledger.markCommitted(committedKeys));
  if (dead.length > 0) updates.push(deps.ledger.markDead(dead));
  for (const result of await Promise.allSettled(updates)) {
    if (result.status === 'rejected') {
      errors++;
      deps.log.warn('could not update the in-flight ledger; the watermark falls back to committed_messages', {
        error: describeError(result.reason),
      });
    }
  }
  return errors;
}
