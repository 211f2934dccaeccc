import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../lambdas/adapters/postgres/event-store';
import type { EventStore } from '../../lambdas/core/ports';
import { packQueueMessages, serializeQueuedEvent } from '../../lambdas/core/queue-message';
import { seededRandom } from '../../lambdas/core/seeded-random';
import { DAY_MS } from '../../lambdas/core/time-buckets';
import { writeEvents } from '../../lambdas/use-cases/write-events';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { RecordingLedger } from '../support/ledgers';
import { silentLog as silent } from '../support/logs';
import { deliveriesFor, event, redelivered } from '../support/queue-messages';
import {
  expectedStoreState,
  expectStoreToHold as expectStoreState,
  readStoreState,
  type StoredEvent,
} from '../support/store-state';
import { testWriters, WRITER_SETTINGS } from '../support/writers';

describe('Use case: writeEvents', () => {
  let db: TestDatabase;

  const { writer, pool: writerPool, end: endWriters } = testWriters(() => db.url);

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.pool.query(
      'TRUNCATE events, event_keys, rollup_user_day, rollup_type_day, committed_messages, message_failures, skipped_events',
    );
  });
  afterAll(async () => {
    await endWriters();
    await db.drop();
  });

  const expectStoreToHold = (events: readonly StoredEvent[]) => expectStoreState(db.pool, events);

  it('counts an event delivered twice in one batch once', async () => {
    // Prepare
    const first = event('acct-a', 'e1');
    const events = [first, event('acct-a', 'e2'), { ...first }];

    // Act
    const outcome = await writeEvents(writer(), deliveriesFor(events));

    // Assess
    expect(outcome).toMatchObject({ failedMessageIds: [], inserted: 2, duplicates: 1 });
    await expectStoreToHold(events);
  });

  it("leaves replayed messages out of the freshness lag: their age is the archive's", async () => {
    const replayed = deliveriesFor([event('acct-a', 'old')], {
      receivedAt: new Date(Date.now() - 3 * DAY_MS).toISOString(),
      replay: true,
    });
    const live = deliveriesFor([event('acct-a', 'new')], {
      receivedAt: new Date(Date.now() - 2_000).toISOString(),
    });

    const both = await writeEvents(writer(), [...replayed, ...live]);
    const alone = await writeEvents(writer(), deliveriesFor([event('acct-a', 'again')], { replay: true }));

    expect(both.inserted).toBe(2);
    expect(both.maxLagMs).toBeGreaterThanOrEqual(2_000);
    expect(both.maxLagMs).toBeLessThan(DAY_MS);
    expect(alone).toMatchObject({ inserted: 1, maxLagMs: 0 });
  });

  it('counts an event delivered in two batches once, and the first timestamp wins', async () => {
    // Two different UTC days, both within retention whatever the date the test runs on.
    const twoDaysAgo = Math.floor(Date.now() / DAY_MS - 2) * DAY_MS;
    const original = event('acct-a', 'e1', twoDaysAgo + 10.25 * 3_600_000);
    const resent = event('acct-a', 'e1', twoDaysAgo + 2 * DAY_MS - 1, 'user-2', 'click');
    const deps = writer();

    const first = await writeEvents(deps, deliveriesFor([original]));
    const second = await writeEvents(deps, deliveriesFor([resent]));

    expect(first.inserted).toBe(1);
    expect(second).toMatchObject({ failedMessageIds: [], inserted: 0, duplicates: 1 });
    await expectStoreToHold([original, resent]);
  });

  it('counts each event once when two writers race on overlapping batches', async () => {
    const events = Array.from({ length: 600 }, (_, i) =>
      event(
        i % 3 === 0 ? 'acct-whale' : `acct-${i % 7}`,
        `e${i}`,
        Date.now() - (i % 50) * 60_000,
        `u${i % 13}`,
      ),
    );
    const deliveries = deliveriesFor(events);
    const [a, b] = [writer(), writer()];

    for (let round = 0; round < 5; round++) {
      const shuffled = [...deliveries].sort(() => Math.random() - 0.5);
      await Promise.all([writeEvents(a, deliveries), writeEvents(b, shuffled)]);
    }

    await expectStoreToHold(events);
  });

  it('changes nothing when a committed batch is delivered again (crash between commit and delete)', async () => {
    const events = [event('acct-a', 'e1'), event('acct-b', 'e2'), event('acct-b', 'e3', Date.now(), 'u2')];
    const deliveries = deliveriesFor(events);
    const ledger = new RecordingLedger();
    const deps = writer(ledger);

    await writeEvents(deps, deliveries);
    const again = await writeEvents(deps, redelivered(deliveries));

    expect(again).toMatchObject({ failedMessageIds: [], inserted: 0, duplicates: 3 });
    await expectStoreToHold(events);
    // The ledger learns of the commit both times: marking twice is harmless, missing it is not.
    expect(ledger.committed).toHaveLength(2 * deliveries.length);
  });

  it('fails a malformed message alone, records why, and writes the others', async () => {
    const good = [event('acct-a', 'e1'), event('acct-b', 'e2')];
    const deliveries = [
      ...deliveriesFor(good),
      { messageId: 'poison-json', body: '{"v":1,"events":[', receiveCount: 1 },
      {
        messageId: 'poison-shape',
        body: JSON.stringify({ v: 1, account_id: 'a', events: [{}] }),
        receiveCount: 2,
      },
      { messageId: 'poison-version', body: JSON.stringify({ v: 99 }), receiveCount: 1 },
      {
        // A day that does not exist (PostgreSQL would refuse it while creating the partition).
        messageId: 'poison-instant',
        body: deliveriesFor([event('acct-d', 'e3')])[0]!.body.replace(
          /"timestamp":"[^"]+"/,
          '"timestamp":"2026-09-31T10:00:00.000Z"',
        ),
        receiveCount: 1,
      },
    ];

    const outcome = await writeEvents(writer(), deliveries);

    expect(outcome.failedMessageIds.sort()).toEqual([
      'poison-instant',
      'poison-json',
      'poison-shape',
      'poison-version',
    ]);
    expect(outcome.malformed).toBe(4);
    await expectStoreToHold(good);
    const { rows } = await db.pool.query(
      'SELECT message_id, receive_count, error_code FROM message_failures ORDER BY message_id',
    );
    expect(rows).toEqual([
      { message_id: 'poison-instant', receive_count: 1, error_code: 'malformed_message' },
      { message_id: 'poison-json', receive_count: 1, error_code: 'malformed_message' },
      { message_id: 'poison-shape', receive_count: 2, error_code: 'malformed_message' },
      { message_id: 'poison-version', receive_count: 1, error_code: 'malformed_message' },
    ]);
  });

  it('marks a malformed message that still names its ledger entry dead on its last attempt', async () => {
    // Prepare: the envelope of a version this writer cannot read (a rolled-back deploy), and junk
    const [valid] = deliveriesFor([event('acct-a', 'e1')]);
    const envelope = JSON.parse(valid!.body);
    const newer = JSON.stringify({ ...envelope, v: 2 });
    const ledger = new RecordingLedger();

    // Act: each on a non-final receive, then on its last
    await writeEvents(writer(ledger), [
      { messageId: 'newer', body: newer, receiveCount: 4 },
      { messageId: 'junk', body: '{"v":1', receiveCount: 4 },
    ]);
    expect(ledger.dead).toEqual([]);
    const outcome = await writeEvents(writer(ledger), [
      { messageId: 'newer', body: newer, receiveCount: 5 },
      { messageId: 'junk', body: '{"v":1', receiveCount: 5 },
    ]);

    // Assess: both fail and go to the DLQ; the watermark stops waiting for the one it knows
    expect(outcome.failedMessageIds.sort()).toEqual(['junk', 'newer']);
    expect(ledger.dead).toEqual([
      { messageKey: envelope.message_key, accountId: 'acct-a', receivedAt: envelope.received_at },
    ]);
  });

  it('fails the batch when its transaction cannot start, and records why on the same connection', async () => {
    // Prepare: the staging table's creation, just after BEGIN, is cancelled (as a statement timeout would)
    await db.pool.query(`
      CREATE FUNCTION refuse_staging() RETURNS event_trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'staging refused by the test' USING ERRCODE = '57014'; END $$;
      CREATE EVENT TRIGGER refuse_staging ON ddl_command_start WHEN TAG IN ('CREATE TABLE')
        EXECUTE FUNCTION refuse_staging();`);
    const events = [event('acct-a', 'e1'), event('acct-b', 'e2')];
    const deliveries = deliveriesFor(events);
    const deps = writer(); // one connection, as a writer instance has
    await deps.store.ensurePartitions([new Date().toISOString().slice(0, 10)]);

    let failed: Awaited<ReturnType<typeof writeEvents>>;
    try {
      failed = await writeEvents(deps, deliveries);
    } finally {
      await db.pool.query('DROP EVENT TRIGGER refuse_staging; DROP FUNCTION refuse_staging()');
    }

    // Assess: the whole batch fails, and its failure is recorded (the connection was not left in an
    // aborted transaction); the redelivery then stores it once
    expect(failed.failedMessageIds.sort()).toEqual(deliveries.map((d) => d.messageId).sort());
    const { rows } = await db.pool.query('SELECT error_code FROM message_failures');
    expect(rows).toEqual(deliveries.map(() => ({ error_code: 'database_unavailable' })));
    expect(await writeEvents(deps, redelivered(deliveries))).toMatchObject({
      failedMessageIds: [],
      inserted: 2,
    });
    await expectStoreToHold(events);
  });

  it('isolates a message whose data PostgreSQL refuses, and marks it dead on its last attempt', async () => {
    const good = [event('acct-a', 'e1'), event('acct-b', 'e2')];
    // Valid JSON and shape, but PostgreSQL text cannot hold NUL.
    const poison = deliveriesFor([event('acct-c', 'bad\u0000id')], { receiveCount: 5 });
    const ledger = new RecordingLedger();

    const outcome = await writeEvents(writer(ledger), [...deliveriesFor(good), ...poison]);

    expect(outcome.failedMessageIds).toEqual([poison[0]!.messageId]);
    await expectStoreToHold(good);
    expect(ledger.dead).toHaveLength(1);
    const { rows } = await db.pool.query('SELECT error_code, body_excerpt FROM message_failures');
    // The excerpt is the body as received (NUL made storable), cut to 500 characters.
    expect(rows).toEqual([
      {
        error_code: 'rejected_by_database',
        body_excerpt: poison[0]!.body.slice(0, 500).replaceAll('\u0000', '\uFFFD'),
      },
    ]);
  });

  it('stores each metadata object as an equal JSON value, whatever its text holds', async () => {
    const metadata = {
      quote: 'say "hi"',
      path: 'C:\\temp\\x',
      controls: 'tab\tnew\nline\rcr \u0001 \u001f',
      unicode: 'Zürich 🚀 \u2028',
      nested: { list: [1, 2.5, null, true, { deep: 'x' }] },
    };
    const sent = event('acct-a', 'e1');
    const [body] = packQueueMessages({
      account_id: 'acct-a',
      request_id: 'r',
      received_at: new Date().toISOString(),
      events: [serializeQueuedEvent({ ...sent, metadata })],
    });

    const outcome = await writeEvents(writer(), [{ messageId: 'm', body: body!, receiveCount: 1 }]);

    expect(outcome).toMatchObject({ failedMessageIds: [], inserted: 1 });
    const { rows } = await db.pool.query('SELECT metadata FROM events');
    expect(rows).toEqual([{ metadata }]);
  });

  it('isolates a message when PostgreSQL refuses one of its days while creating partitions', async () => {
    // Prepare: PostgreSQL refuses to create the partition of one day (as it would an impossible
    // date, 22008); the other messages' days are fine.
    const refusedDay = new Date(Date.now() + 3 * DAY_MS).toISOString().slice(0, 10);
    const pool = writerPool();
    const refusing = Object.assign(Object.create(pool) as pg.Pool, {
      query: (text: string, values?: unknown[]) => {
        const [from, to] = (values ?? []) as string[];
        if (text.includes('firehose_ensure_partitions') && from! <= refusedDay && refusedDay <= to!) {
          return Promise.reject(
            Object.assign(new Error('date/time field value out of range'), { code: '22008' }),
          );
        }
        return pool.query(text, values);
      },
    });
    const good = [event('acct-a', 'e1'), event('acct-b', 'e2')];
    const poison = deliveriesFor([event('acct-c', 'e3', `${refusedDay}T12:00:00.000Z`)]);
    const deps = {
      store: new PostgresEventStore(refusing),
      ledger: new RecordingLedger(),
      settings: WRITER_SETTINGS,
      log: silent,
    };

    // Act
    const outcome = await writeEvents(deps, [...deliveriesFor(good), ...poison]);

    // Assert: the others are written; the refused one fails alone, for its data, and says why.
    expect(outcome.failedMessageIds).toEqual([poison[0]!.messageId]);
    await expectStoreToHold(good);
    const { rows } = await db.pool.query('SELECT error_code, error FROM message_failures');
    expect(rows).toEqual([{ error_code: 'rejected_by_database', error: expect.stringContaining('22008') }]);
  });

  it('writes nothing when every message of the batch is malformed', async () => {
    let writes = 0;
    const store = new PostgresEventStore(db.pool);
    const counting: EventStore = {
      firstKeptDay: () => store.firstKeptDay(),
      ensurePartitions: (days) => store.ensurePartitions(days),
      writeBatch: (input) => {
        writes++;
        return store.writeBatch(input);
      },
      recordFailures: (failures) => store.recordFailures(failures),
    };

    const outcome = await writeEvents({ ...writer(), store: counting }, [
      { messageId: 'poison-only', body: 'not json', receiveCount: 1 },
    ]);

    expect(outcome).toMatchObject({ failedMessageIds: ['poison-only'], inserted: 0, malformed: 1 });
    expect(writes).toBe(0);
  });

  it('stores a late event in its own (older) day partition and rollup', async () => {
    const lateTime = Date.now() - 20 * DAY_MS;
    const events = [event('acct-a', 'now'), event('acct-a', 'late', lateTime, 'user-9', 'purchase')];

    const outcome = await writeEvents(writer(), deliveriesFor(events));

    expect(outcome).toMatchObject({ failedMessageIds: [], inserted: 2, skipped: 0 });
    await expectStoreToHold(events);
  });

  it('sets aside events older than raw retention or beyond the partitions kept ahead, without retrying', async () => {
    const kept = event('acct-a', 'kept');
    const tooOld = event('acct-a', 'too-old', Date.now() - 91 * DAY_MS);
    const tooFar = event('acct-a', 'too-far', Date.now() + 9 * DAY_MS);

    const outcome = await writeEvents(writer(), deliveriesFor([kept, tooOld, tooFar]));

    expect(outcome).toMatchObject({ failedMessageIds: [], inserted: 1, skipped: 2 });
    await expectStoreToHold([kept]);
    const { rows } = await db.pool.query('SELECT event_id, reason FROM skipped_events ORDER BY event_id');
    expect(rows).toEqual([
      { event_id: 'too-far', reason: 'beyond_partitions_ahead' },
      { event_id: 'too-old', reason: 'older_than_retention' },
    ]);
  });

  // Dropped by hand, not by maintenance (which raises the retention floor first: see
  // partition-maintenance.test.ts), so the day is still writable and is created again.
  it('recreates a partition dropped by hand after the writer cached it', async () => {
    const deps = writer();
    const day = new Date(Date.now() - 3 * DAY_MS);
    await writeEvents(deps, deliveriesFor([event('acct-a', 'first', day.getTime())]));
    await db.pool.query('TRUNCATE events, event_keys, rollup_user_day, rollup_type_day');
    await db.pool.query(`DROP TABLE events_p${day.toISOString().slice(0, 10).replaceAll('-', '')}`);

    const again = event('acct-a', 'second', day.getTime());
    const outcome = await writeEvents(deps, deliveriesFor([again]));

    expect(outcome).toMatchObject({ failedMessageIds: [], inserted: 1 });
    await expectStoreToHold([again]);
  });

  it('property: 10^4 events in any order, with duplicates, conflicting copies and racing redeliveries, each stored and counted once', async () => {
    const base = Date.now() - 2 * DAY_MS;
    const distinct: StoredEvent[] = Array.from({ length: 10_000 }, (_, i) =>
      event(`acct-${i % 17}`, `e${i}`, base + ((i * 7919) % (2 * DAY_MS)), `u${(i * 31) % 97}`, `t${i % 5}`),
    );
    /** Another copy of an event under the same id: the same, or with another time or user. */
    const copyOf = (original: StoredEvent, variant: number): StoredEvent => {
      if (variant === 1) {
        const moved = Date.parse(original.timestamp) + (variant * 5 + 1) * 3_600_000;
        return { ...original, timestamp: new Date(Math.min(moved, Date.now())).toISOString() };
      }
      return variant === 2 ? { ...original, user_id: `${original.user_id}-other` } : { ...original };
    };
    await fc.assert(
      fc.asyncProperty(
        fc.integer(), // the order of every delivery
        fc.array(fc.tuple(fc.nat(distinct.length - 1), fc.nat(2)), { minLength: 100, maxLength: 2000 }),
        fc.array(fc.integer({ min: 1, max: 1500 }), { minLength: 30, maxLength: 30 }), // batch sizes
        async (seed, duplicates, sizes) => {
          await db.pool.query(
            'TRUNCATE events, event_keys, rollup_user_day, rollup_type_day, committed_messages',
          );
          // Every event once, plus duplicates, in a random order, cut into batches of random sizes.
          const stream = [...distinct, ...duplicates.map(([i, variant]) => copyOf(distinct[i]!, variant))];
          const random = seededRandom(seed);
          for (let i = stream.length - 1; i > 0; i--) {
            const j = Math.floor(random() * (i + 1));
            [stream[i], stream[j]] = [stream[j]!, stream[i]!];
          }
          const deliveries: StoredEvent[][] = [];
          for (let start = 0, k = 0; start < stream.length; k++) {
            const size = sizes[k % sizes.length]!;
            deliveries.push(stream.slice(start, start + size));
            start += size;
          }
          const batches = deliveries.map((events) => deliveriesFor(events));
          // Two writers take the batches in opposite orders, the second as redeliveries: every
          // message is written twice, concurrently, and conflicting copies race.
          const [a, b] = [writer(), writer()];
          await Promise.all([
            (async () => {
              for (const batch of batches) await writeEvents(a, batch);
            })(),
            (async () => {
              for (const batch of [...batches].reverse()) await writeEvents(b, redelivered(batch));
            })(),
          ]);

          // Every id stored once, as one of the copies delivered for it (which one wins a race is
          // not promised); keys and every rollup are exactly those of the stored rows.
          const state = await readStoreState(db.pool);
          expect(state.events.size).toBe(distinct.length);
          const copies = new Map<string, Set<string>>();
          for (const e of stream) {
            const key = `${e.account_id}/${e.event_id}`;
            copies.set(key, (copies.get(key) ?? new Set()).add(`${e.user_id}|${e.type}|${e.timestamp}`));
          }
          const winners: StoredEvent[] = [];
          for (const [key, stored] of state.events) {
            expect(copies.get(key)?.has(stored), key).toBe(true);
            const [account_id, event_id] = key.split('/') as [string, string];
            const [user_id, type, timestamp] = stored.split('|') as [string, string, string];
            winners.push({ account_id, event_id, user_id, type, timestamp });
          }
          expect(state).toEqual(expectedStoreState(winners));
        },
      ),
      { numRuns: 4 },
    );
  }, 180_000);
});
