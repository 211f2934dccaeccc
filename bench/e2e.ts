/**
 * bench/e2e: sustained events/s through HTTP on this machine, against the whole local pipeline
 * (`npm start`'s pipeline: local API gateway, real handlers, stand-ins, writer workers, PostgreSQL),
 * with p50/p99 of POST /events and freshness p95 (received → committed and counted).
 *
 *   npm run bench -- e2e [--seconds 30] [--clients 8] [--batch 100] [--rate <events/s>] [--warmup 5] [--check]
 *
 * Without --rate, `clients` closed loops send as fast as they are answered (the most the machine
 * takes). With --rate, requests leave on a fixed schedule (open loop) and latency counts from the
 * scheduled time: the latency a client sees at that offered load. Requests of the first --warmup
 * seconds are sent and checked but left out of the latencies (every process starts cold).
 *
 * --check (CI's load smoke) fails unless every request got a 202 and the counted events equal the
 * distinct accepted ones.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { isMain } from '../local/is-main';
import { startLocalPipeline } from '../local/pipeline';
import { sleep } from '../local/sleep';
import { seedAccounts } from '../ops/seed';
import type { LoadRequest, LoadResult } from './support/http-load';
import { numberOption, optionalNumberOption } from './support/options';
import { endProgress, formatMs, formatRate, percentile, progress, ratio } from './support/stats';

export async function benchE2e(argv: readonly string[]): Promise<void> {
  const seconds = numberOption(argv, 'seconds', 30);
  const clients = numberOption(argv, 'clients', 8);
  const batch = numberOption(argv, 'batch', 100);
  const accounts = 50;
  const rate = optionalNumberOption(argv, 'rate');
  // Never more than half the run, so a short run still measures something.
  const warmupSeconds = Math.min(numberOption(argv, 'warmup', 5, { allowZero: true }), seconds / 2);
  const check = argv.includes('--check');
  const dir = await mkdtemp(join(tmpdir(), 'firehose-bench-e2e-'));
  console.log(
    `bench/e2e: ${rate === undefined ? `${clients} client${clients === 1 ? '' : 's'} sending` : `${formatRate(rate)} events offered in`} ${batch}-event batches for ${seconds} s to the local pipeline (${accounts} accounts)`,
  );
  const pipeline = await startLocalPipeline({ dir, port: 0, demo: false });
  try {
    const keys = await seedAccounts(pipeline.tenants, accounts, 'enterprise', 'bench e2e');
    // The load runs in its own process: external clients do not share the server's event loop.
    const child = fork(fileURLToPath(new URL('./support/http-load.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    const request: LoadRequest = {
      endpoint: pipeline.endpoint,
      keys,
      clients,
      batch,
      seconds,
      accounts,
      rate,
      warmupSeconds,
    };
    const result = await new Promise<LoadResult>((resolve, reject) => {
      child.on(
        'message',
        (message: { type: string; accepted?: number; seconds?: number; result?: LoadResult }) => {
          if (message.type === 'progress')
            progress(
              `${Math.round(message.seconds!)} s: ${formatRate(message.accepted! / message.seconds!)} accepted`,
            );
          if (message.type === 'result') resolve(message.result!);
        },
      );
      child.once('exit', (code) => reject(new Error(`the load process exited (code ${code})`)));
      child.send(request);
    });
    endProgress();
    const { latencies, errors } = result;
    const events = result.accepted;
    const statuses = new Map(result.statuses);
    const distinctAccepted = new Set(result.distinctAccepted);
    const wall = result.wallSeconds;
    const requests = [...statuses.values()].reduce((sum, n) => sum + n, errors);
    // Drain: wait until the queue is empty, then read freshness from what the writer committed.
    const sqs = new SQSClient(pipeline.standins.clients.sqs);
    const drainStart = Date.now();
    for (;;) {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: pipeline.queues.events,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      const left =
        Number(Attributes.ApproximateNumberOfMessages) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible);
      if (left === 0) break;
      progress(`draining: ${left} messages left`);
      await sleep(500);
    }
    endProgress();
    const { rows } = await pipeline.pool.query<{ ms: number }>(
      'SELECT extract(epoch FROM committed_at - received_at) * 1000 AS ms FROM committed_messages',
    );
    const freshness = rows.map((row) => Number(row.ms));
    const { rows: stored } = await pipeline.pool.query<{ n: number }>(
      'SELECT sum(events)::int AS n FROM rollup_type_day',
    );
    console.log(
      `statuses: ${[...statuses].map(([status, n]) => `${status} x ${n}`).join(', ')}${errors ? `, ${errors} connection errors` : ''}`,
    );
    console.log(
      `sustained ${formatRate(events / wall)} events accepted through HTTP (${formatRate(requests / wall)} requests); ` +
        `POST p50 ${formatMs(percentile(latencies, 50))}, p99 ${formatMs(percentile(latencies, 99))} (after a ${warmupSeconds} s warm-up)`,
    );
    console.log(
      `freshness (received -> committed): p50 ${formatMs(percentile(freshness, 50))}, p95 ${formatMs(percentile(freshness, 95))}, ` +
        `max ${formatMs(Math.max(...freshness))}; drained ${((Date.now() - drainStart) / 1000).toFixed(1)} s after the load stopped; ` +
        `${stored[0]!.n.toLocaleString('en-US')} events counted of ${distinctAccepted.size.toLocaleString('en-US')} distinct accepted`,
    );
    // Issue 9's goals: 5,000 events/s (or what was offered), POST p99 < 50 ms, freshness p95 < 2 s.
    console.log(
      `against the goals: accepted / ${rate === undefined ? 'goal of 5,000' : 'offered'} = ${ratio(events / wall, rate ?? 5_000)}, ` +
        `POST p99 / 50 ms = ${ratio(percentile(latencies, 99), 50)}, ` +
        `freshness p95 / 2 s = ${ratio(percentile(freshness, 95), 2_000)}`,
    );
    if (check) {
      const problems: string[] = [];
      if (errors > 0) problems.push(`${errors} connection errors`);
      for (const [status, n] of statuses)
        if (status !== 202) problems.push(`${n} responses with status ${status}`);
      if (stored[0]!.n !== distinctAccepted.size)
        problems.push(`counted ${stored[0]!.n} events, accepted ${distinctAccepted.size} distinct`);
      if (problems.length > 0) throw new Error(`load smoke failed: ${problems.join('; ')}`);
      console.log('load smoke: every request accepted, every distinct event counted once');
    }
  } finally {
    await pipeline.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  await benchE2e(process.argv.slice(2));
}
