/**
 * EventStore on PostgreSQL. Per batch, one transaction:
 *   1. COPY the planned rows into a session-local staging table (the cheapest way into PostgreSQL);
 *   2. one statement inserts the exactly-once keys, the raw events whose keys were new, the rollups
 *      of exactly those rows, the committed message keys and the skipped events;
 *   3. COMMIT — all of it is stored, or none.
 * The temporary table pins the writer's RDS Proxy session; that costs nothing here because each
 * writer instance holds its one connection for its whole life anyway (docs/data-model.md).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import {
  type EventStore,
  type MessageFailure,
  StoreMissingPartition,
  StoreRejectedData,
  type WriteBatchInput,
  type WriteBatchResult,
} from '../../core/ports';
import { utcDayOfIso } from '../../core/time-buckets';
import type { EventRow } from '../../core/writer-batch';
import { describeError } from '../../shared/describe-error';
import { isDataError } from './database-errors';
import { userDigestSql } from './erasure';
import { ensureEventPartitions, eventPartitionDays } from './partition-maintenance';
import { combineCountsSql, HOUR_COLUMNS, HOURLY_COUNTS_SQL } from './rollup-columns';
import { inTransaction } from './with-client';

/** "no partition of relation found for row" */
const NO_PARTITION_SQLSTATE = '23514';

const CREATE_STAGING_SQL = `CREATE TEMP TABLE IF NOT EXISTS writer_staging (
  account_id text COLLATE "C", event_id text COLLATE "C", user_id text COLLATE "C", type text COLLATE "C", event_time timestamptz,
  received_at timestamptz, metadata jsonb, day date, hour_of_day smallint
) ON COMMIT DELETE ROWS`;

const COPY_STAGING_SQL =
  'COPY writer_staging (account_id, event_id, user_id, type, event_time, received_at, metadata, day, hour_of_day) FROM STDIN';

/** The rollup columns of a group: its total and its 24 hourly counts. */
const COUNT_COLUMNS = `count(*), ${HOURLY_COUNTS_SQL}`;
const ADD_COUNTS = combineCountsSql('+', 'excluded');

// Every writer takes its locks in the same order (keys, then each rollup table, each sorted by its
// key), so concurrent writers wait for each other instead of deadlocking. Rollups are computed from
// `fresh`, the rows whose key was new: a redelivered event changes nothing. Events an erasure
// covers (0005: a deleted account, or a user's events received before the erasure) get no key and
// so are not written, nor is a deleted tenant's bookkeeping: deliveries that were on their way
// cannot bring erased data back.
const WRITE_FROM_STAGING_SQL = `
WITH fresh_keys AS (
  INSERT INTO event_keys (account_id, event_id)
  SELECT account_id, event_id FROM writer_staging s
  WHERE NOT EXISTS (
    SELECT FROM erasures e
    WHERE e.account_id = s.account_id AND s.received_at < e.erased_before
      -- Only erasures later than the batch's oldest event can cover any of it: old ones, kept for
      -- the audit, are left out before the join instead of compared with every row.
      AND e.erased_before > (SELECT min(received_at) FROM writer_staging)
      AND (e.user_sha256 IS NULL OR e.user_sha256 = ${userDigestSql('s.user_id')}))
  ORDER BY account_id, event_id
  ON CONFLICT DO NOTHING
  RETURNING account_id, event_id
),
-- A semi-join, not a JOIN: the planner, blind to the staging table's size, sorted both sides for a
-- merge join; this shape hashes the new keys instead (a third of this step's time).
fresh AS (
  SELECT * FROM writer_staging WHERE (account_id, event_id) IN (SELECT account_id, event_id FROM fresh_keys)
),
stored AS (
  INSERT INTO events (account_id, event_id, user_id, type, event_time, received_at, metadata)
  SELECT account_id, event_id, user_id, type, event_time, received_at, metadata FROM fresh
),
by_user AS (
  INSERT INTO rollup_user_day AS r (account_id, user_id, day, events, ${HOUR_COLUMNS.join(', ')})
  SELECT account_id, user_id, day, ${COUNT_COLUMNS} FROM fresh GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (account_id, user_id, day) DO UPDATE SET ${ADD_COUNTS}
),
by_type AS (
  INSERT INTO rollup_type_day AS r (account_id, day, type, events, ${HOUR_COLUMNS.join(', ')})
  SELECT account_id, day, type, ${COUNT_COLUMNS} FROM fresh GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (account_id, day, type) DO UPDATE SET ${ADD_COUNTS}
),
messages AS (
  INSERT INTO committed_messages (message_key, account_id, received_at)
  SELECT message_key, account_id, received_at
  FROM json_to_recordset($1::json) AS m(message_key text, account_id text, received_at timestamptz)
  WHERE NOT EXISTS (
    SELECT FROM erasures e
    WHERE e.account_id = m.account_id AND e.user_sha256 IS NULL AND m.received_at < e.erased_before)
  ORDER BY message_key
  ON CONFLICT DO NOTHING
),
skipped AS (
  INSERT INTO skipped_events (account_id, event_id, event_time, reason, message_id)
  SELECT account_id, event_id, event_time, reason, message_id
  FROM json_to_recordset($2::json) AS s(
    account_id text, event_id text, event_time timestamptz, reason text, message_id text)
  -- A deleted tenant's bookkeeping is not written again (skipped events carry no receipt time).
  WHERE NOT EXISTS (SELECT FROM erasures e WHERE e.account_id = s.account_id AND e.user_sha256 IS NULL)
  ON CONFLICT DO NOTHING
)
SELECT count(*)::int AS inserted FROM fresh`;

export class PostgresEventStore implements EventStore {
  private readonly knownDays = new Set<string>();
  private floor: string | undefined;

  constructor(private readonly pool: pg.Pool) {}

  /** Cached like the partition list, and forgotten with it when a partition turns out missing. */
  async firstKeptDay(): Promise<string> {
    if (this.floor === undefined) {
      const { rows } = await this.pool.query<{ day: string }>(
        "SELECT to_char(first_kept_day, 'YYYY-MM-DD') AS day FROM event_retention",
      );
      this.floor = rows[0]!.day;
    }
    return this.floor;
  }

  async ensurePartitions(days: readonly string[]): Promise<void> {
    try {
      await this.createMissingPartitions(days);
    } catch (error) {
      // A day PostgreSQL refuses is the message's fault: the writer isolates it like a refused row.
      throw this.classify(error);
    }
  }

  private async createMissingPartitions(days: readonly string[]): Promise<void> {
    const missing = days.filter((day) => !this.knownDays.has(day));
    if (missing.length === 0) return;
    if (this.knownDays.size === 0) await this.loadPartitionDays();
    const stillMissing = missing.filter((day) => !this.knownDays.has(day)).sort();
    if (stillMissing.length === 0) return;
    await ensureEventPartitions(this.pool, stillMissing[0]!, stillMissing.at(-1)!);
    // Days before the retention floor are not created (0004): this instance's cached floor was
    // behind maintenance. Say so now, so the writer re-plans with the new floor, rather than after
    // a COPY that would fail on the missing partition.
    await this.loadPartitionDays();
    const refused = stillMissing.filter((day) => !this.knownDays.has(day));
    if (refused.length > 0) {
      this.forgetCaches();
      throw new StoreMissingPartition(`days before the retention floor: ${refused.join(', ')}`);
    }
  }

  private async loadPartitionDays(): Promise<void> {
    const days = await eventPartitionDays(this.pool);
    this.knownDays.clear();
    for (const day of days) this.knownDays.add(day);
  }

  /** The partition list and the floor go stale together: maintenance raises one and drops the other. */
  private forgetCaches(): void {
    this.knownDays.clear();
    this.floor = undefined;
  }

  async writeBatch(input: WriteBatchInput): Promise<WriteBatchResult> {
    try {
      return await inTransaction(this.pool, `BEGIN; ${CREATE_STAGING_SQL}`, async (client) => {
        if (input.rows.length > 0) {
          await pipeline(Readable.from(copyChunks(input.rows)), client.query(copyFrom(COPY_STAGING_SQL)));
        }
        const { rows } = await client.query<{ inserted: number }>(WRITE_FROM_STAGING_SQL, [
          JSON.stringify(input.messages),
          JSON.stringify(input.skipped),
        ]);
        return { inserted: rows[0]?.inserted ?? 0 };
      });
    } catch (error) {
      throw this.classify(error);
    }
  }

  /** Tells the writer what kind of failure this is, in the port's terms. */
  private classify(error: unknown): unknown {
    const code = (error as { code?: unknown }).code;
    if (error instanceof StoreMissingPartition) return error;
    if (code === NO_PARTITION_SQLSTATE) {
      this.forgetCaches();
      return new StoreMissingPartition((error as Error).message, { cause: error });
    }
    if (isDataError(error)) return new StoreRejectedData(describeError(error), { cause: error });
    return error;
  }

  async recordFailures(failures: readonly MessageFailure[]): Promise<void> {
    if (failures.length === 0) return;
    await this.pool.query(
      `INSERT INTO message_failures (message_id, receive_count, error_code, error, body_excerpt)
       SELECT * FROM json_to_recordset($1::json)
         AS f(message_id text, receive_count integer, error_code text, error text, body_excerpt text)`,
      [
        JSON.stringify(
          failures.map((failure) => ({
            message_id: failure.messageId,
            receive_count: failure.receiveCount,
            error_code: failure.errorCode,
            error: storableText(failure.error, 2000),
            body_excerpt: failure.bodyExcerpt === undefined ? null : storableText(failure.bodyExcerpt, 500),
          })),
        ),
      ],
    );
  }
}

/** COPY text format: backslash, tab, newline and carriage return must be escaped. */
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
export function copyText(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : value;
}

/** Serialises rows as COPY text in chunks of ~1,000 rows; day and hour come from the canonical timestamp. */
function* copyChunks(rows: readonly EventRow[]): Generator<string> {
  let chunk = '';
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const metadata = row.metadata === null ? '\\N' : copyText(JSON.stringify(row.metadata));
    chunk +=
      `${copyText(row.account_id)}\t${copyText(row.event_id)}\t${copyText(row.user_id)}\t${copyText(row.type)}\t` +
      `${row.event_time}\t${row.received_at}\t${metadata}\t${utcDayOfIso(row.event_time)}\t${row.event_time.slice(11, 13)}\n`;
    if (i % 1000 === 999) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** PostgreSQL text cannot hold NUL; a poison message's excerpt may contain anything. */
function storableText(text: string, maxLength: number): string {
  return text.slice(0, maxLength).replaceAll('\u0000', '\uFFFD');
}
