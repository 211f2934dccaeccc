/**
 * bench/writer: events/s of the writer path into real PostgreSQL, side by side in one run with
 *  (a) the seeds' baseline: one autocommitted INSERT per event on one connection, and
 *  (b) the physical reference: a plain COPY of the same rows into `events`, no dedup, no rollups.
 *
 * The writer runs the real use case (parse, plan, ensure partitions, one set-based statement per
 * batch) at concurrency 2, each worker with its own connection, as the event source mapping would.
 * The DynamoDB ledger is stubbed out (not part of the database path).
 *
 * It also prints each variant's CPU per event, client and PostgreSQL apart (the embedded server's
 * processes, from /proc), so the ratios come with where the time goes.
 *
 * With --waits, one more writer run (not timed) samples what the writer's server processes are
 * doing every 5 ms: working, or waiting (for a lock held by the other writer, for the client, for I/O).
 *
 *   npm run bench -- writer [--events 200000] [--runs 3] [--baseline-events 20000] [--waits]
 */

import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyText } from '../lambdas/adapters/postgres/event-store';
import { ensureEventPartitions } from '../lambdas/adapters/postgres/partition-maintenance';
import type { IncomingMessage } from '../lambdas/use-cases/write-events';
import { isMain } from '../local/is-main';
import { EventGenerator, type GeneratedEvent } from '../ops/event-generator';
import { batchesOf } from './support/load-events';
import { numberOption } from './support/options';
import { type BenchServer, startBenchServer } from './support/postgres';
import { endProgress, formatRate, median, progress, ratio } from './support/stats';
import type { WriterThreadData } from './support/writer-thread';

interface Options {
  events: number;
  runs: number;
  baselineEvents: number;
  concurrency: number;
  messagesPerBatch: number;
  eventsPerRequest: number;
  waits: boolean;
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
    waits: argv.includes('--waits'),
  };
}

/** One variant's run: events per second, and CPU microseconds per event on each side. */
interface Measurement {
  rate: number;
  clientCpuPerEvent: number;
  /** Undefined when the server's CPU cannot be read (an external DATABASE_URL). */
  serverCpuPerEvent: number | undefined;
}

/** Wall time, this process's CPU and the server's CPU of one timed section. */
class Meter {
  private started = 0;
  private cpu = process.cpuUsage();
  private serverCpu: number | undefined;
  constructor(private readonly server: BenchServer) {}
  start(): void {
    this.serverCpu = this.server.cpuMs();
    this.cpu = process.cpuUsage();
    this.started = performance.now();
  }
  /** Call before closing the connections, whose server processes then end. */
  stop(events: number): Measurement {
    const seconds = (performance.now() - this.started) / 1000;
    const cpu = process.cpuUsage(this.cpu);
    const serverCpu = this.server.cpuMs();
    return {
      rate: events / seconds,
      clientCpuPerEvent: (cpu.user + cpu.system) / events,
      serverCpuPerEvent:
        serverCpu === undefined || this.serverCpu === undefined
          ? undefined
          : ((serverCpu - this.serverCpu) * 1000) / events,
    };
  }
}

const WRITER_THREAD = new URL('./support/writer-thread.ts', import.meta.url).href;

/** A worker thread running a TypeScript module (tsx does not reach worker threads by itself). */
function startThread(module: string, workerData: WriterThreadData): Worker {
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(module)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/**
 * The writer at `concurrency`: one thread per writer instance (support/writer-thread.ts), started
 * and connected before the clock starts. The batches are copied to each thread once, untimed.
 */
async function runWriter(
  meter: Meter,
  url: string,
  batches: IncomingMessage[][],
  concurrency: number,
  total: number,
  onGo: () => void = () => undefined,
): Promise<Measurement> {
  const next = new Int32Array(new SharedArrayBuffer(4));
  const threads = Array.from({ length: concurrency }, () =>
    startThread(WRITER_THREAD, { url, batches, next }),
  );
  // Listened to from the start: a thread that finishes first exits while the others still write,
  // and an 'exit' emitted before anyone listens is lost (waiting for it then hung the benchmark).
  const exited = threads.map(
    (thread) => new Promise<void>((resolve) => thread.once('exit', () => resolve())),
  );
  // once() rejects when the thread fails with an error, so a crash cannot leave this waiting.
  const messages = () =>
    Promise.all(threads.map(async (thread) => (await once(thread, 'message'))[0] as string));
  try {
    await messages(); // every thread connected
    const finished = messages();
    meter.start();
    onGo();
    for (const thread of threads) thread.postMessage('go');
    const outcomes = await finished;
    const measurement = meter.stop(total);
    const failure = outcomes.find((outcome) => outcome !== 'done');
    if (failure) throw new Error(`a writer thread ${failure}`);
    // Each thread ends its pool, then exits: its connection closes cleanly before the drop.
    await Promise.all(exited);
    return measurement;
  } finally {
    await Promise.all(threads.map((thread) => thread.terminate())); // no-op for threads that exited
  }
}

// One row per writer backend: on CPU, or what it waits for (pg_stat_activity's wait event).
const BACKEND_STATES_SQL = `
  SELECT coalesce(wait_event_type || ': ' || wait_event, 'on CPU') || ' (' || state || ')' AS state
  FROM pg_stat_activity
  WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`;

/**
 * Shares of the writer backends' samples per state, largest first. `run` calls `go` when the writers
 * start writing: samples before it (connected writers waiting for the others) are not counted.
 */
async function sampleBackendStates(
  url: string,
  run: (go: () => void) => Promise<unknown>,
): Promise<[string, number][]> {
  const monitor = new pg.Client({ connectionString: url });
  await monitor.connect();
  const counts = new Map<string, number>();
  let writing = false;
  let running = true;
  const sampling = (async () => {
    while (running) {
      const { rows } = await monitor.query<{ state: string }>(BACKEND_STATES_SQL);
      if (writing) for (const { state } of rows) counts.set(state, (counts.get(state) ?? 0) + 1);
      await sleep(5);
    }
  })();
  // A failed sample ends the sampling; it is reported after the run, not as an unhandled rejection.
  const sampled = sampling.then(
    () => undefined,
    (error: unknown) => error,
  );
  const outcome = await run(() => {
    writing = true;
  }).then(
    () => undefined,
    (error: unknown) => ({ error }),
  );
  running = false;
  const failure = await sampled;
  await monitor.end();
  if (outcome) throw outcome.error;
  if (failure) throw failure;
  const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
  return [...counts]
    .map(([state, count]): [string, number] => [state, count / total])
    .sort((a, b) => b[1] - a[1]);
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

/**
 * Times `load` on one connection to a database whose partitions cover the events' days (created
 * before the clock starts, as the writer's are by its first batch).
 */
async function timedOnOneConnection(
  meter: Meter,
  url: string,
  events: readonly GeneratedEvent[],
  load: (client: pg.Client) => Promise<void>,
): Promise<Measurement> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const days = events.map((event) => event.timestamp.slice(0, 10)).sort();
    await ensureEventPartitions(client, days[0]!, days.at(-1)!);
    meter.start();
    await load(client);
    return meter.stop(events.length);
  } finally {
    await client.end();
  }
}

/** A baseline: the same events loaded another way, on one connection. */
type Baseline = (
  meter: Meter,
  url: string,
  events: readonly GeneratedEvent[],
  receivedAt: string,
) => Promise<Measurement>;

const runPerRowBaseline: Baseline = (meter, url, events, receivedAt) =>
  timedOnOneConnection(meter, url, events, async (client) => {
    for (const event of events) {
      await client.query(
        'INSERT INTO events (account_id, event_id, user_id, type, event_time, received_at, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        rowValues(event, receivedAt),
      );
    }
  });

const runCopy: Baseline = (meter, url, events, receivedAt) =>
  timedOnOneConnection(meter, url, events, async (client) => {
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
            .map((v) => copyText(String(v)))
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
  });

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
  const results = { writer: [] as Measurement[], copy: [] as Measurement[], perRow: [] as Measurement[] };
  const meter = new Meter(server);
  let waits: [string, number][] = [];
  try {
    for (let run = 1; run <= options.runs; run++) {
      for (const variant of ['writer', 'copy', 'perRow'] as const) {
        progress(`run ${run}/${options.runs}: ${variant} ...`);
        const url = await server.createDatabase(variant.toLowerCase());
        const measurement =
          variant === 'writer'
            ? await runWriter(meter, url, batches, options.concurrency, events.length)
            : variant === 'copy'
              ? await runCopy(meter, url, events, receivedAt)
              : await runPerRowBaseline(meter, url, events.slice(0, options.baselineEvents), receivedAt);
        results[variant].push(measurement);
        await server.dropDatabase(url);
      }
    }
    if (options.waits) {
      progress('writer backend states (an extra, untimed run) ...');
      const url = await server.createDatabase('waits');
      waits = await sampleBackendStates(url, (go) =>
        runWriter(meter, url, batches, options.concurrency, events.length, go),
      );
      await server.dropDatabase(url);
    }
    endProgress();
  } finally {
    await server.stop();
  }
  const rates = (variant: keyof typeof results) => results[variant].map((m) => m.rate);
  const medians = {
    writer: median(rates('writer')),
    copy: median(rates('copy')),
    perRow: median(rates('perRow')),
  };
  const { writer, copy, perRow } = medians;
  const labels = {
    writer: `writer (concurrency ${options.concurrency}, dedup + rollups):`,
    copy: 'plain COPY (1 connection, no dedup, no rollups):',
    perRow: 'per-row INSERT baseline (1 connection):',
  };
  for (const variant of ['writer', 'copy', 'perRow'] as const) {
    console.log(
      `${labels[variant].padEnd(49)} ${formatRate(medians[variant]).padStart(9)}  runs: ${rates(variant).map(formatRate).join(', ')}`,
    );
  }
  console.log(
    `writer / COPY = ${ratio(writer, copy)} (target >= 0.70x)   writer / per-row = ${ratio(writer, perRow)} (target >= 20x)`,
  );
  // Where the time goes: CPU per event on each side (medians over the runs). The cores busy show
  // how much of the run was waiting (commits, locks) rather than working.
  const cpu = (variant: keyof typeof results) => {
    const client = median(results[variant].map((m) => m.clientCpuPerEvent));
    const server = results[variant].every((m) => m.serverCpuPerEvent !== undefined)
      ? median(results[variant].map((m) => m.serverCpuPerEvent!))
      : undefined;
    return { client, server };
  };
  const perEvent = { writer: cpu('writer'), copy: cpu('copy'), perRow: cpu('perRow') };
  if (perEvent.writer.server === undefined || perEvent.copy.server === undefined) {
    console.log('CPU per event: the server runs elsewhere (DATABASE_URL), so only its rates are compared');
    return;
  }
  for (const variant of ['writer', 'copy', 'perRow'] as const) {
    const { client, server: serverCpu } = perEvent[variant];
    const busy = ((client + serverCpu!) * medians[variant]) / 1e6;
    console.log(
      `CPU per event, ${variant.padEnd(6)}: client ${client.toFixed(1)} us, PostgreSQL ${serverCpu!.toFixed(1)} us; cores busy ${busy.toFixed(2)}`,
    );
  }
  console.log(
    `PostgreSQL CPU per event: writer / COPY = ${ratio(perEvent.writer.server, perEvent.copy.server)}; ` +
      `client CPU per event: writer / COPY = ${ratio(perEvent.writer.client, perEvent.copy.client)}`,
  );
  if (waits.length > 0) {
    console.log(
      `writer backends, sampled every 5 ms: ${waits
        .filter(([, share]) => share >= 0.005)
        .map(([state, share]) => `${state} ${(share * 100).toFixed(0)} %`)
        .join(', ')}`,
    );
  }
  // Even with a free client and no waiting, the writer cannot beat cores / its server CPU per event.
  const cores = availableParallelism();
  const ceiling = (cores * 1e6) / perEvent.writer.server;
  console.log(
    `writer ceiling with all ${cores} cores on PostgreSQL's work alone: ${formatRate(ceiling)} = ${ratio(ceiling, copy)} COPY`,
  );
}

if (isMain(import.meta.url)) {
  await benchWriter(process.argv.slice(2));
}
