/**
 * bench/ingest: events/s per core of the ingest handler in-process (validation, limiter call,
 * packing, serialisation, SDK request building), with the AWS clients answered at the network edge
 * by a canned HTTP handler, for batches of 1, 100 and 500 events; p99 per request; and the size of
 * the esbuild bundle that would be deployed.
 *
 *   npm run bench -- ingest [--seconds 5] [--sizes 1,100,500]
 */

import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { build } from 'esbuild';
import { DynamoMessageLedger } from '../lambdas/adapters/dynamodb/message-ledger';
import { DynamoRateLimiter } from '../lambdas/adapters/dynamodb/rate-limiter';
import { FirehoseArchive } from '../lambdas/adapters/messaging/firehose-archive';
import { SqsEventQueue } from '../lambdas/adapters/messaging/sqs-event-queue';
import { createIngestHandler } from '../lambdas/handlers/ingest';
import { createObservability } from '../lambdas/shared/observability';
import { stageConfigs } from '../lib/config/stage-config';
import { isMain } from '../local/is-main';
import { powertoolsEnvironment } from '../local/powertools-env';
import { EventGenerator } from '../ops/event-generator';
import { ingestAuth, proxyEvent } from '../test/support/api-gateway-events';
import { numberListOption, numberOption } from './support/options';
import { quietLog } from './support/quiet-log';
import { formatMs, formatRate, percentile, ratio } from './support/stats';

/** Issue 4's goals: events per CPU-second at 500-event batches, and the deployed bundle's size. */
const INGEST_GOAL = 50_000;
const BUNDLE_GOAL_BYTES = 300 * 1024;

/**
 * Answers every AWS call locally with a well-formed success, after the SDK serialised it. It counts
 * the CPU it spends itself (parsing multi-megabyte requests to answer them), which is not the
 * handler's and is subtracted from the measurement.
 */
class CannedAwsHandler {
  metadata = { handlerProtocol: 'http/1.1' };
  /** CPU spent answering, in microseconds. */
  cpuMicros = 0;
  async handle(request: { headers: Record<string, string>; body?: unknown }) {
    const started = process.cpuUsage();
    try {
      return this.answer(request);
    } finally {
      const used = process.cpuUsage(started);
      this.cpuMicros += used.user + used.system;
    }
  }
  private answer(request: { headers: Record<string, string>; body?: unknown }) {
    const target = String(request.headers['x-amz-target'] ?? '');
    const raw = request.body;
    const input =
      raw === undefined
        ? {}
        : JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw as Uint8Array));
    let body: unknown = {};
    if (target.endsWith('SendMessageBatch')) {
      // The client runs with md5: false (as deployed), so no body digest is needed in the answer.
      body = {
        Successful: input.Entries.map((e: { Id: string }) => ({ Id: e.Id, MessageId: e.Id })),
        Failed: [],
      };
    } else if (target.endsWith('PutRecordBatch')) {
      body = {
        FailedPutCount: 0,
        Encrypted: false,
        RequestResponses: input.Records.map(() => ({ RecordId: 'r' })),
      };
    }
    const text = JSON.stringify(body);
    return {
      response: {
        statusCode: 200,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': String(Buffer.byteLength(text)),
        },
        body: Readable.from([Buffer.from(text)]),
      },
    };
  }
  updateHttpClientConfig(): void {}
  httpHandlerConfigs() {
    return {};
  }
  destroy(): void {}
}

/** The deployed bundle: the AWS SDK comes from the Lambda runtime (lib/constructs), so it is external. */
async function bundleSize(external: string[]): Promise<{ raw: number; gzip: number }> {
  const result = await build({
    external,
    entryPoints: ['lambdas/handlers/ingest.ts'],
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    write: false,
    mainFields: ['module', 'main'],
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  return { raw: code.length, gzip: gzipSync(code).length };
}

export async function benchIngest(argv: readonly string[]): Promise<void> {
  const seconds = numberOption(argv, 'seconds', 5);
  Object.assign(process.env, powertoolsEnvironment('WARN'));
  const aws = new CannedAwsHandler();
  const clientConfig = {
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    requestHandler: aws as never,
  };
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig));
  const config = stageConfigs.local;
  const deps = {
    queue: new SqsEventQueue(
      new SQSClient({ ...clientConfig, md5: false }),
      'https://sqs.us-east-1.amazonaws.com/1/events',
    ),
    archive: new FirehoseArchive(new FirehoseClient(clientConfig), 'archive'),
    limiter: new DynamoRateLimiter(documents, 'limits'),
    ledger: new DynamoMessageLedger(documents, 'ledger'),
    rules: config.ingest,
    tierLimits: {
      ...config.tiers,
      standard: { requestsPerSecond: 1e9, eventsPerSecond: 1e12, burstSeconds: 10 },
    },
    log: quietLog,
    answerDeadlineMs: 9_000,
    defaultTier: 'standard' as const,
  };
  const handler = createIngestHandler(() => deps, createObservability('ingest'));
  const generator = new EventGenerator({ seed: 3, accounts: 1 });
  console.log(
    `bench/ingest: in-process handler, AWS answered at the network edge, ${seconds} s per batch size, one core`,
  );
  const sizes = numberListOption(argv, 'sizes', [1, 100, 500]);
  const perCpuSecond = new Map<number, number>();
  for (const size of sizes) {
    const bodies = Array.from({ length: 50 }, () =>
      JSON.stringify({
        events: generator
          .batch(size)
          .map(({ account_id: _, ...event }) => ({ ...event, timestamp: Date.now() })),
      }),
    );
    const auth = ingestAuth();
    const latencies: number[] = [];
    let events = 0;
    const warmupEnd = performance.now() + 1000;
    for (let i = 0; performance.now() < warmupEnd; i++)
      await handler(proxyEvent({ auth, body: bodies[i % bodies.length]! }));
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    const awsCpuStart = aws.cpuMicros;
    for (let i = 0; performance.now() - started < seconds * 1000; i++) {
      const t = performance.now();
      const result = await handler(proxyEvent({ auth, body: bodies[i % bodies.length]! }));
      latencies.push(performance.now() - t);
      if (result.statusCode !== 202) throw new Error(`unexpected ${result.statusCode}: ${result.body}`);
      events += size;
    }
    const wall = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const awsCpuMicros = aws.cpuMicros - awsCpuStart;
    const cpuSeconds = (cpu.user + cpu.system - awsCpuMicros) / 1e6;
    perCpuSecond.set(size, events / cpuSeconds);
    console.log(
      `batch ${String(size).padStart(3)}: ${formatRate(events / cpuSeconds)} events per CPU-second ` +
        `(${formatRate(events / wall)} wall), ${formatRate(latencies.length / wall)} requests, ` +
        `p50 ${formatMs(percentile(latencies, 50))}, p99 ${formatMs(percentile(latencies, 99))}; ` +
        `the canned AWS answers' own CPU, excluded: ${((100 * awsCpuMicros) / (cpu.user + cpu.system)).toFixed(0)} %`,
    );
  }
  const smallest = Math.min(...sizes);
  const largest = Math.max(...sizes);
  console.log(
    `batch ${largest} vs batch ${smallest}: ${ratio(perCpuSecond.get(largest)!, perCpuSecond.get(smallest)!)} the events per CPU-second ` +
      `(the fixed cost of a request, spread); batch ${largest} vs the goal of 50,000: ${ratio(perCpuSecond.get(largest)!, INGEST_GOAL)}`,
  );
  const deployed = await bundleSize(['@aws-sdk/*', '@smithy/*']);
  const selfContained = await bundleSize([]);
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
  console.log(
    `bundle (esbuild, minified, node22 ESM): ${kb(deployed.raw)} (${kb(deployed.gzip)} gzipped) with the runtime's AWS SDK, ` +
      `as deployed; ${kb(selfContained.raw)} (${kb(selfContained.gzip)} gzipped) with the SDK bundled. ` +
      `Deployed / bundled = ${ratio(deployed.raw, selfContained.raw)}; deployed / goal of 300 KB = ${ratio(deployed.raw, BUNDLE_GOAL_BYTES)}.`,
  );
}

if (isMain(import.meta.url)) {
  await benchIngest(process.argv.slice(2));
}
