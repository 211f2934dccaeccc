/**
 * bench/writer: events/s of the writer path into real PostgreSQL, side by side in one run with
 *  (a) the seeds' baseline: one autocommitted INSERT per event on one connection, and
 *  (b) the physical reference: a plain COPY of the same rows into `events`, no dedup, no rollups.
 *
 * The writer runs the real use case (parse, plan, ensure partitions, one set-based statement per
 * batch) at concurrency 2, each worker with its own connection, as the event source mapping would.
 * The DynamoDB ledger is stubbed out (not part of the database path).
 *
 *   npm run bench -- writer [--events 200000] [--runs 3] [--baseline-events 20000]
 */

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { PostgresEventStore } from '../lambdas/adapters/postgres/event-store';
import { ensureEventPartitions } from '../lambdas/adapters/postgres/partition-maintenance';
import { type IncomingMessage, writeEvents } from '../lambdas/use-cases/write-events';
import { isMain } from '../local/is-main';
import { EventGenerator, type GeneratedEvent } from '../ops/event-generator';
import { ignoredLedger } from '../test/support/ledgers';
import { batchesOf } from './support/load-events';
import { numberOption } from './support/options';
import { startBenchServer } from './support/postgres';
import { quietLog } from './support/quiet-log';
import { endProgress, formatRate, median, progress, ratio } from './support/stats';

interface Options {
  events: number;
  runs: number;
  baselineEvents: number;
  concurrency: number;
  messagesPerBatch: number;
  eventsPerRequest: number;
}

function parseOptions(argv: readonly string[]): Options {
  const value = (name: string, fallback: number) => numberOption(argv, name, fallback);
  return {
    events: value('events', 200_000),
    runs: value('runs', 3),
    baselineEvents: value('baseline-events', 20_000),
    concurrency: value('concurrency', 2),
    messagesPerBatch: value('batch', 20),
    eventsPerRequest: value('request', 250),
  };
}

async function runWriter(
  url: string,
  batches: IncomingMessage[][],
  concurrency: number,
  total: number,
): Promise<number> {
  const pools = Array.from({ length: concurrency }, () => new pg.Pool({ connectionString: url, max: 1 }));
  const settings = { rawRetentionDays: 90, partitionsAheadDays: 7, maxReceiveCount: 5 };
  let next = 0;
  const started = performance.now();
  await Promise.all(
    pools.map(async (pool) => {
      const deps = { store: new PostgresEventStore(pool), ledger: ignoredLedger, settings, log: quietLog };
      for (let i = next++; i < batches.length; i = next++) {
        const outcome = await writeEvents(deps, batches[i]!);
        if (outcome.failedMessageIds.length > 0)
          throw new Error(`writer failed ${outcome.failedMessageIds.length} messages`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(pools.map((pool) => pool.end()));
  return total / seconds;
}

function rowValues(event: GeneratedEvent, receivedAt: string): unknown[] {
  return [
    event.account_id,
    event.event_id,
    event.user_id,
    event.type,
    event.timestamp,
    receivedAt,
    JSON.stringify(event.metadata),
  ];
}

async function ensureDays(url: string, events: readonly GeneratedEvent[]): Promise<void> {
  const days = events.map((event) => event.timestamp.slice(0, 10)).sort();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await ensureEventPartitions(client, days[0]!, days.at(-1)!);
  await client.end();
}

async function runPerRowBaseline(
  url: string,
  events: readonly GeneratedEvent[],
  receivedAt: string,
): Promise<number> {
  await ensureDays(url, events);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const started = performance.now();
  for (const event of events) {
    await client.query(
      'INSERT INTO events (account_id, event_id, user_id, type, event_time, received_at, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      rowValues(event, receivedAt),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  await client.end();
  return events.length / seconds;
}

function copyEscape(value: string): string {
  return value.replace(/[\\\n\r\t]/g, (c) => ({ '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!);
}

async function runCopy(url: string, events: readonly GeneratedEvent[], receivedAt: string): Promise<number> {
  await ensureDays(url, events);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const started = performance.now();
  const stream = client.query(
    copyFrom(
      'COPY events (account_id, event_id, user_id, type, event_time, received_at, metadata) FROM STDIN',
    ),
  );
  const lines = function* () {
    let chunk: string[] = [];
    for (const event of events) {
      chunk.push(
        rowValues(event, receivedAt)
          .map((v) => copyEscape(String(v)))
          .join('\t'),
      );
      if (chunk.length === 1000) {
        yield `${chunk.join('\n')}\n`;
        chunk = [];
      }
    }
    if (chunk.length > 0) yield `${chunk.join('\n')}\n`;
  };
  await pipeline(Readable.from(lines()), stream);
  const seconds = (performance.now() - started) / 1000;
  await client.end();
  return events.length / seconds;
}

export async function benchWriter(argv: readonly string[]): Promise<void> {
  const options = parseOptions(argv);
  const now = Date.now();
  const generator = new EventGenerator({
    seed: 7,
    from: now - 24 * 3600_000,
    to: now,
    spreadOver: options.events,
    whaleShare: Number(process.env.WHALE ?? 0.3),
  });
  const events = generator.batch(options.events);
  const receivedAt = new Date(now).toISOString();
  const batches = [...batchesOf(events, receivedAt, options.eventsPerRequest, options.messagesPerBatch)];
  const distinct = new Set(events.map((e) => `${e.account_id}/${e.event_id}`)).size;
  console.log(
    `bench/writer: ${options.events.toLocaleString('en-US')} generated events (${distinct.toLocaleString('en-US')} distinct), ` +
      `${batches.length} batches of ${options.messagesPerBatch} messages x <= ${options.eventsPerRequest} events, ` +
      `writer concurrency ${options.concurrency}, ${options.runs} runs each`,
  );
  const server = await startBenchServer();
  const results = { writer: [] as number[], copy: [] as number[], perRow: [] as number[] };
  try {
    for (let run = 1; run <= options.runs; run++) {
      for (const variant of ['writer', 'copy', 'perRow'] as const) {
        progress(`run ${run}/${options.runs}: ${variant} ...`);
        const url = await server.createDatabase(variant.toLowerCase());
        const rate =
          variant === 'writer'
            ? await runWriter(url, batches, options.concurrency, events.length)
            : variant === 'copy'
              ? await runCopy(url, events, receivedAt)
              : await runPerRowBaseline(url, events.slice(0, options.baselineEvents), receivedAt);
        results[variant].push(rate);
        await server.dropDatabase(url);
      }
    }
    endProgress();
  } finally {
    await server.stop();
  }
  const writer = median(results.writer);
  const copy = median(results.copy);
  const perRow = median(results.perRow);
  console.log(
    `writer (concurrency ${options.concurrency}, dedup + rollups): ${formatRate(writer)}  runs: ${results.writer.map(formatRate).join(', ')}`,
  );
  console.log(
    `plain COPY (1 connection, no dedup, no rollups):   ${formatRate(copy)}  runs: ${results.copy.map(formatRate).join(', ')}`,
  );
  console.log(
    `per-row INSERT baseline (1 connection):            ${formatRate(perRow)}  runs: ${results.perRow.map(formatRate).join(', ')}`,
  );
  console.log(
    `writer / COPY = ${ratio(writer, copy)} (target >= 0.70x)   writer / per-row = ${ratio(writer, perRow)} (target >= 20x)`,
  );
}

if (isMain(import.meta.url)) {
  await benchWriter(process.argv.slice(2));
}
