/**
 * Test databases are dropped only once nothing is connected to them: dropping WITH (FORCE) under a
 * closing pool crashed a CI run (57P01 re-emitted by the ended pool).
 */
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../support/database';
import { dropDatabaseOnceClosed } from '../support/drop-database';

describe('Test support: dropping a test database', () => {
  async function exists(name: string): Promise<boolean> {
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    try {
      return (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
    } finally {
      await admin.end();
    }
  }

  it('drops the database right after its pool ended, without disturbing the closing clients', async () => {
    // Prepare: every connection of the pool in use once, so all four are closing at the drop.
    const db = await createTestDatabase();
    await Promise.all([1, 2, 3, 4].map(() => db.pool.query('SELECT pg_sleep(0.01)')));
    const errors: unknown[] = [];
    db.pool.on('error', (error) => errors.push(error));

    // Act
    await db.drop();

    // Assess
    expect(await exists(db.name)).toBe(false);
    expect(errors).toEqual([]);
  });

  it('refuses, naming the database, while a pool is still open on it', async () => {
    const db = await createTestDatabase();
    await db.pool.query('SELECT 1');
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    try {
      await expect(dropDatabaseOnceClosed(admin, db.name, { timeoutMs: 300 })).rejects.toThrow(
        new RegExp(`connections to ${db.name} to close \\(end every pool`),
      );
      expect(await exists(db.name)).toBe(true);
    } finally {
      await admin.end();
      await db.drop();
    }
  });
});
