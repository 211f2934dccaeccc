import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../lambdas/adapters/postgres/event-store';
import { maintainPartitions } from '../../lambdas/adapters/postgres/partition-maintenance';
import { addDays, DAY_MS, utcDay } from '../../lambdas/core/time-buckets';
import { writeEvents } from '../../lambdas/use-cases/write-events';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ignoredLedger } from '../support/ledgers';
import { silentLog as silent } from '../support/logs';
import { deliveriesFor, event } from '../support/queue-messages';

describe('Function: maintainPartitions', () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  async function partitionDays(): Promise<string[]> {
    const { rows } = await pool.query<{ d: string }>(
      "SELECT to_char(d, 'YYYY-MM-DD') AS d FROM firehose_event_partition_days() d",
    );
    return rows.map((row) => row.d);
  }

  it('creates partitions ahead, drops expired ones with their keys, and keeps the rest', async () => {
    // Prepare: events on day -10 and day -2, written while both were within retention.
    const now = Date.now();
    const settings = { rawRetentionDays: 90, partitionsAheadDays: 7, maxReceiveCount: 5 };
    const old = [event('acct-a', 'old-1', now - 10 * DAY_MS), event('acct-b', 'old-2', now - 10 * DAY_MS)];
    const recent = [event('acct-a', 'recent-1', now - 2 * DAY_MS)];
    await writeEvents(
      { store: new PostgresEventStore(pool), ledger: ignoredLedger, settings, log: silent },
      deliveriesFor([...old, ...recent]),
    );

    // Act: maintenance with a raw retention of 5 days and rollups of 9 days.
    const result = await maintainPartitions(
      pool,
      { rawRetentionDays: 5, rollupRetentionDays: 9, aheadDays: 3 },
      now,
    );

    // Assess
    const today = utcDay(now);
    // The writer created every day from -10 to -2; retention 5 keeps -4 onwards.
    const expectedDropped = [-10, -9, -8, -7, -6, -5].map(
      (d) => `events_p${addDays(today, d).replaceAll('-', '')}`,
    );
    expect(result.dropped).toEqual(expectedDropped);
    expect(result.keysDeleted).toBe(2);
    const days = await partitionDays();
    expect(days).toContain(addDays(today, 3));
    expect(days).not.toContain(addDays(today, -10));
    const { rows: keys } = await pool.query('SELECT event_id FROM event_keys ORDER BY 1');
    expect(keys).toEqual([{ event_id: 'recent-1' }]);
    const { rows: rollupDays } = await pool.query(
      "SELECT DISTINCT to_char(day, 'YYYY-MM-DD') AS day FROM rollup_user_day",
    );
    expect(rollupDays).toEqual([{ day: addDays(today, -2) }]);
  });

  it('finishes a run that died after detaching a partition', async () => {
    const now = Date.now();
    const day = addDays(utcDay(now), -30);
    await pool.query('SELECT firehose_ensure_partitions($1::date, $1::date)', [day]);
    const table = `events_p${day.replaceAll('-', '')}`;
    await pool.query(
      `INSERT INTO events (account_id, event_id, user_id, type, event_time, received_at) VALUES ('a', 'x', 'u', 't', $1, now())`,
      [`${day}T12:00:00Z`],
    );
    await pool.query(`INSERT INTO event_keys VALUES ('a', 'x')`);
    await pool.query(`ALTER TABLE events DETACH PARTITION ${table}`);

    const result = await maintainPartitions(
      pool,
      { rawRetentionDays: 20, rollupRetentionDays: 400, aheadDays: 1 },
      now,
    );

    expect(result.dropped).toContain(table);
    const { rows } = await pool.query(
      "SELECT to_regclass($1) AS t, (SELECT count(*)::int FROM event_keys WHERE event_id = 'x') AS keys",
      [table],
    );
    expect(rows[0]).toEqual({ t: null, keys: 0 });
  });
});
