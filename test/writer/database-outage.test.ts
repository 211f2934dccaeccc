/**
 * The database stops in the middle of a batch. This file runs its own PostgreSQL server, since it
 * stops it: other test files share the run's server.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../lambdas/adapters/postgres/event-store';
import { migrate } from '../../lambdas/adapters/postgres/migrate';
import { writeEvents } from '../../lambdas/use-cases/write-events';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from '../../local/embedded-postgres';
import { ignoredLedger } from '../support/ledgers';
import { silentLog } from '../support/logs';
import { deliveriesFor, event, redelivered } from '../support/queue-messages';
import { expectedStoreState, readStoreState } from '../support/store-state';
import { waitFor } from '../support/wait';
import { WRITER_SETTINGS } from '../support/writers';

describe('Use case: writeEvents when the database goes away', () => {
  let server: EmbeddedPostgresHandle;
  let pool: pg.Pool;

  beforeAll(async () => {
    server = await startEmbeddedPostgres({
      dataDir: join(tmpdir(), `firehose-outage-${process.pid}-${Date.now()}`),
      persistent: false,
    });
    pool = new pg.Pool({ connectionString: server.adminUrl, max: 1, connectionTimeoutMillis: 2_000 });
    pool.on('error', () => undefined);
    const client = await pool.connect();
    await migrate(client);
    client.release();
  });
  afterAll(async () => {
    await pool.end().catch(() => undefined);
    await server.stop();
  });

  it('fails the whole batch, stores none of it, and stores it exactly once on redelivery after restart', async () => {
    // Prepare: another session holds a rollup row lock, so the writer's statement blocks mid-batch.
    const events = Array.from({ length: 300 }, (_, i) =>
      event(`acct-${i % 4}`, `e${i}`, Date.now(), `u${i % 9}`),
    );
    const deliveries = deliveriesFor(events);
    const errors: string[] = [];
    const deps = {
      store: new PostgresEventStore(pool),
      ledger: ignoredLedger,
      settings: WRITER_SETTINGS,
      log: { info: () => {}, warn: () => {}, error: (message: string) => errors.push(message) },
    };
    await deps.store.ensurePartitions([new Date().toISOString().slice(0, 10)]);
    const blocker = new pg.Client({ connectionString: server.adminUrl });
    blocker.on('error', () => undefined);
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query(
      `INSERT INTO rollup_type_day (account_id, day, type, events) VALUES ('acct-0', (now() AT TIME ZONE 'UTC')::date, 'page_view', 0)`,
    );

    // Act: the batch blocks on the lock; the server stops underneath it.
    const pending = writeEvents(deps, deliveries);
    await waitFor(
      'the batch to wait on the lock',
      async () => {
        const { rows } = await blocker.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
        );
        return rows[0].n > 0;
      },
      { intervalMs: 50 },
    );
    await server.pause();
    const outcome = await pending;
    await blocker.end().catch(() => undefined);

    // Assess: everything failed, nothing half-written once the server is back.
    expect(outcome.failedMessageIds.sort()).toEqual(deliveries.map((d) => d.messageId).sort());
    expect(outcome.inserted).toBe(0);
    expect(errors).toContain('batch write failed; the whole batch will be retried');
    await server.restart();
    const afterRestart = await readStoreState(pool);
    expect(afterRestart.events.size).toBe(0);
    expect(afterRestart.keys.size).toBe(0);
    expect(afterRestart.userDays.size).toBe(0);
    expect(afterRestart.typeDays.size).toBe(0);

    const retried = await writeEvents(deps, redelivered(deliveries));
    expect(retried).toMatchObject({ failedMessageIds: [], inserted: 300 });
    expect(await readStoreState(pool)).toEqual(expectedStoreState(events));
  }, 60_000);

  it('fails the whole batch while the database is down', async () => {
    await server.pause();
    try {
      const deliveries = deliveriesFor([event('acct-a', 'down-1'), event('acct-b', 'down-2')]);
      const outcome = await writeEvents(
        {
          store: new PostgresEventStore(pool),
          ledger: ignoredLedger,
          settings: WRITER_SETTINGS,
          log: silentLog,
        },
        deliveries,
      );
      expect(outcome.failedMessageIds).toHaveLength(deliveries.length);
    } finally {
      await server.restart();
    }
  }, 60_000);
});
