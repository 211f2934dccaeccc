/**
 * A PostgreSQL server for benchmarks: DATABASE_URL if set, otherwise an embedded PostgreSQL 17 in a
 * throw-away directory. Each variant gets a fresh migrated database so they start equal.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../lambdas/adapters/postgres/migrate';
import { startEmbeddedPostgres } from '../../local/embedded-postgres';
import { databaseUrl } from '../../test/support/database-url';

/**
 * A write-oriented configuration, the same for every variant: more shared buffers and fewer
 * checkpoints (so full-page writes do not dominate short runs). Durability settings stay on.
 */
const BENCH_SETTINGS = JSON.parse(process.env.BENCH_PG_SETTINGS ?? 'null') ?? {
  shared_buffers: '1GB',
  max_wal_size: '8GB',
  checkpoint_timeout: '30min',
};

export interface BenchServer {
  readonly adminUrl: string;
  createDatabase(label: string): Promise<string>;
  dropDatabase(url: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchServer(): Promise<BenchServer> {
  const external = process.env.DATABASE_URL;
  const server = external
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: join(tmpdir(), `firehose-bench-pg-${process.pid}`),
        persistent: false,
        settings: BENCH_SETTINGS,
      });
  const adminUrl = external ?? server!.adminUrl;
  const admin = async <T>(run: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return await run(client);
    } finally {
      await client.end();
    }
  };
  return {
    adminUrl,
    async createDatabase(label) {
      const name = `bench_${label}_${randomBytes(4).toString('hex')}`;
      await admin((client) => client.query(`CREATE DATABASE ${name}`));
      const url = databaseUrl(adminUrl, name);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await migrate(client);
      await client.end();
      return url;
    },
    async dropDatabase(url) {
      const name = new URL(url).pathname.slice(1);
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
    async stop() {
      await server?.stop();
    },
  };
}
