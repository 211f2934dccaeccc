import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PostgresEventStore } from '../../lambdas/adapters/postgres/event-store';
import { maintainPartitions } from '../../lambdas/adapters/postgres/partition-maintenance';
import { addDays, DAY_MS, utcDay } from '../../lambdas/core/time-buckets';
import { writeEvents } from '../../lambdas/use-cases/write-events';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ignoredLedger } from '../support/ledgers';
import { silentLog as silent } from '../support/logs';
import { deliveriesFor, event, redelivered } from '../support/queue-messages';
import { readStoreState } from '../support/store-state';
import { waitFor } from '../support/wait';
import { WRITER_SETTINGS } from '../support/writers';

describe('Function: maintainPartitions', () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = db.pool;
  });
  afterAll(async () => {
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
    const old = [event('acct-a', 'old-1', now - 10 * DAY_MS), event('acct-b', 'old-2', now - 10 * DAY_MS)];
    const recent = [event('acct-a', 'recent-1', now - 2 * DAY_MS)];
    await writeEvents(
      { store: new PostgresEventStore(pool), ledger: ignoredLedger, settings: WRITER_SETTINGS, log: silent },
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
    // Its own database: the first test raised the retention floor of the shared one past day -30.
    const own = await createTestDatabase();
    try {
      const now = Date.now();
      const day = addDays(utcDay(now), -30);
      await own.pool.query('SELECT firehose_ensure_partitions($1::date, $1::date)', [day]);
      const table = `events_p${day.replaceAll('-', '')}`;
      await own.pool.query(
        `INSERT INTO events (account_id, event_id, user_id, type, event_time, received_at) VALUES ('a', 'x', 'u', 't', $1, now())`,
        [`${day}T12:00:00Z`],
      );
      await own.pool.query(`INSERT INTO event_keys VALUES ('a', 'x')`);
      await own.pool.query(`ALTER TABLE events DETACH PARTITION ${table}`);

      const result = await maintainPartitions(
        own.pool,
        { rawRetentionDays: 20, rollupRetentionDays: 400, aheadDays: 1 },
        now,
      );

      expect(result.dropped).toContain(table);
      const { rows } = await own.pool.query(
        "SELECT to_regclass($1) AS t, (SELECT count(*)::int FROM event_keys WHERE event_id = 'x') AS keys",
        [table],
      );
      expect(rows[0]).toEqual({ t: null, keys: 0 });
    } finally {
      await own.drop();
    }
  });
});

describe('Maintenance runs: one at a time, never blocking writers', () => {
  let db: TestDatabase;
  const now = Date.now();
  const settings = { rawRetentionDays: 20, rollupRetentionDays: 400, aheadDays: 1 };

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  /** An expired day partition holding one event and its key. */
  async function expiredDay(daysAgo: number): Promise<string> {
    const day = addDays(utcDay(now), -daysAgo);
    // Created directly: firehose_ensure_partitions refuses days before the floor an earlier run set.
    await db.pool.query(
      `CREATE TABLE events_p${day.replaceAll('-', '')} PARTITION OF events
       FOR VALUES FROM ('${day} 00:00:00+00') TO ('${addDays(day, 1)} 00:00:00+00')`,
    );
    await db.pool.query(
      `INSERT INTO events (account_id, event_id, user_id, type, event_time, received_at) VALUES ('a', $1, 'u', 't', $2, now())`,
      [`old-${daysAgo}`, `${day}T12:00:00Z`],
    );
    await db.pool.query('INSERT INTO event_keys VALUES ($1, $2)', ['a', `old-${daysAgo}`]);
    return `events_p${day.replaceAll('-', '')}`;
  }

  it('does nothing while another run holds the lock', async () => {
    const holder = await db.pool.connect();
    try {
      await holder.query("SELECT pg_advisory_lock(hashtext('firehose.maintenance'))");

      const result = await maintainPartitions(db.pool, settings, now);

      expect(result).toEqual({
        created: 0,
        dropped: [],
        keysDeleted: 0,
        rollupRowsDeleted: 0,
        alreadyRunning: true,
      });
    } finally {
      await holder.query("SELECT pg_advisory_unlock(hashtext('firehose.maintenance'))");
      holder.release();
    }
  });

  it('finishes a detach that was interrupted half-way (pending), then drops the day and its keys', async () => {
    // Prepare: a reader's open transaction makes DETACH CONCURRENTLY wait in its second phase; it is
    // cancelled there, which leaves the partition "detach pending".
    const table = await expiredDay(40);
    const reader = await db.pool.connect();
    const detacher = await db.pool.connect();
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM events');
      const { rows } = await detacher.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const detaching = detacher.query(`ALTER TABLE events DETACH PARTITION ${table} CONCURRENTLY`);
      // Expect the rejection before causing it: it may arrive before the cancel's own answer does.
      const cancelled = expect(detaching).rejects.toThrow(/cancel/);
      await waitFor('the detach to be pending', async () => (await pendingDetach(table)) === true, {
        intervalMs: 20,
      });
      await db.pool.query('SELECT pg_cancel_backend($1)', [rows[0]!.pid]);
      await cancelled;
    } finally {
      await reader.query('COMMIT');
      reader.release();
      detacher.release();
    }
    expect(await pendingDetach(table)).toBe(true);

    // Act
    const result = await maintainPartitions(db.pool, settings, now);

    // Assert
    expect(result.dropped).toContain(table);
    const { rows } = await db.pool.query(
      "SELECT to_regclass($1) AS t, (SELECT count(*)::int FROM event_keys WHERE event_id = 'old-40') AS keys",
      [table],
    );
    expect(rows[0]).toEqual({ t: null, keys: 0 });
  });

  it('lets a writer insert while a day is being detached', async () => {
    // Prepare: an open transaction that has read events keeps the concurrent detach waiting.
    const table = await expiredDay(41);
    const reader = await db.pool.connect();
    await reader.query('BEGIN');
    await reader.query('SELECT count(*) FROM events');
    try {
      const maintaining = maintainPartitions(db.pool, settings, now);
      await waitFor('the detach to be pending', async () => (await pendingDetach(table)) === true, {
        intervalMs: 20,
      });

      // Act: a writer's insert into a kept day, with a short lock timeout to show it does not wait.
      const writer = await db.pool.connect();
      try {
        await writer.query('BEGIN');
        await writer.query("SET LOCAL lock_timeout = '2s'");
        await writer.query(
          `INSERT INTO events (account_id, event_id, user_id, type, event_time, received_at) VALUES ('a', 'fresh', 'u', 't', now(), now())`,
        );
        await writer.query('COMMIT');
      } finally {
        writer.release();
      }

      // Assert: the insert went through during the detach, which then completes.
      await reader.query('COMMIT');
      expect((await maintaining).dropped).toContain(table);
    } finally {
      await reader.query('ROLLBACK').catch(() => undefined);
      reader.release();
    }
  });

  async function pendingDetach(table: string): Promise<boolean | undefined> {
    const { rows } = await db.pool.query<{ pending: boolean }>(
      'SELECT inhdetachpending AS pending FROM pg_inherits WHERE inhrelid = to_regclass($1)',
      [table],
    );
    return rows[0]?.pending;
  }
});

describe('Retention floor: a dropped day is never created again', () => {
  let db: TestDatabase;
  const now = Date.now();
  const tenDaysAgo = addDays(utcDay(now), -10);
  const writer = (rawRetentionDays: number) => ({
    store: new PostgresEventStore(db.pool),
    ledger: ignoredLedger,
    settings: { rawRetentionDays, partitionsAheadDays: 7, maxReceiveCount: 5 },
    log: silent,
    now: () => now,
  });

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('sets a redelivery aside, every rollup unchanged, even for a writer that keeps days longer', async () => {
    // Prepare: an event 10 days old, written and counted; then maintenance keeps only 5 days.
    const old = event('acct-a', 'late-1', `${tenDaysAgo}T08:30:00.000Z`);
    const deliveries = deliveriesFor([old]);
    expect(await writeEvents(writer(90), deliveries)).toMatchObject({ inserted: 1, failedMessageIds: [] });
    await maintainPartitions(db.pool, { rawRetentionDays: 5, rollupRetentionDays: 400, aheadDays: 3 }, now);
    const before = await readStoreState(db.pool);
    expect(before.events.size).toBe(0); // the raw day is gone, its key with it
    expect(before.userDays.get(`acct-a|user-1|${tenDaysAgo}`)).toMatch(/^1\|/);

    // Act: SQS delivers the message again (or the DLQ is re-driven) to a writer whose own setting
    // would still store that day: a rolling deploy, or a retention being raised.
    const again = await writeEvents(writer(90), redelivered(deliveries));

    // Assert: set aside as too old; nothing recreated; every rollup exactly as before.
    expect(again).toMatchObject({ failedMessageIds: [], inserted: 0, skipped: 1 });
    expect(await readStoreState(db.pool)).toEqual(before);
    const { rows } = await db.pool.query(
      'SELECT to_regclass($1) AS partition, (SELECT reason FROM skipped_events) AS reason',
      [`events_p${tenDaysAgo.replaceAll('-', '')}`],
    );
    expect(rows[0]).toEqual({ partition: null, reason: 'older_than_retention' });
  });

  it('sets a redelivery aside with the same writer instance, whose floor and partition list were cached', async () => {
    // Its own database: the other tests here have already raised this one's floor.
    const own = await createTestDatabase();
    try {
      // Prepare: one store instance writes, caching the floor and the partition list; then
      // maintenance (with a shorter retention, as after a change) raises the floor and drops the day.
      const day = addDays(utcDay(now), -12);
      const sameWriter = {
        store: new PostgresEventStore(own.pool),
        ledger: ignoredLedger,
        settings: WRITER_SETTINGS,
        log: silent,
        now: () => now,
      };
      const deliveries = deliveriesFor([event('acct-b', 'cached-1', `${day}T09:00:00.000Z`)]);
      expect(await writeEvents(sameWriter, deliveries)).toMatchObject({ inserted: 1 });
      await maintainPartitions(
        own.pool,
        { rawRetentionDays: 10, rollupRetentionDays: 400, aheadDays: 3 },
        now,
      );
      const before = await readStoreState(own.pool);

      // Act: the same instance gets the redelivery (its insert hits the missing partition, 23514).
      const again = await writeEvents(sameWriter, redelivered(deliveries));

      // Assert: re-planned with the new floor, set aside, nothing counted twice.
      expect(again).toMatchObject({ failedMessageIds: [], inserted: 0, skipped: 1 });
      expect(await readStoreState(own.pool)).toEqual(before);
    } finally {
      await own.drop();
    }
  });

  it('re-plans before copying anything when its cached floor is behind maintenance', async () => {
    const own = await createTestDatabase();
    try {
      // Prepare: the instance caches the floor with a first write; maintenance then raises it to
      // day -9. A late event of day -12 had no partition then, and may not get one now.
      const store = new PostgresEventStore(own.pool);
      const writeBatch = vi.spyOn(store, 'writeBatch');
      const sameWriter = {
        store,
        ledger: ignoredLedger,
        settings: WRITER_SETTINGS,
        log: silent,
        now: () => now,
      };
      await writeEvents(sameWriter, deliveriesFor([event('acct-c', 'today-1', now)]));
      await maintainPartitions(
        own.pool,
        { rawRetentionDays: 10, rollupRetentionDays: 400, aheadDays: 3 },
        now,
      );
      writeBatch.mockClear();

      // Act
      const late = event('acct-c', 'late-12', `${addDays(utcDay(now), -12)}T09:00:00.000Z`);
      const outcome = await writeEvents(sameWriter, deliveriesFor([late]));

      // Assert: set aside as too old, in one COPY (the refused day is known before copying).
      expect(outcome).toMatchObject({ failedMessageIds: [], inserted: 0, skipped: 1 });
      expect(writeBatch).toHaveBeenCalledTimes(1);
    } finally {
      await own.drop();
    }
  });

  it('refuses a floor after today (it would set every event aside for good)', async () => {
    await expect(db.pool.query('SELECT firehose_raise_retention_floor(current_date + 1)')).rejects.toThrow(
      /after today/,
    );
  });

  it('gives up creating a partition after its lock timeout while maintenance holds events', async () => {
    // Prepare: a detach in progress holds SHARE UPDATE EXCLUSIVE on events.
    const detaching = await db.pool.connect();
    try {
      await detaching.query('BEGIN');
      await detaching.query('LOCK TABLE events IN SHARE UPDATE EXCLUSIVE MODE');

      // Act + Assert: a writer needing a new day fails fast (its batch is retried), not after 25 s.
      const started = Date.now();
      await expect(
        db.pool.query('SELECT firehose_ensure_partitions(current_date + 5, current_date + 5)'),
      ).rejects.toMatchObject({ code: '55P03' });
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await detaching.query('ROLLBACK');
      detaching.release();
    }
  });

  it('refuses to create a partition before the floor, whoever asks, and never lowers the floor', async () => {
    // Prepare: a floor 4 days back (idempotent: the first test of this block may have raised it already).
    await maintainPartitions(db.pool, { rawRetentionDays: 5, rollupRetentionDays: 400, aheadDays: 3 }, now);

    // Act: ask for the dropped day directly, and run maintenance with a longer retention.
    const { rows: created } = await db.pool.query(
      'SELECT firehose_ensure_partitions($1::date, $1::date) AS n',
      [tenDaysAgo],
    );
    await maintainPartitions(db.pool, { rawRetentionDays: 90, rollupRetentionDays: 400, aheadDays: 3 }, now);

    // Assert
    expect(created[0].n).toBe(0);
    expect(await new PostgresEventStore(db.pool).firstKeptDay()).toBe(addDays(utcDay(now), -4));
  });
});
