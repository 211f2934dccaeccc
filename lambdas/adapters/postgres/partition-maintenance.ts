/**
 * Partition maintenance, run on a schedule as the owner role:
 * - creates the day partitions of `events` from yesterday to `aheadDays` ahead;
 * - drops partitions older than raw retention, deleting their exactly-once keys first (a key exists
 *   exactly when its row does, so the partition itself says which keys to delete);
 * - expires rollups past their retention and bookkeeping rows past the ledger's horizon.
 * Every step is idempotent: a run that dies half-way is finished by the next one.
 */
import type pg from 'pg';
import { MESSAGE_RECORD_DAYS } from '../../core/freshness';
import { addDays, DAY_MS, utcDay } from '../../core/time-buckets';
import { writableDays } from '../../core/writer-batch';
import { withClient } from './with-client';

/** Creates the missing day partitions of `events` for [from, to] (days, inclusive); returns how many. */
export async function ensureEventPartitions(
  db: Pick<pg.ClientBase, 'query'>,
  from: string,
  to: string,
): Promise<number> {
  const { rows } = await db.query<{ created: number }>(
    'SELECT firehose_ensure_partitions($1::date, $2::date) AS created',
    [from, to],
  );
  return rows[0]?.created ?? 0;
}

/** The days that have an `events` partition, as 'YYYY-MM-DD', oldest first. */
export async function eventPartitionDays(db: Pick<pg.ClientBase, 'query'>): Promise<string[]> {
  const { rows } = await db.query<{ day: string }>(
    "SELECT to_char(d, 'YYYY-MM-DD') AS day FROM firehose_event_partition_days() AS d ORDER BY d",
  );
  return rows.map((row) => row.day);
}

export interface MaintenanceSettings {
  readonly rawRetentionDays: number;
  readonly rollupRetentionDays: number;
  readonly aheadDays: number;
}

export interface MaintenanceResult {
  readonly created: number;
  readonly dropped: string[];
  readonly keysDeleted: number;
  readonly rollupRowsDeleted: number;
  /** Another run held the maintenance lock, so this one did nothing. */
  readonly alreadyRunning?: boolean;
}

/** Pages of a dropped partition whose keys are deleted per statement (~8 MB). */
const PAGES_PER_CHUNK = 1000;

/** One maintenance run at a time (a schedule overlapping a slow run, or an operator's manual run). */
const RUN_LOCK_SQL = "SELECT pg_try_advisory_lock(hashtext('firehose.maintenance')) AS locked";
const RUN_UNLOCK_SQL = "SELECT pg_advisory_unlock(hashtext('firehose.maintenance'))";

export async function maintainPartitions(
  pool: pg.Pool,
  settings: MaintenanceSettings,
  nowMs: number = Date.now(),
  onProgress: (message: string) => void = () => undefined,
): Promise<MaintenanceResult> {
  // The run lock is a session lock: every statement of the run goes through this one connection.
  // After a failure the connection is closed, not pooled, which also ends the lock for certain.
  return withClient(pool, async (client, markBroken) => {
    try {
      const { rows } = await client.query<{ locked: boolean }>(RUN_LOCK_SQL);
      if (!rows[0]!.locked) {
        onProgress('another maintenance run is in progress; nothing done');
        return { created: 0, dropped: [], keysDeleted: 0, rollupRowsDeleted: 0, alreadyRunning: true };
      }
      const result = await maintain(client, settings, nowMs, onProgress);
      await client.query(RUN_UNLOCK_SQL);
      return result;
    } catch (error) {
      markBroken(error as Error);
      throw error;
    }
  });
}

async function maintain(
  client: pg.PoolClient,
  settings: MaintenanceSettings,
  nowMs: number,
  onProgress: (message: string) => void,
): Promise<MaintenanceResult> {
  const today = utcDay(nowMs);
  const created = await ensureEventPartitions(client, addDays(today, -1), addDays(today, settings.aheadDays));
  // The writer stores exactly these days; everything before them goes. The floor is raised first,
  // so no writer creates a day again once it is being dropped (whatever its own settings say).
  const { rows } = await client.query<{ floor: string }>(
    "SELECT to_char(firehose_raise_retention_floor($1::date), 'YYYY-MM-DD') AS floor",
    [writableDays(nowMs, settings.rawRetentionDays, settings.aheadDays).first],
  );
  const expired = await expiredPartitions(client, rows[0]!.floor);
  let keysDeleted = 0;
  for (const { name, state } of expired) {
    onProgress(`dropping ${name}`);
    // Detached first, so nothing new lands in it while its keys are deleted. CONCURRENTLY does not
    // make inserts wait (only partition creation, bounded by firehose_ensure_partitions' lock
    // timeout); a detach interrupted half-way is finished (FINALIZE) next time.
    if (state === 'attached') await client.query(`ALTER TABLE events DETACH PARTITION ${name} CONCURRENTLY`);
    if (state === 'detach_pending')
      await client.query(`ALTER TABLE events DETACH PARTITION ${name} FINALIZE`);
    keysDeleted += await deleteKeysOf(client, name);
    await client.query(`DROP TABLE ${name}`);
  }
  const rollupCutoff = addDays(today, -(settings.rollupRetentionDays - 1));
  let rollupRowsDeleted = 0;
  for (const table of ['rollup_user_day', 'rollup_type_day']) {
    const result = await client.query(`DELETE FROM ${table} WHERE day < $1::date`, [rollupCutoff]);
    rollupRowsDeleted += result.rowCount ?? 0;
  }
  const bookkeepingCutoff = new Date(nowMs - MESSAGE_RECORD_DAYS * DAY_MS).toISOString();
  await client.query('DELETE FROM committed_messages WHERE committed_at < $1', [bookkeepingCutoff]);
  await client.query('DELETE FROM message_failures WHERE failed_at < $1', [bookkeepingCutoff]);
  await client.query('DELETE FROM skipped_events WHERE skipped_at < $1', [bookkeepingCutoff]);
  return {
    created,
    dropped: expired.map((p) => p.name),
    keysDeleted,
    rollupRowsDeleted,
  };
}

interface ExpiredPartition {
  readonly name: string;
  /** Left `detach_pending` or `detached` by a run that was interrupted. */
  readonly state: 'attached' | 'detach_pending' | 'detached';
}

/** Day partitions before `firstKeptDay`, whatever state an interrupted run left them in. */
async function expiredPartitions(client: pg.ClientBase, firstKeptDay: string): Promise<ExpiredPartition[]> {
  const { rows } = await client.query<ExpiredPartition>(
    `SELECT c.relname AS name,
            CASE WHEN i.inhrelid IS NULL THEN 'detached'
                 WHEN i.inhdetachpending THEN 'detach_pending'
                 ELSE 'attached' END AS state
     FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND i.inhparent = 'events'::regclass
     WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname ~ '^events_p[0-9]{8}$'
       AND to_date(substr(c.relname, 9), 'YYYYMMDD') < $1::date
     ORDER BY 1`,
    [firstKeptDay],
  );
  return rows;
}

async function deleteKeysOf(client: pg.ClientBase, partition: string): Promise<number> {
  const { rows } = await client.query<{ pages: string }>(
    `SELECT pg_relation_size($1::regclass) / current_setting('block_size')::int AS pages`,
    [partition],
  );
  const pages = Number(rows[0]?.pages ?? 0);
  let deleted = 0;
  for (let first = 0; first < pages; first += PAGES_PER_CHUNK) {
    const result = await client.query(
      `DELETE FROM event_keys k USING (
         SELECT account_id, event_id FROM ${partition}
         WHERE ctid >= $1::tid AND ctid < $2::tid
       ) e
       WHERE k.account_id = e.account_id AND k.event_id = e.event_id`,
      [`(${first},0)`, `(${first + PAGES_PER_CHUNK},0)`],
    );
    deleted += result.rowCount ?? 0;
  }
  return deleted;
}
