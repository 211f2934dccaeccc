import type pg from 'pg';
import { waitFor } from './wait';

/**
 * Drops `name` once every connection to it has closed. `pool.end()` resolves when its clients have
 * sent Terminate, not when their server processes have gone; dropping `WITH (FORCE)` meanwhile
 * sends those clients a FATAL 57P01 that their ended pool re-emits as an uncaught 'error'. A
 * connection that never closes is a pool someone forgot to end, and fails here by name.
 */
export async function dropDatabaseOnceClosed(
  admin: pg.Client,
  name: string,
  { timeoutMs = 10_000 } = {},
): Promise<void> {
  await waitFor(
    `the connections to ${name} to close (end every pool opened on it first)`,
    async () => {
      const { rows } = await admin.query<{ open: number }>(
        'SELECT count(*)::int AS open FROM pg_stat_activity WHERE datname = $1',
        [name],
      );
      return rows[0]?.open === 0;
    },
    { timeoutMs, intervalMs: 20 },
  );
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
}
