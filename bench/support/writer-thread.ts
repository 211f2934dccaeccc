/**
 * One writer instance of bench/writer, in its own thread: as on AWS (one Lambda instance each) and
 * in `npm start` (one worker process each), writers do not share an event loop. Threads claim the
 * next batch from a shared counter; each owns one connection, as the deployed writer does.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { PostgresEventStore } from '../../lambdas/adapters/postgres/event-store';
import { type IncomingMessage, writeEvents } from '../../lambdas/use-cases/write-events';
import { ignoredLedger } from '../../test/support/ledgers';
import { quietLog } from './quiet-log';

export interface WriterThreadData {
  url: string;
  batches: IncomingMessage[][];
  /** Int32Array over a SharedArrayBuffer: [0] is the next batch to claim. */
  next: Int32Array;
}

const { url, batches, next } = workerData as WriterThreadData;
const pool = new pg.Pool({ connectionString: url, max: 1 });
const deps = {
  store: new PostgresEventStore(pool),
  ledger: ignoredLedger,
  settings: { rawRetentionDays: 90, partitionsAheadDays: 7, maxReceiveCount: 5 },
  log: quietLog,
};
// Connect before the clock starts, then wait for the go.
await pool.query('SELECT 1');
parentPort!.postMessage('ready');
parentPort!.once('message', async () => {
  try {
    for (let i = Atomics.add(next, 0, 1); i < batches.length; i = Atomics.add(next, 0, 1)) {
      const outcome = await writeEvents(deps, batches[i]!);
      if (outcome.failedMessageIds.length > 0)
        throw new Error(`writer failed ${outcome.failedMessageIds.length} messages`);
    }
    parentPort!.postMessage('done');
  } catch (error) {
    parentPort!.postMessage(`failed: ${(error as Error).stack ?? error}`);
  } finally {
    await pool.end();
  }
});
