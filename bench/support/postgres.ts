/**
 * A PostgreSQL server for benchmarks: DATABASE_URL if set, otherwise an embedded PostgreSQL 17 in a
 * throw-away directory. Each variant gets a fresh migrated database so they start equal.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../lambdas/adapters/postgres/migrate';
import { startEmbeddedPostgres } from '../../local/embedded-postgres';
import { databaseUrl } from '../../test/support/database-url';
import { dropDatabaseOnceClosed } from '../../test/support/drop-database';

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
  createDatabase(label: string): Promise<string>;
  dropDatabase(url: string): Promise<void>;
  /**
   * CPU milliseconds the server's processes have used so far (Linux /proc; the embedded server
   * only), or undefined when it cannot be measured. Differences of two readings give a run's cost.
   */
  cpuMs(): number | undefined;
  stop(): Promise<void>;
}

export async function startBenchServer(): Promise<BenchServer> {
  const external = process.env.DATABASE_URL;
  const dataDir = join(tmpdir(), `firehose-bench-pg-${process.pid}`);
  const server = external
    ? undefined
    : await startEmbeddedPostgres({
        dataDir,
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
      await admin((client) => dropDatabaseOnceClosed(client, name));
    },
    cpuMs() {
      return server ? serverCpuMs(dataDir) : undefined;
    },
    async stop() {
      await server?.stop();
    },
  };
}

/** /proc/<pid>/stat fields after the command name: state is [0]; utime, stime, cutime, cstime are [11..14]. */
function statFields(pid: string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * The postmaster, its live children (backends, WAL writer, checkpointer...) and the children it has
 * already reaped (backends of closed connections, autovacuum workers), in milliseconds.
 */
function serverCpuMs(dataDir: string): number | undefined {
  try {
    const postmaster = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]!.trim();
    const ticks = (fields: string[], from: number, to: number) =>
      fields.slice(from, to + 1).reduce((sum, value) => sum + Number(value), 0);
    const own = statFields(postmaster);
    let total = ticks(own, 11, 14);
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid) || pid === postmaster) continue;
      try {
        const fields = statFields(pid);
        if (fields[1] === postmaster) total += ticks(fields, 11, 12);
      } catch {
        // The process ended between the listing and the read; its time is now in cutime.
      }
    }
    return total * 10; // clock ticks are 10 ms on Linux
  } catch {
    return undefined;
  }
}
