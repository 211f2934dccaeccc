/**
 * Runs work on one pooled connection. A connection lost while checked out is reported to the work
 * (not as an uncaught 'error' event that would end the process), and a broken connection is
 * destroyed instead of going back to the pool.
 */
import type pg from 'pg';

export async function withClient<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient, markBroken: (error: Error) => void) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const markBroken = (error: Error) => {
    broken ??= error;
  };
  client.on('error', markBroken);
  try {
    return await work(client, markBroken);
  } finally {
    client.off('error', markBroken);
    client.release(broken);
  }
}

/**
 * Runs work in a transaction opened by `begin` (e.g. `BEGIN ISOLATION LEVEL REPEATABLE READ`, or
 * `BEGIN; <setup>`), committed on success, rolled back on failure, `begin` included: its setup can
 * fail after BEGIN, and the connection must not go back to the pool inside an aborted transaction.
 * A connection that cannot even roll back is dropped.
 */
export function inTransaction<T>(
  pool: pg.Pool,
  begin: string,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  return withClient(pool, async (client, markBroken) => {
    try {
      await client.query(begin);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(markBroken);
      throw error;
    }
  });
}
