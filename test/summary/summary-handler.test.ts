/**
 * The summary handler end to end on real PostgreSQL and dynalite: auth, validation, cache (hit,
 * miss, expiry, down), coalescing, and the as_of watermark holding back for a message in flight.
 */
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoMessageLedger } from '../../lambdas/adapters/dynamodb/message-ledger';
import { DynamoSummaryCache } from '../../lambdas/adapters/dynamodb/summary-cache';
import { PostgresEventStore } from '../../lambdas/adapters/postgres/event-store';
import { PostgresSummaryStore } from '../../lambdas/adapters/postgres/summary-store';
import { parseQueueMessage } from '../../lambdas/core/queue-message';
import { createSummaryHandler } from '../../lambdas/handlers/summary';
import { createObservability } from '../../lambdas/shared/observability';
import { type SummaryDependencies, SummaryReader } from '../../lambdas/use-cases/summarize';
import { writeEvents } from '../../lambdas/use-cases/write-events';
import { ingestAuth, proxyEvent } from '../support/api-gateway-events';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { silentLog as silent } from '../support/logs';
import { deliveriesFor, event } from '../support/queue-messages';
import { WRITER_SETTINGS } from '../support/writers';

describe('Handler: summary', () => {
  let db: TestDatabase;
  let dynamo: TestDynamo;
  let pool: pg.Pool;
  let clock: number;
  let store: PostgresSummaryStore;
  let countCalls: number;
  let ledger: DynamoMessageLedger;

  function reader(overrides: Partial<SummaryDependencies> = {}) {
    const counting = {
      counts: (...args: Parameters<PostgresSummaryStore['counts']>) => {
        countCalls++;
        return store.counts(...args);
      },
      committedMessages: (keys: readonly string[]) => store.committedMessages(keys),
    };
    return new SummaryReader({
      store: counting,
      cache: new DynamoSummaryCache(dynamo.documents, dynamo.names.summaryCacheTable, () => clock),
      ledger,
      settings: { cacheTtlSeconds: 30, maxRangeDays: 90, ingestTimeoutSeconds: 10, queueRetentionDays: 4 },
      log: silent,
      now: () => clock,
      ...overrides,
    });
  }

  function get(
    summaryReader: SummaryReader,
    account: string,
    query: Record<string, string> = {},
    auth = ingestAuth({ accountId: account }),
  ) {
    const handler = createSummaryHandler(() => summaryReader, createObservability('summary'));
    return handler(
      proxyEvent({
        method: 'GET',
        path: `/accounts/${account}/summary`,
        resource: '/accounts/{id}/summary',
        pathParameters: { id: account },
        query,
        auth,
        headers: {},
      }),
    );
  }

  /** What ingest does for a message: ledger it as sending, send it, confirm it as sent. */
  async function ledgerAsIngest(body: string, account: string) {
    const message = parseQueueMessage(body);
    const entry = { messageKey: message.message_key, accountId: account, receivedAt: message.received_at };
    await ledger.markSending([entry]);
    await ledger.markSent([entry]);
    return entry;
  }

  const writer = () => ({
    store: new PostgresEventStore(pool),
    ledger,
    log: silent,
    now: () => clock,
    settings: WRITER_SETTINGS,
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    dynamo = await startTestDynamo();
    pool = new pg.Pool({ connectionString: db.url, max: 3 });
    store = new PostgresSummaryStore(pool);
    ledger = new DynamoMessageLedger(dynamo.documents, dynamo.names.ledgerTable, () => clock);
  });
  beforeEach(() => {
    clock = Date.now();
    countCalls = 0;
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
    await dynamo.stop();
  });

  it('answers 200 with the contract fields', async () => {
    await writeEvents(
      writer(),
      deliveriesFor([
        event('acct-200', 'a', clock - 60_000, 'u1', 'click'),
        event('acct-200', 'b', clock, 'u1', 'view'),
      ]),
    );

    const result = await get(reader(), 'acct-200', { window: 'last_1h', top: '5' });

    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({
      account_id: 'acct-200',
      window: 'last_1h',
      from: expect.any(String),
      to: expect.any(String),
      as_of: expect.any(String),
      totals: { click: 1, view: 1 },
      total: 2,
      top_users: [{ user_id: 'u1', events: 2 }],
      cached: false,
    });
  });

  it.each([
    ['another account that exists', 'acct-200'],
    ['an account that does not exist', 'acct-nobody'],
  ])('answers 403 for %s, the same way', async (_, target) => {
    const result = await get(reader(), target, {}, ingestAuth({ accountId: 'acct-mine' }));
    expect(result.statusCode).toBe(403);
    expect(JSON.parse(result.body).error).toMatchObject({
      code: 'forbidden',
      message: 'This key cannot read this account.',
    });
  });

  it('answers 403 to a key without the read scope, 401 without a key, 400 for bad windows', async () => {
    expect(
      (await get(reader(), 'acct-x', {}, ingestAuth({ accountId: 'acct-x', scopes: ['ingest'] }))).statusCode,
    ).toBe(403);
    const noAuth = createSummaryHandler(() => reader(), createObservability('summary'));
    expect((await noAuth(proxyEvent({ method: 'GET', pathParameters: { id: 'x' } }))).statusCode).toBe(401);
    const bad = await get(reader(), 'acct-x', { window: 'yesterday' });
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body).error).toMatchObject({ code: 'invalid_window', field: 'window' });
  });

  it('serves the second read from the cache, and recomputes once the entry expired', async () => {
    await writeEvents(writer(), deliveriesFor([event('acct-cache', 'c1', clock)]));
    const summaryReader = reader();

    const first = JSON.parse((await get(summaryReader, 'acct-cache')).body);
    await writeEvents(writer(), deliveriesFor([event('acct-cache', 'c2', clock)]));
    const second = JSON.parse((await get(summaryReader, 'acct-cache')).body);
    clock += 31_000;
    const third = JSON.parse((await get(summaryReader, 'acct-cache')).body);

    expect([first.cached, second.cached, third.cached]).toEqual([false, true, false]);
    expect([first.total, second.total, third.total]).toEqual([1, 1, 2]);
    expect(countCalls).toBe(2);
  });

  it('keeps a cached entry at least its TTL, so it outlives the claim made before computing it', async () => {
    // Prepare: a clock in the middle of a second, and a claim for as long as the TTL.
    clock = 1_800_000_000_700;
    const cache = new DynamoSummaryCache(dynamo.documents, dynamo.names.summaryCacheTable, () => clock);
    expect(await cache.claim('ttl-edge', 2_000)).toBe(true);

    // Act
    await cache.put('ttl-edge', '{}', 2);

    // Assess: still there at the claim's last instant.
    clock += 2_000;
    expect(await cache.get('ttl-edge')).toMatchObject({ body: '{}' });
  });

  it('serves another instance from the shared DynamoDB cache', async () => {
    await writeEvents(writer(), deliveriesFor([event('acct-shared', 's1', clock)]));

    const first = JSON.parse((await get(reader(), 'acct-shared')).body);
    const other = JSON.parse((await get(reader(), 'acct-shared')).body);

    expect([first.cached, other.cached]).toEqual([false, true]);
    expect(other).toEqual({ ...first, cached: true });
    expect(countCalls).toBe(1);
  });

  it('reads PostgreSQL when the cache is down, never answering 5xx for it', async () => {
    await writeEvents(writer(), deliveriesFor([event('acct-nocache', 'n1', clock)]));
    dynamo.standin.faults.set({ down: true });
    try {
      const result = await get(
        reader({ ledger: { oldestPending: async () => ({ messages: [] }) } }),
        'acct-nocache',
      );
      expect(result.statusCode).toBe(200);
      expect(JSON.parse(result.body)).toMatchObject({ total: 1, cached: false });
    } finally {
      dynamo.standin.faults.reset();
    }
  });

  it('answers 503 when PostgreSQL is unreachable', async () => {
    const deadPool = new pg.Pool({
      connectionString: 'postgres://nobody:x@127.0.0.1:1/none',
      connectionTimeoutMillis: 500,
    });
    const result = await get(reader({ store: new PostgresSummaryStore(deadPool) }), 'acct-down');
    await deadPool.end();
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body).error.code).toBe('unavailable');
  });

  it('lets a burst of identical requests for a cold entry reach the database once', async () => {
    const summaryReader = reader();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => get(summaryReader, 'acct-burst', { window: 'last_7d' })),
    );
    expect(results.every((result) => result.statusCode === 200)).toBe(true);
    expect(countCalls).toBe(1);
  });

  it('keeps its claim once the entry is cached, and releases it when the entry could not be written', async () => {
    // Prepare: a cache that counts releases; the second reader's cache refuses every write.
    const real = new DynamoSummaryCache(dynamo.documents, dynamo.names.summaryCacheTable, () => clock);
    let releases = 0;
    const counted = (put: SummaryDependencies['cache']['put']): SummaryDependencies['cache'] => ({
      get: (key) => real.get(key),
      claim: (key, forMs) => real.claim(key, forMs),
      put,
      release: async (key) => {
        releases++;
        await real.release(key);
      },
    });

    // Act
    await get(reader({ cache: counted((key, body, ttl) => real.put(key, body, ttl)) }), 'acct-claim-ok');
    const afterSuccess = releases;
    await get(
      reader({
        cache: counted(async () => {
          throw new Error('throttled');
        }),
      }),
      'acct-claim-failed',
    );

    // Assert: no delete on the successful miss (the claim expires with the entry), one on failure.
    expect([afterSuccess, releases]).toEqual([0, 1]);
  });

  it('lets a burst on several instances reach the database once, through the shared claim', async () => {
    await writeEvents(writer(), deliveriesFor([event('acct-herd', 'h1', clock)]));
    // The instance that wins the claim computes only once the three others have found it held: the
    // burst is really concurrent, whatever the machine's speed.
    const shared = new DynamoSummaryCache(dynamo.documents, dynamo.names.summaryCacheTable, () => clock);
    let refused = 0;
    let allRefused!: () => void;
    const othersWaiting = new Promise<void>((resolve) => {
      allRefused = resolve;
    });
    const cache: SummaryDependencies['cache'] = {
      get: (key) => shared.get(key),
      put: (key, body, ttl) => shared.put(key, body, ttl),
      release: (key) => shared.release(key),
      claim: async (key, forMs) => {
        const won = await shared.claim(key, forMs);
        if (!won && ++refused === 3) allRefused();
        return won;
      },
    };
    const slow = {
      counts: async (...args: Parameters<PostgresSummaryStore['counts']>) => {
        // A second computation means the claim did not hold: let every one finish, and the test
        // fail on countCalls, at once rather than on a timeout.
        if (++countCalls > 1) allRefused();
        await othersWaiting;
        return store.counts(...args);
      },
      committedMessages: (keys: readonly string[]) => store.committedMessages(keys),
    };
    const instances = Array.from({ length: 4 }, () => reader({ store: slow, cache }));

    const results = await Promise.all(
      instances.map((instance) => get(instance, 'acct-herd', { window: 'last_7d' })),
    );

    expect(results.map((result) => result.statusCode)).toEqual([200, 200, 200, 200]);
    expect(new Set(results.map((result) => JSON.parse(result.body).total))).toEqual(new Set([1]));
    expect(countCalls).toBe(1);
  });

  it('keeps as_of before a held-back message until that message is counted', async () => {
    // Prepare: three requests; the middle one is queued and ledgered but not yet written.
    const account = 'acct-fresh';
    const received = [clock - 50_000, clock - 40_000, clock - 30_000];
    const batches = received.map((at, i) =>
      deliveriesFor([event(account, `m${i}`, at)], {
        receivedAt: new Date(at).toISOString(),
        requestId: `req-fresh-${i}`,
      }),
    );
    for (const batch of batches) await ledgerAsIngest(batch[0]!.body, account);
    await writeEvents(writer(), batches[0]!);
    await writeEvents(writer(), batches[2]!);

    // Act / Assess: the newest event is counted, yet as_of stays before the held-back one.
    const held = JSON.parse((await get(reader(), account, { window: 'last_1h' })).body);
    expect(held.total).toBe(2);
    expect(Date.parse(held.as_of)).toBeLessThanOrEqual(received[1]!);
    expect(Date.parse(held.as_of)).toBeLessThan(clock - 12_000);

    await writeEvents(writer(), batches[1]!);
    clock += 31_000;
    const released = JSON.parse((await get(reader(), account, { window: 'last_1h' })).body);
    expect(released.total).toBe(3);
    // Ingest's timeout (10 s) and the index-lag margin (2 s) behind now: nothing is pending.
    expect(Date.parse(released.as_of)).toBe(clock - 12_000);
  });

  it('does not wait for a message the writer committed but could not mark in the ledger', async () => {
    const account = 'acct-ledgerlag';
    const at = clock - 20_000;
    const batch = deliveriesFor([event(account, 'x', at)], { receivedAt: new Date(at).toISOString() });
    await ledgerAsIngest(batch[0]!.body, account);
    const failingLedger = {
      markCommitted: async () => {
        throw new Error('ledger down');
      },
      markDead: async () => {},
    };
    const outcome = await writeEvents({ ...writer(), ledger: failingLedger }, batch);
    expect(outcome.ledgerErrors).toBe(1);

    const summary = JSON.parse((await get(reader(), account)).body);

    expect(Date.parse(summary.as_of)).toBe(clock - 12_000);
  });

  it('stops waiting for a message whose send was never confirmed, once its short expiry passed', async () => {
    const account = 'acct-unsent';
    const sentAt = new Date(clock - 60_000).toISOString();
    const message = parseQueueMessage(
      deliveriesFor([event(account, 'u', clock)], { receivedAt: sentAt })[0]!.body,
    );
    const entry = { messageKey: message.message_key, accountId: account, receivedAt: message.received_at };
    await ledger.markSending([entry]);

    const during = JSON.parse((await get(reader(), account)).body);
    clock += 11 * 60_000;
    const after = JSON.parse((await get(reader(), account)).body);

    expect(Date.parse(during.as_of)).toBe(Date.parse(message.received_at));
    expect(Date.parse(after.as_of)).toBe(clock - 12_000);
  });

  it('waits again for DLQ messages revived for a re-drive, until they are committed', async () => {
    const account = 'acct-redrive';
    const batch = deliveriesFor([event(account, 'r', clock - 60_000)], {
      receivedAt: new Date(clock - 60_000).toISOString(),
    });
    const entry = await ledgerAsIngest(batch[0]!.body, account);
    await ledger.markDead([entry]);
    const whileDead = JSON.parse((await get(reader(), account)).body);

    expect(await ledger.reviveDead(clock - 86_400_000)).toBeGreaterThanOrEqual(1);
    clock += 31_000;
    const revived = JSON.parse((await get(reader(), account)).body);
    await writeEvents(writer(), batch);
    clock += 31_000;
    const counted = JSON.parse((await get(reader(), account)).body);

    expect(Date.parse(whileDead.as_of)).toBe(clock - 62_000 - 12_000);
    expect(Date.parse(revived.as_of)).toBe(clock - 60_000 - 62_000);
    expect([revived.total, counted.total]).toEqual([0, 1]);
    expect(Date.parse(counted.as_of)).toBe(clock - 12_000);
  });

  it('waits for a message in flight behind a page of expired ones (ingests that never confirmed)', async () => {
    // Prepare: 60 messages marked sending an hour ago and never confirmed (expired, but still in
    // the index: TTL deletion lags), then one real message in flight, more recent.
    const account = 'acct-expired-page';
    const started = clock;
    clock = started - 3_600_000;
    await ledger.markSending(
      Array.from({ length: 60 }, (_, i) => ({
        messageKey: `abandoned:${i}`,
        accountId: account,
        receivedAt: new Date(clock + i).toISOString(),
      })),
    );
    clock = started;
    const inFlight = {
      messageKey: 'real:0',
      accountId: account,
      receivedAt: new Date(clock - 30_000).toISOString(),
    };
    await ledger.markSending([inFlight]);
    await ledger.markSent([inFlight]);

    // Act
    const body = JSON.parse((await get(reader(), account)).body);

    // Assert: as_of waits for the real message (the expired ones are skipped, not taken as "none").
    expect(Date.parse(body.as_of)).toBe(clock - 30_000);
  });

  it('records a message SQS delivered twice in one batch (BatchWriteItem refuses a key named twice)', async () => {
    const entry = {
      messageKey: 'twice:0',
      accountId: 'acct-twice',
      receivedAt: new Date(clock).toISOString(),
    };
    await ledger.markSending([entry]);

    await ledger.markDead([entry, entry]);
    await ledger.markCommitted([entry.messageKey, entry.messageKey]);

    expect(await ledger.oldestPending('acct-twice', 10)).toEqual({ messages: [] });
  });

  it('falls back to the queue retention as as_of when the ledger is unreachable', async () => {
    const result = await get(
      reader({
        ledger: {
          oldestPending: async () => {
            throw new Error('down');
          },
        },
      }),
      'acct-noledger',
    );
    expect(Date.parse(JSON.parse(result.body).as_of)).toBe(clock - 4 * 86_400_000);
  });
});
