/**
 * Summaries against an independent count over the distinct events, for every window, with events
 * on hour boundaries, late events and duplicates. Real PostgreSQL and dynalite.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoMessageLedger } from '../../lambdas/adapters/dynamodb/message-ledger';
import { PostgresEventStore } from '../../lambdas/adapters/postgres/event-store';
import { PostgresSummaryStore } from '../../lambdas/adapters/postgres/summary-store';
import { parseSummaryQuery } from '../../lambdas/core/summary-window';
import { DAY_MS, floorToHour, HOUR_MS } from '../../lambdas/core/time-buckets';
import { type Summary, SummaryReader } from '../../lambdas/use-cases/summarize';
import { writeEvents } from '../../lambdas/use-cases/write-events';
import { ingestAuth } from '../support/api-gateway-events';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { ignoredLedger } from '../support/ledgers';
import { silentLog as silent } from '../support/logs';
import { deliveriesFor, event } from '../support/queue-messages';
import type { StoredEvent } from '../support/store-state';
import { WRITER_SETTINGS } from '../support/writers';

const NOW = Date.now();

/** The expected summary, computed from the events themselves (first delivery of an id wins). */
function expectedSummary(
  delivered: readonly StoredEvent[],
  account: string,
  fromMs: number,
  toMs: number,
  top: number,
) {
  const firsts = new Map<string, StoredEvent>();
  for (const e of delivered)
    if (e.account_id === account && !firsts.has(e.event_id)) firsts.set(e.event_id, e);
  const totals: Record<string, number> = {};
  const users = new Map<string, number>();
  for (const e of firsts.values()) {
    const time = Date.parse(e.timestamp);
    if (time < fromMs || time >= toMs) continue;
    totals[e.type] = (totals[e.type] ?? 0) + 1;
    users.set(e.user_id, (users.get(e.user_id) ?? 0) + 1);
  }
  const topUsers = [...users]
    .map(([user_id, events]) => ({ user_id, events }))
    .sort((a, b) => b.events - a.events || (a.user_id < b.user_id ? -1 : 1))
    .slice(0, top);
  return { totals, total: Object.values(totals).reduce((a, b) => a + b, 0), top_users: topUsers };
}

describe('Use case: SummaryReader exactness', () => {
  let db: TestDatabase;
  let dynamo: TestDynamo;
  let pool: pg.Pool;
  let reader: SummaryReader;
  const delivered: StoredEvent[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    dynamo = await startTestDynamo();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    reader = new SummaryReader({
      store: new PostgresSummaryStore(pool),
      cache: {
        get: async () => undefined,
        put: async () => undefined,
        claim: async () => true,
        release: async () => undefined,
      },
      ledger: new DynamoMessageLedger(dynamo.documents, dynamo.names.ledgerTable),
      settings: { cacheTtlSeconds: 30, maxRangeDays: 90, ingestTimeoutSeconds: 10, queueRetentionDays: 4 },
      log: silent,
      now: () => NOW,
    });

    // A whale with Zipf-like users, a small account, and a flat account (all users nearly tied).
    const hour = floorToHour(NOW);
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const types = ['page_view', 'click', 'purchase', 'signup'];
    for (let i = 0; i < 6000; i++) {
      // Over the 89 days before today (all within raw retention, so none is set aside), most recent.
      const age = Math.floor(random() ** 2 * 88.9 * DAY_MS);
      const user = `u${Math.floor(1 / (random() + 0.002))}`;
      delivered.push(event('acct-whale', `w${i}`, NOW - age, user, types[i % 4]));
    }
    for (let i = 0; i < 300; i++) {
      delivered.push(
        event('acct-small', `s${i}`, NOW - Math.floor(random() * 8 * DAY_MS), `u${i % 7}`, types[i % 3]),
      );
    }
    for (let i = 0; i < 900; i++) {
      delivered.push(
        event(
          'acct-flat',
          `f${i}`,
          NOW - Math.floor(random() * 2 * DAY_MS),
          `user-${String(i % 300).padStart(3, '0')}`,
          'click',
        ),
      );
    }
    // Exactly on hour boundaries: the first instant of a window counts, the end does not.
    for (const [i, offset] of [0, 1, 24, 25, 24 * 7 + 1, 24 * 7].entries()) {
      delivered.push(event('acct-small', `edge${i}`, hour - offset * HOUR_MS, 'u-edge', 'edge'));
    }
    delivered.push(event('acct-small', 'edge-end', hour + HOUR_MS, 'u-edge', 'edge'));
    // Duplicates: the same id again (first timestamp wins), and a redelivered copy.
    delivered.push({
      ...delivered[10]!,
      timestamp: new Date(NOW - 3 * DAY_MS).toISOString(),
      type: 'changed',
    });
    delivered.push(delivered[20]!);

    const deps = {
      store: new PostgresEventStore(pool),
      ledger: ignoredLedger,
      log: silent,
      now: () => NOW,
      settings: WRITER_SETTINGS,
    };
    // In order, in batches; late events (the old ones) land in past hours.
    for (let i = 0; i < delivered.length; i += 700) {
      const outcome = await writeEvents(
        deps,
        deliveriesFor(delivered.slice(i, i + 700), { receivedAt: new Date(NOW - 1000).toISOString() }),
      );
      expect(outcome.failedMessageIds).toEqual([]);
    }
  }, 120_000);

  afterAll(async () => {
    await pool.end();
    await db.drop();
    await dynamo.stop();
  });

  async function read(
    account: string,
    query: Record<string, string>,
  ): Promise<Summary & { attempts: number }> {
    const { summary, attempts } = await reader.read({
      auth: ingestAuth({ accountId: account }),
      accountId: account,
      query,
    });
    return { ...summary, attempts };
  }

  const windows = [
    { window: 'last_1h' },
    { window: 'last_24h' },
    { window: 'last_7d' },
    { window: 'last_30d' },
  ];

  for (const account of ['acct-whale', 'acct-small', 'acct-flat']) {
    for (const query of [...windows, { window: 'last_7d', top: '100' }, { window: 'last_24h', top: '1' }]) {
      it(`matches an independent count for ${account} ${JSON.stringify(query)}`, async () => {
        const { window, top } = parseSummaryQuery(query, NOW, 90);
        const summary = await read(account, query);
        const expected = expectedSummary(delivered, account, window.fromMs, window.toMs, top);
        expect(summary.totals).toEqual(expected.totals);
        expect(summary.total).toBe(expected.total);
        expect(summary.top_users).toEqual(expected.top_users);
        expect(summary.from).toBe(new Date(window.fromMs).toISOString());
        expect(summary.to).toBe(new Date(window.toMs).toISOString());
      });
    }
  }

  it('matches an independent count for custom ranges, including partial days at both ends', async () => {
    const hour = floorToHour(NOW);
    for (const [fromHours, toHours] of [
      [24 * 20 + 5, 24 * 3 + 7],
      [49, 1],
      [24 * 33, 0],
      [24 * 90, 0], // the longest range allowed
      [24 * 89 + 7, 7], // nearly as long, partial days at both ends
      [3, 2],
    ] as const) {
      const from = new Date(hour - fromHours * HOUR_MS).toISOString();
      const to = new Date(hour - toHours * HOUR_MS).toISOString();
      for (const account of ['acct-whale', 'acct-small']) {
        const summary = await read(account, { from, to, top: '20' });
        const expected = expectedSummary(delivered, account, Date.parse(from), Date.parse(to), 20);
        expect({ totals: summary.totals, top: summary.top_users }).toEqual({
          totals: expected.totals,
          top: expected.top_users,
        });
      }
    }
  });

  it('keeps searching when the first lists cannot prove the top users (near-ties) and stays exact', async () => {
    const summary = await read('acct-flat', { window: 'last_7d', top: '11' });
    expect(summary.attempts).toBeGreaterThan(1);
    const { window } = parseSummaryQuery({ window: 'last_7d' }, NOW, 90);
    expect(summary.top_users).toEqual(
      expectedSummary(delivered, 'acct-flat', window.fromMs, window.toMs, 11).top_users,
    );
  });

  it('agrees with a GROUP BY over the raw events', async () => {
    const { window } = parseSummaryQuery({ window: 'last_7d' }, NOW, 90);
    const { rows } = await pool.query(
      `SELECT user_id, count(*)::int AS events FROM events
       WHERE account_id = 'acct-whale' AND event_time >= $1 AND event_time < $2
       GROUP BY user_id ORDER BY events DESC, user_id COLLATE "C" LIMIT 10`,
      [new Date(window.fromMs), new Date(window.toMs)],
    );
    expect((await read('acct-whale', { window: 'last_7d' })).top_users).toEqual(rows);
  });

  it('answers zeros, not 404, for an account with no events', async () => {
    const summary = await read('acct-empty', { window: 'last_24h' });
    expect(summary).toMatchObject({ totals: {}, total: 0, top_users: [], cached: false });
  });
});
