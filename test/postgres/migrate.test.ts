import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from '../../lambdas/adapters/postgres/migrate';
import { createTestDatabase, type TestDatabase } from '../support/database';

describe('Function: migrate', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await db.drop();
  });

  it('applies every migration once when two runners race, and again is a no-op', async () => {
    // Prepare
    const clients = [
      new pg.Client({ connectionString: db.url }),
      new pg.Client({ connectionString: db.url }),
    ];
    await Promise.all(clients.map((client) => client.connect()));
    const all = await loadMigrations();

    // Act
    const results = await Promise.all(clients.map((client) => migrate(client)));
    const again = await migrate(clients[0]!);
    await Promise.all(clients.map((client) => client.end()));

    // Assess
    const appliedTotal = results.flatMap((result) => result.applied);
    expect(appliedTotal.sort()).toEqual(all.map((m) => m.version).sort());
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toHaveLength(all.length);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0].n).toBe(all.length);
  });

  it('refuses to run when an applied migration was edited', async () => {
    const all = await loadMigrations();
    const edited = all.map((m, i) => (i === 0 ? { ...m, checksum: 'edited' } : m));
    const client = await db.pool.connect();
    try {
      await expect(migrate(client, edited)).rejects.toThrow(/was changed after it was applied/);
    } finally {
      client.release();
    }
  });

  it('rolls back a failing migration and records nothing for it', async () => {
    const broken = [
      ...(await loadMigrations()),
      { version: '9999', name: 'broken', sql: 'CREATE TABLE half_done (id int); SELECT 1/0;', checksum: 'x' },
    ];
    const client = await db.pool.connect();
    try {
      await expect(migrate(client, broken)).rejects.toThrow(/9999_broken failed: division by zero/);
    } finally {
      client.release();
    }
    const { rows } = await db.pool.query(
      "SELECT to_regclass('half_done') AS t, (SELECT count(*)::int FROM schema_migrations WHERE version = '9999') AS n",
    );
    expect(rows[0]).toEqual({ t: null, n: 0 });
  });

  it('keeps every later migration additive (expand/contract)', async () => {
    // A destructive statement is allowed only with an explicit "-- contract:" note saying which
    // release stopped using what it removes.
    const destructive = /\b(DROP\s+(TABLE|COLUMN)|RENAME\s+(TO|COLUMN)|ALTER\s+COLUMN\s+\w+\s+TYPE)\b/i;
    for (const migration of await loadMigrations()) {
      const offending = migration.sql
        .split('\n')
        .filter((line) => !line.trimStart().startsWith('--'))
        .filter((line) => destructive.test(line));
      if (offending.length > 0) expect(migration.sql).toMatch(/-- contract:/);
    }
  });
});
