/**
 * Summary counts from the day rollups: totals by type and exact top users of a window, in one
 * statement per attempt (lambdas/core/top-users.ts explains the search). A first attempt runs on
 * its own; when its answer is not yet provably exact, the search continues inside one
 * REPEATABLE READ transaction, so totals and top users always come from one snapshot.
 */
import type pg from 'pg';
import { StoreUnavailable, type SummaryCounts, type SummaryStore } from '../../core/ports';
import type { DayPiece } from '../../core/summary-window';
import {
  type DayListBound,
  initialListSize,
  LIST_GROWTH,
  topUsersIfExact,
  type UserCount,
} from '../../core/top-users';
import { describeError } from '../../shared/describe-error';
import { isTransientDatabaseError } from './database-errors';
import { HOUR_COLUMNS } from './rollup-columns';
import { inTransaction } from './with-client';

/**
 * With lists growing 4x per attempt from at least 50, attempt 8 reads 800,000 users per day: every
 * list is complete long before, which makes the answer exact. The cap only guards against a bug.
 */
const MAX_ATTEMPTS = 8;

/** SQL for a row's contribution to the window: whole days count `events`, edge days some hours. */
function contribution(pieces: readonly DayPiece[], params: unknown[]): string {
  const partial = pieces.filter((piece) => piece.fromHour > 0 || piece.toHour < 24);
  if (partial.length === 0) return 'events';
  const cases = partial.map((piece) => {
    params.push(piece.day);
    const hours = HOUR_COLUMNS.slice(piece.fromHour, piece.toHour).join(' + ');
    return `WHEN $${params.length}::date THEN ${hours}`;
  });
  return `CASE day ${cases.join(' ')} ELSE events END`;
}

function countsStatement(
  accountId: string,
  pieces: readonly DayPiece[],
  listSize: number,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [
    accountId,
    pieces.map((piece) => piece.day),
    listSize,
    pieces[0]!.day,
    pieces.at(-1)!.day,
  ];
  const share = contribution(pieces, params);
  const sql = `
WITH lists AS (
  SELECT d.day, t.user_id, t.events
  FROM unnest($2::date[]) AS d(day)
  CROSS JOIN LATERAL (
    SELECT r.user_id, r.events FROM rollup_user_day r
    WHERE r.account_id = $1 AND r.day = d.day
    ORDER BY r.events DESC, r.user_id
    LIMIT $3
  ) t
),
bounds AS (
  SELECT to_char(day, 'YYYY-MM-DD') AS day, count(*)::int AS listed, min(events)::bigint AS smallest
  FROM lists GROUP BY day
),
candidates AS (SELECT DISTINCT user_id FROM lists),
exact AS (
  SELECT c.user_id, s.events
  FROM candidates c
  CROSS JOIN LATERAL (
    SELECT coalesce(sum(${share}), 0)::bigint AS events FROM rollup_user_day
    WHERE account_id = $1 AND user_id = c.user_id AND day BETWEEN $4::date AND $5::date
  ) s
),
totals AS (
  SELECT type, sum(${share})::bigint AS events FROM rollup_type_day
  WHERE account_id = $1 AND day BETWEEN $4::date AND $5::date
  GROUP BY type
)
SELECT
  (SELECT coalesce(json_agg(bounds), '[]'::json) FROM bounds) AS bounds,
  (SELECT coalesce(json_agg(exact), '[]'::json) FROM exact) AS users,
  (SELECT coalesce(json_object_agg(type, events), '{}'::json) FROM totals WHERE events > 0) AS totals`;
  return { sql, params };
}

interface CountsRow {
  bounds: DayListBound[];
  users: UserCount[];
  totals: Record<string, number>;
}

export class PostgresSummaryStore implements SummaryStore {
  constructor(private readonly pool: pg.Pool) {}

  counts(accountId: string, pieces: readonly DayPiece[], top: number): Promise<SummaryCounts> {
    return unavailableIfTransient(this.searchCounts(accountId, pieces, top));
  }

  private async searchCounts(
    accountId: string,
    pieces: readonly DayPiece[],
    top: number,
  ): Promise<SummaryCounts> {
    let listSize = initialListSize(top);
    const first = await this.attempt(this.pool, accountId, pieces, listSize);
    const verdict = topUsersIfExact(first.bounds, first.users, listSize, top);
    if (verdict.exact) return { totals: first.totals, topUsers: verdict.top, attempts: 1 };
    return inTransaction(this.pool, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (client) => {
      for (let attempts = 2; attempts <= MAX_ATTEMPTS; attempts++) {
        listSize *= LIST_GROWTH;
        const row = await this.attempt(client, accountId, pieces, listSize);
        const next = topUsersIfExact(row.bounds, row.users, listSize, top);
        if (next.exact) return { totals: row.totals, topUsers: next.top, attempts };
      }
      throw new Error(`top users not proven exact after ${MAX_ATTEMPTS} attempts`);
    });
  }

  async committedMessages(messageKeys: readonly string[]): Promise<Set<string>> {
    if (messageKeys.length === 0) return new Set();
    const { rows } = await unavailableIfTransient(
      this.pool.query<{ message_key: string }>(
        'SELECT message_key FROM committed_messages WHERE message_key = ANY($1::text[])',
        [messageKeys],
      ),
    );
    return new Set(rows.map((row) => row.message_key));
  }

  private async attempt(
    queryable: pg.Pool | pg.PoolClient,
    accountId: string,
    pieces: readonly DayPiece[],
    listSize: number,
  ): Promise<CountsRow> {
    const { sql, params } = countsStatement(accountId, pieces, listSize);
    const { rows } = await queryable.query<CountsRow>(sql, params);
    const row = rows[0]!;
    return {
      bounds: row.bounds.map((bound) => ({ ...bound, smallest: Number(bound.smallest) })),
      users: row.users.map((user) => ({ user_id: user.user_id, events: Number(user.events) })),
      totals: Object.fromEntries(Object.entries(row.totals).map(([type, events]) => [type, Number(events)])),
    };
  }
}

/** A database that is away or overloaded becomes the port's StoreUnavailable; anything else stays. */
async function unavailableIfTransient<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (isTransientDatabaseError(error)) throw new StoreUnavailable(describeError(error), { cause: error });
    throw error;
  }
}
