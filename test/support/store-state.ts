/**
 * Reads what the event store holds and computes, independently of the writer's SQL, what it should
 * hold for a set of distinct events. Exactly-once tests compare the two.
 */
import type pg from 'pg';
import { expect } from 'vitest';

export interface StoredEvent {
  readonly account_id: string;
  readonly event_id: string;
  readonly user_id: string;
  readonly type: string;
  /** Canonical ISO UTC timestamp. */
  readonly timestamp: string;
}

export interface StoreState {
  /** `account/event_id` → `user|type|timestamp` */
  readonly events: Map<string, string>;
  readonly keys: Set<string>;
  /** `account|user|day` → `total|h00,h01,...` */
  readonly userDays: Map<string, string>;
  /** `account|day|type` → `total|h00,...` */
  readonly typeDays: Map<string, string>;
}

const HOURS = Array.from({ length: 24 }, (_, hour) => `h${String(hour).padStart(2, '0')}`);

export async function readStoreState(pool: pg.Pool): Promise<StoreState> {
  const events = new Map<string, string>();
  const { rows: eventRows } = await pool.query(
    `SELECT account_id, event_id, user_id, type,
            to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ts
     FROM events`,
  );
  for (const row of eventRows) {
    const key = `${row.account_id}/${row.event_id}`;
    if (events.has(key)) throw new Error(`event ${key} is stored twice`);
    events.set(key, `${row.user_id}|${row.type}|${row.ts}`);
  }
  const { rows: keyRows } = await pool.query('SELECT account_id, event_id FROM event_keys');
  const keys = new Set(keyRows.map((row) => `${row.account_id}/${row.event_id}`));
  const counts = `events::text || '|' || concat_ws(',', ${HOURS.join(', ')}) AS counts`;
  const { rows: userRows } = await pool.query(
    `SELECT account_id || '|' || user_id || '|' || to_char(day, 'YYYY-MM-DD') AS key, ${counts} FROM rollup_user_day`,
  );
  const { rows: typeRows } = await pool.query(
    `SELECT account_id || '|' || to_char(day, 'YYYY-MM-DD') || '|' || type AS key, ${counts} FROM rollup_type_day`,
  );
  return {
    events,
    keys,
    userDays: new Map(userRows.map((row) => [row.key, row.counts])),
    typeDays: new Map(typeRows.map((row) => [row.key, row.counts])),
  };
}

/** What the store must hold for these events, first occurrence of each (account, event_id) winning. */
export function expectedStoreState(deliveredInOrder: readonly StoredEvent[]): StoreState {
  const firsts = new Map<string, StoredEvent>();
  for (const event of deliveredInOrder) {
    const key = `${event.account_id}/${event.event_id}`;
    if (!firsts.has(key)) firsts.set(key, event);
  }
  const events = new Map<string, string>();
  const userCounts = new Map<string, number[]>();
  const typeCounts = new Map<string, number[]>();
  const bump = (map: Map<string, number[]>, key: string, hour: number) => {
    const counts = map.get(key) ?? new Array<number>(25).fill(0);
    map.set(key, counts);
    counts[0]!++;
    counts[hour + 1]!++;
  };
  for (const [key, event] of firsts) {
    events.set(key, `${event.user_id}|${event.type}|${event.timestamp}`);
    const day = event.timestamp.slice(0, 10);
    const hour = Number(event.timestamp.slice(11, 13));
    bump(userCounts, `${event.account_id}|${event.user_id}|${day}`, hour);
    bump(typeCounts, `${event.account_id}|${day}|${event.type}`, hour);
  }
  const render = (counts: number[]) => `${counts[0]}|${counts.slice(1).join(',')}`;
  return {
    events,
    keys: new Set(firsts.keys()),
    userDays: new Map([...userCounts].map(([key, counts]) => [key, render(counts)])),
    typeDays: new Map([...typeCounts].map(([key, counts]) => [key, render(counts)])),
  };
}

/** Raw rows, keys and both rollups in `pool` equal what the distinct `delivered` events make, exactly. */
export async function expectStoreToHold(pool: pg.Pool, delivered: readonly StoredEvent[]): Promise<void> {
  const actual = await readStoreState(pool);
  const expected = expectedStoreState(delivered);
  expect(actual.events).toEqual(expected.events);
  expect(actual.keys).toEqual(expected.keys);
  expect(actual.userDays).toEqual(expected.userDays);
  expect(actual.typeDays).toEqual(expected.typeDays);
}
