/**
 * Erasure in PostgreSQL (design promise 8): every row of a deleted tenant, or one user's events with
 * what they added to the rollups. Two transactions, then a third when the other stores are done:
 *
 * 1. The tombstone (`erasures`, migration 0005), inserted under `LOCK event_keys IN SHARE MODE`.
 *    The lock waits for every writer statement already running (they hold ROW EXCLUSIVE on
 *    event_keys from the moment they are parsed) and holds new ones back until the tombstone
 *    commits; a statement that waited takes its snapshot after, so it sees the tombstone and drops
 *    the events it covers. No delivery that was on its way can bring erased data back.
 * 2. The removal. A user's events are deleted and their counts subtracted from the rollups, locking
 *    type days before user days, each sorted, as a writer's statement does (its rollup upserts run
 *    by_type before by_user); a deadlock PostgreSQL still finds is retried. For days whose raw events
 *    retention has already dropped, the user's day rows are removed whole (every count in them
 *    predates the erasure); the type totals of those days stay, as counts that no longer name
 *    anyone (docs/data-model.md, "Erasure").
 * 3. `completeErasure` records what every store removed: the audit line.
 *
 * One erasure at a time: another one not yet completed is either this same request, interrupted
 * (it is resumed with its own id and `erased_before`, so a rerun changes nothing it should not),
 * or it is refused: two archive rewrites of the same object would undo each other.
 */
import type pg from 'pg';
import { eventPartitionDays } from './partition-maintenance';
import { combineCountsSql, HOUR_COLUMNS, HOURLY_COUNTS_SQL } from './rollup-columns';
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
  /** True when an interrupted erasure of the same account and user was picked up again. */
  readonly resumed: boolean;
  /** False when the time budget ran out first: call again with the same request to go on. */
  readonly done: boolean;
  /** Everything removed so far, per table (the audit record's `removed`). */
  readonly removed: Record<string, number>;
}

/** Another erasure has not completed: it must be finished (by rerunning its command) first. */
export class ErasureInProgress extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ErasureInProgress';
  }
}

/** Serialises erasures (transaction-scoped advisory lock). */
const ERASURE_LOCK = 7_341_005;
/** How long the tombstone waits for running writer statements before trying again (x attempts). */
const LOCK_WAIT = '5s';
const LOCK_ATTEMPTS = 5;
const DEADLOCK_ATTEMPTS = 3;
/** The longest one removal statement runs (a day partition of a very large tenant). */
const MAX_STATEMENT_MS = 600_000;

/**
 * Adds counts to an erasure's `removed`, key by key (a resumed erasure adds what its rerun removed),
 * and sets `alsoSet` (its progress) in the same statement.
 */
const addRemoved = (alsoSet?: string) => `UPDATE erasures SET removed = coalesce((
    SELECT jsonb_object_agg(key, coalesce((removed ->> key)::bigint, 0) + coalesce(($2::jsonb ->> key)::bigint, 0))
    FROM (SELECT jsonb_object_keys(removed) AS key UNION SELECT jsonb_object_keys($2::jsonb)) AS keys
  ), '{}')${alsoSet === undefined ? '' : `, ${alsoSet}`}
  WHERE id = $1`;

const LOCK_NOT_AVAILABLE = '55P03';
const DEADLOCK_DETECTED = '40P01';
const sqlState = (error: unknown) => (error as { code?: unknown }).code;

/** JSON text of a field as a message body would hold it, for a LIKE on stored body excerpts. */
function bodyFieldPattern(field: string, value: string): string {
  return `%${escapeLike(`"${field}":${JSON.stringify(value)}`)}%`;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** How `erasures.user_sha256` is made from a user id (SQL); the writer matches events with it too. */
export const userDigestSql = (userId: string) => `sha256(convert_to(${userId}, 'UTF8'))`;

const USER_DIGEST = `CASE WHEN $2::text IS NULL THEN NULL ELSE ${userDigestSql('$2::text')} END`;

interface Recorded {
  id: string;
  requested_at: Date;
  erased_before: Date;
  resumed: boolean;
  removed_through: string | null;
  rows_removed: boolean;
}

export interface ErasureOptions {
  /**
   * Stop after the day during which this much time has passed (`done: false`); the next call with
   * the same request resumes after that day. The erasure function sets it below its timeout.
   */
  readonly budgetMs?: number;
  /**
   * When every removal statement must have ended (epoch ms): each runs for at most 10 minutes and
   * never past it. The erasure function sets it just before its own timeout, so a statement never
   * outlives the function, holding its locks with no one waiting for it (the next call resumes).
   */
  readonly deadline?: number;
}

async function recordTombstone(client: pg.PoolClient, request: ErasureRequest): Promise<Recorded> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [ERASURE_LOCK]);
  const { rows: open } = await client.query<
    Recorded & { account_id: string; same: boolean; requested_by: string }
  >(
    `SELECT id, account_id, requested_at, erased_before, requested_by, true AS resumed, rows_removed,
            to_char(removed_through, 'YYYY-MM-DD') AS removed_through,
            account_id = $1 AND user_sha256 IS NOT DISTINCT FROM ${USER_DIGEST} AS same
     FROM erasures WHERE completed_at IS NULL ORDER BY id`,
    [request.accountId, request.userId ?? null],
  );
  const same = open.find((row) => row.same);
  if (same) return same;
  const other = open[0];
  if (other) {
    throw new ErasureInProgress(
      `Erasure ${other.id} (account ${other.account_id}, requested by ${other.requested_by} at ` +
        `${other.requested_at.toISOString()}) has not completed. It may still be running: wait for it. If it was ` +
        'cut off, run its command again to finish it. Then run this one.',
    );
  }
  await client.query(`SET LOCAL lock_timeout = '${LOCK_WAIT}'`);
  await client.query('LOCK TABLE event_keys IN SHARE MODE');
  // Rounded up to the next millisecond: the removal and the archive scrub compare JavaScript
  // instants with it, and an event received in the erasure's own millisecond is covered.
  const { rows } = await client.query<Recorded>(
    `INSERT INTO erasures (account_id, user_sha256, erased_before, requested_by, reason)
     VALUES ($1, ${USER_DIGEST}, date_trunc('milliseconds', now() + make_interval(secs => $3)) + interval '1 millisecond', $4, $5)
     RETURNING id, requested_at, erased_before, false AS resumed, NULL AS removed_through, false AS rows_removed`,
    [
      request.accountId,
      request.userId ?? null,
      request.graceSeconds ?? 0,
      request.requestedBy,
      request.reason ?? null,
    ],
  );
  return rows[0]!;
}

/** Runs `work` again when PostgreSQL gives up on it with one of `codes` (a lock wait, a deadlock). */
async function retrying<T>(codes: readonly string[], attempts: number, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !codes.includes(String(sqlState(error)))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

export async function eraseFromDatabase(
  pool: pg.Pool,
  request: ErasureRequest,
  { budgetMs = Number.POSITIVE_INFINITY, deadline = Number.POSITIVE_INFINITY }: ErasureOptions = {},
): Promise<DatabaseErasure> {
  const started = Date.now();
  const recorded = await retrying([LOCK_NOT_AVAILABLE], LOCK_ATTEMPTS, () =>
    inTransaction(pool, 'BEGIN', (client) => recordTombstone(client, request)),
  );
  const erasureId = Number(recorded.id);
  // One transaction per step, each recording its counts and progress with its removal: the audit
  // holds what was removed even if a later step or store fails, and a rerun goes on from there.
  const step = (work: (client: pg.PoolClient) => Promise<Record<string, number>>, progress: string) =>
    retrying([DEADLOCK_DETECTED], DEADLOCK_ATTEMPTS, () =>
      inTransaction(pool, 'BEGIN', async (client) => {
        const timeoutMs = Math.max(1, Math.min(MAX_STATEMENT_MS, deadline - Date.now()));
        await client.query(`SET LOCAL statement_timeout = ${Math.ceil(timeoutMs)}`);
        await client.query(addRemoved(progress), [erasureId, JSON.stringify(await work(client))]);
      }),
    );
  let done = recorded.rows_removed;
  if (!done) {
    // 'YYYY-MM-DD' strings compare as dates.
    const days = (await eventPartitionDays(pool)).filter(
      (day) => recorded.removed_through === null || day > recorded.removed_through,
    );
    let outOfTime = false;
    for (const day of days) {
      await step(
        (client) => removeDay(client, request, recorded.erased_before, day),
        `removed_through = '${day}'`,
      );
      outOfTime = Date.now() - started >= budgetMs;
      if (outOfTime) break;
    }
    if (!outOfTime) {
      await step(
        (client) =>
          request.userId === undefined
            ? removeAccountRest(client, request.accountId)
            : removeUserRest(client, request.accountId, request.userId),
        'rows_removed = true',
      );
      done = true;
    }
  }
  const { rows } = await pool.query<{ removed: Record<string, number> }>(
    'SELECT removed FROM erasures WHERE id = $1',
    [erasureId],
  );
  return {
    erasureId,
    requestedAt: recorded.requested_at,
    erasedBefore: recorded.erased_before,
    resumed: recorded.resumed,
    done,
    removed: rows[0]!.removed,
  };
}

/** event_time within the UTC day given as 'YYYY-MM-DD' text (never the session's time zone). */
const IN_DAY = (day: string) =>
  `event_time >= ${day}::timestamp AT TIME ZONE 'UTC' AND event_time < (${day}::date + 1)::timestamp AT TIME ZONE 'UTC'`;

/** One day partition of the account's (or the user's) events, with the user's share of that day's rollups. */
async function removeDay(
  client: pg.PoolClient,
  request: ErasureRequest,
  erasedBefore: Date,
  day: string,
): Promise<Record<string, number>> {
  if (request.userId !== undefined)
    return removeUserDay(client, request.accountId, request.userId, erasedBefore, day);
  // Pruned to the one partition by the event_time range; the day's keys go with their events, so
  // no single statement has to delete all of a large tenant's keys at the end.
  const { rows } = await client.query<{ events: string; keys: string }>(
    `WITH gone AS (DELETE FROM events WHERE account_id = $1 AND ${IN_DAY('$2')} RETURNING event_id),
     keys AS (
       DELETE FROM event_keys k USING gone g WHERE k.account_id = $1 AND k.event_id = g.event_id RETURNING 1
     )
     SELECT (SELECT count(*) FROM gone) AS events, (SELECT count(*) FROM keys) AS keys`,
    [request.accountId, day],
  );
  return { events: Number(rows[0]!.events), event_keys: Number(rows[0]!.keys) };
}

/** After the events: every other row of a deleted tenant (found through the tables' keys; the
 * event keys left are those of days without a partition). */
async function removeAccountRest(client: pg.PoolClient, accountId: string): Promise<Record<string, number>> {
  const removed: Record<string, number> = {};
  for (const table of [
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

const SUBTRACT = combineCountsSql('-', 'c');

async function removeUserDay(
  client: pg.PoolClient,
  accountId: string,
  userId: string,
  erasedBefore: Date,
  day: string,
): Promise<Record<string, number>> {
  const count = async (sql: string, values: unknown[] = [accountId, userId]) =>
    (await client.query(sql, values)).rowCount ?? 0;
  await client.query(`CREATE TEMP TABLE erased_counts (
      day date, type text COLLATE "C", events bigint, ${HOUR_COLUMNS.map((c) => `${c} integer`).join(', ')}
    ) ON COMMIT DROP`);
  const { rows } = await client.query<{ events: string; keys: string }>(
    `WITH gone AS (
       DELETE FROM events WHERE account_id = $1 AND user_id = $2 AND received_at < $3 AND ${IN_DAY('$4')}
       RETURNING event_id, type, (event_time AT TIME ZONE 'UTC')::date AS day,
                 extract(hour FROM event_time AT TIME ZONE 'UTC')::int AS hour_of_day
     ),
     keys AS (
       DELETE FROM event_keys k USING gone g WHERE k.account_id = $1 AND k.event_id = g.event_id RETURNING 1
     ),
     counted AS (
       INSERT INTO erased_counts
       SELECT day, NULL, count(*), ${HOURLY_COUNTS_SQL} FROM gone GROUP BY day
       UNION ALL
       SELECT day, type, count(*), ${HOURLY_COUNTS_SQL} FROM gone GROUP BY day, type
     )
     SELECT (SELECT count(*) FROM gone) AS events, (SELECT count(*) FROM keys) AS keys`,
    [accountId, userId, erasedBefore, day],
  );
  const removed: Record<string, number> = {
    events: Number(rows[0]!.events),
    event_keys: Number(rows[0]!.keys),
  };
  // The writers' lock order: type days, then user days, each sorted by key.
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
  await client.query(
    `SELECT FROM rollup_user_day WHERE account_id = $1 AND user_id = $2 AND day = $3::date FOR UPDATE`,
    [accountId, userId, day],
  );
  removed.rollup_user_day_updated = await count(
    `UPDATE rollup_user_day r SET ${SUBTRACT} FROM erased_counts c
     WHERE r.account_id = $1 AND r.user_id = $2 AND c.type IS NULL AND r.day = c.day`,
  );
  removed.rollup_user_day = await count(
    'DELETE FROM rollup_user_day WHERE account_id = $1 AND user_id = $2 AND day = $3::date AND events <= 0',
    [accountId, userId, day],
  );
  return removed;
}

/** After the days: the user's rollup rows of days before raw retention, and failure records. */
async function removeUserRest(
  client: pg.PoolClient,
  accountId: string,
  userId: string,
): Promise<Record<string, number>> {
  const count = async (sql: string, values: unknown[]) => (await client.query(sql, values)).rowCount ?? 0;
  const removed: Record<string, number> = {};
  // Day rows before the first stored day of raw events: all their counts predate the erasure.
  removed.rollup_user_day = await count(
    `DELETE FROM rollup_user_day WHERE account_id = $1 AND user_id = $2
     AND day < (SELECT first_kept_day FROM event_retention)`,
    [accountId, userId],
  );
  // Failure records of the account that name the user, also where the 500-character excerpt was
  // cut inside the user's field.
  const userField = `"user_id":${JSON.stringify(userId)}`;
  removed.message_failures = await count(
    `DELETE FROM message_failures WHERE body_excerpt LIKE $1
       AND (strpos(body_excerpt, $2) > 0
            OR starts_with($2, substring(body_excerpt from '"user_id":"[^"]*$')))`,
    [bodyFieldPattern('account_id', accountId), userField],
  );
  return removed;
}

/** Marks the erasure done, with what the other stores removed (archive objects, cache entries, keys). */
export async function completeErasure(
  pool: pg.Pool,
  erasureId: number,
  removed: Record<string, number>,
): Promise<void> {
  await inTransaction(pool, 'BEGIN', async (client) => {
    await client.query(addRemoved(), [erasureId, JSON.stringify(removed)]);
    await client.query('UPDATE erasures SET completed_at = now() WHERE id = $1', [erasureId]);
  });
}

/** An erasure as its audit record holds it (the user only as a hex SHA-256 digest). */
export interface ErasureRecord {
  readonly id: number;
  readonly accountId: string;
  readonly userSha256: string | null;
  readonly erasedBefore: Date;
  readonly requestedBy: string;
  readonly reason: string | null;
  readonly requestedAt: Date;
  readonly completedAt: Date | null;
  readonly removed: Record<string, number>;
}

/** The newest erasures, of one account or all: the proof an auditor or a requester asks for. */
export async function listErasures(
  pool: pg.Pool,
  filter: { readonly accountId?: string; readonly limit?: number } = {},
): Promise<ErasureRecord[]> {
  const { rows } = await pool.query(
    `SELECT id, account_id, encode(user_sha256, 'hex') AS user_sha256, erased_before, requested_by, reason,
            requested_at, completed_at, removed
     FROM erasures WHERE $1::text IS NULL OR account_id = $1 ORDER BY id DESC LIMIT $2`,
    [filter.accountId ?? null, filter.limit ?? 20],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    accountId: row.account_id,
    userSha256: row.user_sha256,
    erasedBefore: row.erased_before,
    requestedBy: row.requested_by,
    reason: row.reason,
    requestedAt: row.requested_at,
    completedAt: row.completed_at,
    removed: row.removed,
  }));
}
