/**
 * A fresh, migrated database for one test file, on the run's shared server (a copy of the template
 * test/support/global-setup.ts migrated). Dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { databaseUrl } from './database-url';
import { dropDatabaseOnceClosed } from './drop-database';

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  /** A pool for assertions (superuser). */
  readonly pool: pg.Pool;
  drop(): Promise<void>;
}

function adminDatabaseUrl(): string {
  return inject('adminDatabaseUrl');
}

/** Held by a file that migrates its own database, on the admin database (advisory locks are per database). */
const OWN_MIGRATIONS_LOCK = 7_341_001;

/**
 * `migrate: false` gives an empty database for a file that runs the migrations itself. Migrations
 * also alter server-wide roles, which two such files would race on ("tuple concurrently updated")
 * when vitest runs files side by side (3+ cores), so such a file holds a server-wide lock until
 * drop().
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = adminDatabaseUrl();
  const name = `test_${randomBytes(6).toString('hex')}`;
  let migrationsLock: pg.Client | undefined;
  if (options.migrate === false) {
    migrationsLock = new pg.Client({ connectionString: adminUrl });
    migrationsLock.on('error', () => undefined); // idle for the whole file; losing it only frees the lock
    await migrationsLock.connect();
    await migrationsLock.query('SELECT pg_advisory_lock($1)', [OWN_MIGRATIONS_LOCK]);
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const template = options.migrate === false ? '' : ` TEMPLATE ${inject('templateDatabase')}`;
  await admin.query(`CREATE DATABASE ${name}${template}`);
  await admin.end();
  const url = databaseUrl(adminUrl, name);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  return {
    url,
    name,
    pool,
    async drop() {
      await pool.end();
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      try {
        await dropDatabaseOnceClosed(dropper, name);
      } finally {
        await dropper.end();
        await migrationsLock?.end();
      }
    },
  };
}
