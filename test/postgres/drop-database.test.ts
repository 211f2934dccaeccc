/**
 * Test databases are dropped only once nothing is connected to them: dropping WITH (FORCE) under a
 * closing pool crashed a CI run (57P01 re-emitted by the ended pool).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { databaseUrl } from '../support/database-url';
import { dropDatabaseOnceClosed } from '../support/drop-database';

describe('Test support: dropDatabaseOnceClosed', () => {
  const adminUrl = inject('adminDatabaseUrl');
  let admin: pg.Client;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.end();
  });

  async function databaseWithPool(): Promise<{ name: string; pool: pg.Pool }> {
    const name = `test_drop_${randomBytes(4).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const pool = new pg.Pool({ connectionString: databaseUrl(adminUrl, name), max: 4 });
    await Promise.all([1, 2, 3, 4].map(() => pool.query('SELECT pg_sleep(0.01)')));
    return { name, pool };
  }

  const exists = async (name: string) =>
    (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;

  it('drops a database right after its pool ended, without disturbing the closing clients', async () => {
    const { name, pool } = await databaseWithPool();
    const errors: unknown[] = [];
    pool.on('error', (error) => errors.push(error));

    await pool.end();
    await dropDatabaseOnceClosed(admin, name);

    expect(await exists(name)).toBe(false);
    expect(errors).toEqual([]);
  });

  it('refuses, naming the database, while a pool is still open on it', async () => {
    const { name, pool } = await databaseWithPool();
    try {
      await expect(dropDatabaseOnceClosed(admin, name, { timeoutMs: 300 })).rejects.toThrow(
        new RegExp(`connections to ${name} to close \\(end every pool`),
      );
      expect(await exists(name)).toBe(true);
    } finally {
      await pool.end();
      await dropDatabaseOnceClosed(admin, name);
    }
  });
});
