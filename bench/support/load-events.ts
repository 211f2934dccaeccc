/**
 * Loads generated events into a database through the real writer path (packed messages, the
 * writer use case, two connections), streaming so millions of events fit in memory.
 */
import pg from 'pg';
import { PostgresEventStore } from '../../lambdas/adapters/postgres/event-store';
import { packQueueMessages, serializeQueuedEvent } from '../../lambdas/core/queue-message';
import { type IncomingMessage, writeEvents } from '../../lambdas/use-cases/write-events';
import { EventGenerator, type EventGeneratorOptions, type GeneratedEvent } from '../../ops/event-generator';
import { ignoredLedger } from '../../test/support/ledgers';
import { quietLog } from './quiet-log';
import { progress } from './stats';

/** Per-account requests of up to `perRequest` events, packed as ingest sends them, in SQS batches. */
export function* batchesOf(
  events: readonly GeneratedEvent[],
  receivedAt: string,
  perRequest = 500,
  messagesPerBatch = 20,
): Generator<IncomingMessage[]> {
  const pending = new Map<string, GeneratedEvent[]>();
  let messages: IncomingMessage[] = [];
  let request = 0;
  const flush = function* (account: string, list: GeneratedEvent[]) {
    const bodies = packQueueMessages({
      account_id: account,
      request_id: `load-${receivedAt}-${request++}`,
      received_at: receivedAt,
      events: list.map(({ account_id: _, ...event }) => serializeQueuedEvent(event)),
    });
    for (const body of bodies) {
      messages.push({ messageId: `m${request}-${messages.length}`, body, receiveCount: 1 });
      if (messages.length === messagesPerBatch) {
        yield messages;
        messages = [];
      }
    }
  };
  for (const event of events) {
    const list = pending.get(event.account_id) ?? [];
    pending.set(event.account_id, list);
    list.push(event);
    if (list.length === perRequest) {
      yield* flush(event.account_id, list);
      pending.delete(event.account_id);
    }
  }
  for (const [account, list] of pending) yield* flush(account, list);
  if (messages.length > 0) yield messages;
}

export async function loadGeneratedEvents(
  url: string,
  total: number,
  generatorOptions: EventGeneratorOptions,
  now: number,
): Promise<{ seconds: number }> {
  const generator = new EventGenerator({ ...generatorOptions, spreadOver: total });
  const pools = [0, 1].map(() => new pg.Pool({ connectionString: url, max: 1 }));
  const settings = { rawRetentionDays: 90, partitionsAheadDays: 7, maxReceiveCount: 5 };
  const writers = pools.map((pool) => ({
    store: new PostgresEventStore(pool),
    ledger: ignoredLedger,
    settings,
    log: quietLog,
    now: () => now,
  }));
  const started = performance.now();
  const chunk = 100_000;
  for (let loaded = 0; loaded < total; loaded += chunk) {
    const events = generator.batch(Math.min(chunk, total - loaded));
    const receivedAt = new Date(now).toISOString();
    const queue = [...batchesOf(events, receivedAt)];
    let next = 0;
    await Promise.all(
      writers.map(async (deps) => {
        for (let i = next++; i < queue.length; i = next++) {
          const outcome = await writeEvents(deps, queue[i]!);
          if (outcome.failedMessageIds.length > 0) throw new Error('load failed');
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    progress(
      `loading: ${(loaded + events.length).toLocaleString('en-US')} / ${total.toLocaleString('en-US')} events (${Math.round((loaded + events.length) / seconds).toLocaleString('en-US')}/s)`,
    );
  }
  await Promise.all(pools.map((pool) => pool.end()));
  return { seconds: (performance.now() - started) / 1000 };
}
