/**
 * Erasure in PostgreSQL (design promise 8): every row of a deleted tenant, or one user's events with
 * what they added to the rollups. Two transactions, then a third when the other stores are done:
 *
 * 1. The tombstone (`erasures`, migration 0005), inserted under `LOCK event_keys IN SHARE MODE`.
 *    The lock waits for every writer statement already running (they hold ROW EXCLUSIVE on
 *    event_keys) and holds new ones back until the tombstone commits, so every later write sees it
 *    and drops the events it covers. No delivery that was on its way can bring erased data back.
 * 2. The removal. A user's events are deleted and their counts subtracted from the rollups in the
 *    writers' lock order (user days, then type days, each sorted), so it cannot deadlock with a
 *    writer. For days whose raw events retention has already dropped, the user's day rows are
 *    removed whole (every count in them predates the erasure); the type totals of those days stay,
 *    as counts that no longer name anyone (docs/data-model.md, "Erasure").
 * 3. `completeErasure` records what every store removed: the audit line.
 */
import type pg from 'pg';
import { HOUR_COLUMNS } from './rollup-columns';
import { inTransaction } from './with-client';

export interface ErasureRequest {
  readonly accountId: string;
  /** Absent: the whole account. */
  readonly userId?: string;
  /**
   * Events received before the database's now() plus this many seconds are erased, now and whenever
   * they arrive later (a deleted tenant's cached authorizations admit events for a while). The
   * database's clock, not the operator's, which may be off.
   */
  readonly graceSeconds?: number;
  /** Who asked (an operator's name), for the audit record. */
  readonly requestedBy: string;
  readonly reason?: string;
}

export interface DatabaseErasure {
  readonly erasureId: number;
  /** The database's clock when the erasure was recorded, and the instant it covers up to. */
  readonly requestedAt: Date;
  readonly erasedBefore: Date;
  /** Rows removed per table. */
  readonly removed: Record<string, number>;
}

/** JSON text of a field as a message body would hold it, for a LIKE on stored body excerpts. */
function bodyFieldPattern(field: string, value: string): string {
  return `%"${field}":${JSON.stringify(value).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export async function eraseFromDatabase(pool: pg.Pool, request: ErasureRequest): Promise<DatabaseErasure> {
  const recorded = await inTransaction(pool, 'BEGIN', async (client) => {
    await client.query('LOCK TABLE event_keys IN SHARE MODE');
    const { rows } = await client.query<{ id: string; requested_at: Date; erased_before: Date }>(
      `INSERT INTO erasures (account_id, user_sha256, erased_before, requested_by, reason)
       VALUES ($1, CASE WHEN $2::text IS NULL THEN NULL ELSE sha256(convert_to($2::text, 'UTF8')) END,
               now() + make_interval(secs => $3), $4, $5)
       RETURNING id, requested_at, erased_before`,
      [
        request.accountId,
        request.userId ?? null,
        request.graceSeconds ?? 0,
        request.requestedBy,
        request.reason ?? null,
      ],
    );
    return rows[0]!;
  });
  const erasureId = Number(recorded.id);
  const removed = await inTransaction(pool, 'BEGIN', async (client) => {
    const counts =
      request.userId === undefined
        ? await removeAccount(client, request.accountId)
        : await removeUser(client, request.accountId, request.userId, recorded.erased_before);
    // Recorded with the removal itself: the audit holds it even if the other stores fail later.
    await client.query('UPDATE erasures SET removed = $2::jsonb WHERE id = $1', [
      erasureId,
      JSON.stringify(counts),
    ]);
    return counts;
  });
  return { erasureId, requestedAt: recorded.requested_at, erasedBefore: recorded.erased_before, removed };
}

async function removeAccount(client: pg.PoolClient, accountId: string): Promise<Record<string, number>> {
  const removed: Record<string, number> = {};
  for (const table of [
    'events',
    'event_keys',
    'rollup_user_day',
    'rollup_type_day',
    'committed_messages',
    'skipped_events',
  ]) {
    removed[table] =
      (await client.query(`DELETE FROM ${table} WHERE account_id = $1`, [accountId])).rowCount ?? 0;
  }
  removed.message_failures =
    (
      await client.query(`DELETE FROM message_failures WHERE body_excerpt LIKE $1`, [
        bodyFieldPattern('account_id', accountId),
      ])
    ).rowCount ?? 0;
  return removed;
}

const HOUR_SUMS = HOUR_COLUMNS.map(
  (column, hour) => `count(*) FILTER (WHERE hour_of_day = ${hour}) AS ${column}`,
).join(', ');
const SUBTRACT = ['events', ...HOUR_COLUMNS]
  .map((column) => `${column} = r.${column} - c.${column}`)
  .join(', ');

async function removeUser(
  client: pg.PoolClient,
  accountId: string,
  userId: string,
  erasedBefore: Date,
): Promise<Record<string, number>> {
  const count = async (sql: string, values: unknown[] = [accountId, userId]) =>
    (await client.query(sql, values)).rowCount ?? 0;
  await client.query(`CREATE TEMP TABLE erased_counts (
      day date, type text COLLATE "C", events bigint, ${HOUR_COLUMNS.map((c) => `${c} integer`).join(', ')}
    ) ON COMMIT DROP`);
  const { rows } = await client.query<{ events: string; keys: string }>(
    `WITH gone AS (
       DELETE FROM events WHERE account_id = $1 AND user_id = $2 AND received_at < $3
       RETURNING event_id, type, (event_time AT TIME ZONE 'UTC')::date AS day,
                 extract(hour FROM event_time AT TIME ZONE 'UTC')::int AS hour_of_day
     ),
     keys AS (
       DELETE FROM event_keys k USING gone g WHERE k.account_id = $1 AND k.event_id = g.event_id RETURNING 1
     ),
     counted AS (
       INSERT INTO erased_counts
       SELECT day, NULL, count(*), ${HOUR_SUMS} FROM gone GROUP BY day
       UNION ALL
       SELECT day, type, count(*), ${HOUR_SUMS} FROM gone GROUP BY day, type
     )
     SELECT (SELECT count(*) FROM gone) AS events, (SELECT count(*) FROM keys) AS keys`,
    [accountId, userId, erasedBefore],
  );
  const removed: Record<string, number> = {
    events: Number(rows[0]!.events),
    event_keys: Number(rows[0]!.keys),
  };
  // Day rows before the first stored day of raw events: all their counts predate the erasure.
  removed.rollup_user_day = await count(
    `DELETE FROM rollup_user_day WHERE account_id = $1 AND user_id = $2
     AND day < (SELECT first_kept_day FROM event_retention)`,
  );
  // The writers' lock order: user days, then type days, each sorted by key.
  await client.query(
    `SELECT FROM rollup_user_day WHERE account_id = $1 AND user_id = $2
       AND day IN (SELECT day FROM erased_counts WHERE type IS NULL)
     ORDER BY day FOR UPDATE`,
    [accountId, userId],
  );
  removed.rollup_user_day_updated = await count(
    `UPDATE rollup_user_day r SET ${SUBTRACT} FROM erased_counts c
     WHERE r.account_id = $1 AND r.user_id = $2 AND c.type IS NULL AND r.day = c.day`,
  );
  removed.rollup_user_day += await count(
    'DELETE FROM rollup_user_day WHERE account_id = $1 AND user_id = $2 AND events <= 0',
  );
  await client.query(
    `SELECT FROM rollup_type_day WHERE account_id = $1
       AND (day, type) IN (SELECT day, type FROM erased_counts WHERE type IS NOT NULL)
     ORDER BY day, type FOR UPDATE`,
    [accountId],
  );
  removed.rollup_type_day_updated = await count(
    `UPDATE rollup_type_day r SET ${SUBTRACT} FROM erased_counts c
     WHERE r.account_id = $1 AND c.type IS NOT NULL AND r.day = c.day AND r.type = c.type`,
    [accountId],
  );
  removed.rollup_type_day = await count(
    `DELETE FROM rollup_type_day WHERE account_id = $1 AND events <= 0
       AND (day, type) IN (SELECT day, type FROM erased_counts WHERE type IS NOT NULL)`,
    [accountId],
  );
  removed.message_failures = await count('DELETE FROM message_failures WHERE body_excerpt LIKE $1', [
    bodyFieldPattern('user_id', userId),
  ]);
  return removed;
}

/** Marks the erasure done, with what the other stores removed (archive objects, cache entries, keys). */
export async function completeErasure(
  pool: pg.Pool,
  erasureId: number,
  removed: Record<string, number>,
): Promise<void> {
  await pool.query('UPDATE erasures SET completed_at = now(), removed = removed || $2::jsonb WHERE id = $1', [
    erasureId,
    JSON.stringify(removed),
  ]);
}
