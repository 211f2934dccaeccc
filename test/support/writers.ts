/**
 * The writer as tests run it against a test database: the settings every writer test uses, and
 * writer dependencies each on its own one-connection pool, as each deployed writer instance has.
 */
import pg from 'pg';
import { PostgresEventStore } from '../../lambdas/adapters/postgres/event-store';
import type { WriterLedger } from '../../lambdas/core/ports';
import type { WriterDependencies, WriterSettings } from '../../lambdas/use-cases/write-events';
import { RecordingLedger } from './ledgers';
import { silentLog } from './logs';

export const WRITER_SETTINGS: WriterSettings = {
  rawRetentionDays: 90,
  partitionsAheadDays: 7,
  maxReceiveCount: 5,
};

/**
 * `writer()` makes a writer instance on a pool of its own, `pool()` a one-connection pool for a test
 * that builds its own; `end()` closes them all.
 */
export function testWriters(url: () => string) {
  const pools: pg.Pool[] = [];
  const pool = () => {
    const created = new pg.Pool({ connectionString: url(), max: 1 });
    pools.push(created);
    return created;
  };
  return {
    pool,
    writer(ledger: WriterLedger = new RecordingLedger()): WriterDependencies {
      return { store: new PostgresEventStore(pool()), ledger, settings: WRITER_SETTINGS, log: silentLog };
    },
    end: () => Promise.all(pools.map((each) => each.end())),
  };
}
