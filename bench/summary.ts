/**
 * bench/summary: summary latency after loading >= 5 M generated events (30 days, 1,000 accounts,
 * a whale near 30%), for the whale and a median account, last_24h and last_7d:
 *  - the rollup path (PostgresSummaryStore: totals + exact top users, one statement usually),
 *  - the seeds' way, GROUP BY over the raw events (with an (account_id, event_time) index),
 *  - the cached path (SummaryReader answering from the DynamoDB cache, dynalite here).
 * Same run, same data; ratios printed.
 *
 *   npm run bench -- summary [--events 5000000] [--iterations 200]
 */
import pg from 'pg';
import { DynamoSummaryCache } from '../lambdas/adapters/dynamodb/summary-cache';
import { PostgresSummaryStore } from '../lambdas/adapters/postgres/summary-store';
import { dayPieces, parseSummaryQuery } from '../lambdas/core/summary-window';
import { SummaryReader } from '../lambdas/use-cases/summarize';
import { isMain } from '../local/is-main';
import { accountIdFor } from '../ops/event-generator';
import { ingestAuth } from '../test/support/api-gateway-events';
import { startTestDynamo } from '../test/support/dynamodb';
import { loadGeneratedEvents } from './support/load-events';
import { numberOption } from './support/options';
import { startBenchServer } from './support/postgres';
import { quietLog } from './support/quiet-log';
import { endProgress, formatMs, percentile, ratio } from './support/stats';

async function timed(iterations: number, run: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.min(5, iterations); i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return samples;
}

const RAW_TOTALS = `SELECT type, count(*) FROM events WHERE account_id = $1 AND event_time >= $2 AND event_time < $3 GROUP BY type`;
const RAW_TOP = `SELECT user_id, count(*) AS n FROM events WHERE account_id = $1 AND event_time >= $2 AND event_time < $3
  GROUP BY user_id ORDER BY n DESC, user_id LIMIT 10`;

export async function benchSummary(argv: readonly string[]): Promise<void> {
  const total = numberOption(argv, 'events', 5_000_000);
  const iterations = numberOption(argv, 'iterations', 200);
  const now = Date.now();
  console.log(
    `bench/summary: ${total.toLocaleString('en-US')} events over 30 days, ${iterations} iterations per rollup case`,
  );
  const server = await startBenchServer();
  const dynamo = await startTestDynamo();
  try {
    const url = await server.createDatabase('summary');
    const load = await loadGeneratedEvents(
      url,
      total,
      { seed: 11, from: now - 30 * 86_400_000, to: now },
      now,
    );
    endProgress();
    console.log(
      `loaded through the writer in ${load.seconds.toFixed(0)} s (${Math.round(total / load.seconds).toLocaleString('en-US')} events/s)`,
    );
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    // The seeds' schema had this index; without it their GROUP BY would scan every partition.
    await pool.query('CREATE INDEX events_account_time ON events (account_id, event_time)');
    await pool.query('VACUUM ANALYZE');
    const { rows: sizes } = await pool.query<{ account_id: string; n: string }>(
      'SELECT account_id, sum(events)::bigint AS n FROM rollup_type_day GROUP BY 1 ORDER BY 2 DESC',
    );
    const whale = accountIdFor(0);
    const median = sizes[Math.floor(sizes.length / 2)]!.account_id;
    const { rows: userDays } = await pool.query(
      `SELECT count(*)::int AS n FROM rollup_user_day WHERE account_id = $1 AND day >= (now() - interval '7 days')::date`,
      [whale],
    );
    console.log(
      `whale ${whale}: ${Number(sizes[0]!.n).toLocaleString('en-US')} events, ${userDays[0].n.toLocaleString('en-US')} user-day rows in its last 7 days; ` +
        `median account ${median}: ${Number(sizes.find((s) => s.account_id === median)!.n).toLocaleString('en-US')} events`,
    );

    const store = new PostgresSummaryStore(pool);
    const readerDependencies = {
      store,
      cache: new DynamoSummaryCache(dynamo.documents, dynamo.names.summaryCacheTable),
      ledger: { oldestPending: async () => ({ messages: [] }) },
      settings: { cacheTtlSeconds: 3600, maxRangeDays: 90, ingestTimeoutSeconds: 10, queueRetentionDays: 4 },
      log: quietLog,
      now: () => now,
    };
    const reader = new SummaryReader(readerDependencies);
    for (const account of [whale, median]) {
      for (const name of ['last_24h', 'last_7d'] as const) {
        const { window } = parseSummaryQuery({ window: name }, now, 90);
        const pieces = dayPieces(window);
        const params = [account, new Date(window.fromMs), new Date(window.toMs)];
        const rollup = await timed(iterations, () => store.counts(account, pieces, 10));
        const raw = await timed(Math.max(10, Math.floor(iterations / 10)), () =>
          Promise.all([pool.query(RAW_TOTALS, params), pool.query(RAW_TOP, params)]),
        );
        const query = { window: name };
        await reader.read({ auth: ingestAuth({ accountId: account }), accountId: account, query });
        const cached = await timed(iterations, () =>
          reader.read({ auth: ingestAuth({ accountId: account }), accountId: account, query }),
        );
        // A new instance: its memory is empty, so the hit comes from DynamoDB.
        const shared = await timed(iterations, () =>
          new SummaryReader(readerDependencies).read({
            auth: ingestAuth({ accountId: account }),
            accountId: account,
            query,
          }),
        );
        const label = `${account === whale ? 'whale ' : 'median'} ${name.padEnd(8)}`;
        console.log(
          `${label} rollups p50 ${formatMs(percentile(rollup, 50))} p95 ${formatMs(percentile(rollup, 95))} | ` +
            `raw GROUP BY p50 ${formatMs(percentile(raw, 50))} p95 ${formatMs(percentile(raw, 95))} | ` +
            `cached in-instance p99 ${formatMs(percentile(cached, 99))}, from DynamoDB p50 ${formatMs(percentile(shared, 50))} p99 ${formatMs(percentile(shared, 99))} | ` +
            `raw/rollups at p95 ${ratio(percentile(raw, 95), percentile(rollup, 95))}`,
        );
      }
    }
    await pool.end();
  } finally {
    await dynamo.stop();
    await server.stop();
  }
}

if (isMain(import.meta.url)) {
  await benchSummary(process.argv.slice(2));
}
