/**
 * Migration 0004 on a database that already ran: days maintenance dropped before the floor existed
 * must not be created again, so the floor starts after the latest day that has rollups (it was
 * written) but no partition (it was dropped).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from '../../lambdas/adapters/postgres/migrate';
import { addDays, utcDay } from '../../lambdas/core/time-buckets';
import { createTestDatabase, type TestDatabase } from '../support/database';

describe('Migration: 0004 retention floor', () => {
  let db: TestDatabase;
  const today = utcDay(Date.now());

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await db.drop();
  });

  async function floor(): Promise<string> {
    const { rows } = await db.pool.query(
      "SELECT to_char(first_kept_day, 'YYYY-MM-DD') AS day FROM event_retention",
    );
    return rows[0].day;
  }

  it('starts the floor after the latest day that was written and then dropped', async () => {
    // Prepare: the schema before 0004; 20 days of partitions; rollups on days -20, -15 and -3; old
    // maintenance then dropped days -20 to -10 (their rollups stay, kept 400 days).
    const all = await loadMigrations();
    const client = await db.pool.connect();
    try {
      await migrate(
        client,
        all.filter((migration) => migration.version < '0004'),
      );
      await client.query('SELECT firehose_ensure_partitions($1::date, $2::date)', [
        addDays(today, -20),
        addDays(today, -1),
      ]);
      for (const daysAgo of [20, 15, 3]) {
        await client.query(
          "INSERT INTO rollup_type_day (account_id, day, type, events) VALUES ('a', $1::date, 't', 1)",
          [addDays(today, -daysAgo)],
        );
      }
      for (let daysAgo = 20; daysAgo >= 10; daysAgo--) {
        await client.query(`DROP TABLE events_p${addDays(today, -daysAgo).replaceAll('-', '')}`);
      }

      // Act
      await migrate(client, all);
    } finally {
      client.release();
    }

    // Assert: day -15 was dropped (rollups, no partition): the floor is the day after it. Day -3
    // still has its partition, and days -14 to -10 were dropped but never written (nothing to lose).
    expect(await floor()).toBe(addDays(today, -14));
    const { rows } = await db.pool.query('SELECT firehose_ensure_partitions($1::date, $1::date) AS n', [
      addDays(today, -15),
    ]);
    expect(rows[0].n).toBe(0);
  });

  it('starts at 1970-01-01 on a new database (nothing was ever dropped)', async () => {
    const fresh = await createTestDatabase();
    try {
      const { rows } = await fresh.pool.query(
        "SELECT to_char(first_kept_day, 'YYYY-MM-DD') AS day FROM event_retention",
      );
      expect(rows[0].day).toBe('1970-01-01');
    } finally {
      await fresh.drop();
    }
  });
});
