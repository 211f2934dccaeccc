/**
 * Adversarial input and shared limits: no body crashes the handler or gets a 5xx; keys never reach
 * the logs; one tenant over its limit does not affect another.
 */
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoTenantStore } from '../../lambdas/adapters/dynamodb/tenant-store';
import { API_ERRORS } from '../../lambdas/core/errors';
import { createAuthorizerHandler } from '../../lambdas/handlers/authorizer';
import { createIngestHandler } from '../../lambdas/handlers/ingest';
import { createObservability } from '../../lambdas/shared/observability';
import { createAccount, createKey } from '../../ops/tenants';
import { ingestAuth, proxyEvent } from '../support/api-gateway-events';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { acceptEverything, ingestDependencies } from '../support/ingest-dependencies';
import { silentLog as silent } from '../support/logs';

const sqs = mockClient(SQSClient);
const firehose = mockClient(FirehoseClient);

describe('Handler: ingest under adversarial input and load', () => {
  let dynamo: TestDynamo;

  // A frozen clock: what the limiter allows must not depend on how fast this machine runs the test.
  const NOW = Date.now();
  const dependencies = () => ingestDependencies(dynamo, () => NOW);

  beforeAll(async () => {
    dynamo = await startTestDynamo();
  });
  afterAll(async () => {
    await dynamo.stop();
  });
  beforeEach(() => {
    acceptEverything(sqs, firehose);
  });
  afterEach(() => {
    sqs.reset();
    firehose.reset();
  });

  it('answers 10^4 random and adversarial bodies with a 2xx/4xx in the contract shape, never a crash or 5xx', async () => {
    const deps = { ...dependencies(), limiter: { consume: async () => ({ allowed: true as const }) } };
    const handler = createIngestHandler(() => deps, createObservability('ingest'));
    const now = Date.now();
    const nasty = fc.oneof(
      fc.constant('__proto__'),
      fc.constant('constructor'),
      fc.constant('\u0000'),
      fc.constant('\ud800'),
      fc.constant('\u202e'),
      fc.string({ maxLength: 200, unit: 'binary' }),
      fc.string({ minLength: 129, maxLength: 2000 }),
    );
    const scalar = fc.oneof(
      nasty,
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(now),
      fc.constant(new Date(now).toISOString()),
    );
    const deep = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        scalar,
        fc.array(tie('value'), { maxLength: 3 }),
        fc.dictionary(nasty, tie('value'), { maxKeys: 3 }),
      ),
    })).value;
    const eventLike = fc.record(
      {
        event_id: fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), scalar),
        user_id: fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), scalar),
        type: fc.oneof(fc.constantFrom('page_view', 'a:b.c-d_e'), scalar),
        timestamp: fc.oneof(
          fc.constant(now),
          fc.integer(),
          fc.string(),
          fc.constant('2026-02-30T00:00:00Z'),
          scalar,
        ),
        metadata: deep,
        account_id: scalar,
        __proto__: scalar,
      },
      { requiredKeys: [] },
    );
    const bodies = fc.oneof(
      fc.string({ maxLength: 300, unit: 'binary' }),
      fc.json({ maxDepth: 4 }),
      fc.array(eventLike, { maxLength: 8 }).map((events) => JSON.stringify({ events })),
      fc.array(eventLike, { maxLength: 8 }).map((events) => JSON.stringify(events)),
      fc
        .array(fc.integer({ min: 0, max: 255 }), { maxLength: 200 })
        .map((bytes) => Buffer.from(bytes).toString('base64')),
      fc.constant(`{"events":[${'['.repeat(5000)}${']'.repeat(5000)}]}`),
      fc.constant(
        '{"events":[{"event_id":"a","__proto__":{"polluted":true},"user_id":"u","type":"t","timestamp":0}]}',
      ),
    );
    const base64Flag = fc.boolean();

    await fc.assert(
      fc.asyncProperty(bodies, base64Flag, async (body, base64) => {
        const result = await handler(proxyEvent({ auth: ingestAuth(), body, base64 }));
        expect([202, 400, 413, 415]).toContain(result.statusCode);
        const parsed = JSON.parse(result.body);
        if (result.statusCode === 202) {
          expect(parsed).toEqual({
            accepted: expect.any(Number),
            rejected: expect.any(Array),
            request_id: expect.any(String),
          });
        } else {
          expect(Object.keys(API_ERRORS)).toContain(parsed.error.code);
          expect(parsed.error).toMatchObject({ message: expect.any(String), request_id: expect.any(String) });
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 10_000 },
    );
  }, 120_000);

  it('never writes an API key or Authorization header to the logs', async () => {
    // Prepare: capture everything the handlers print, at the most verbose level.
    const previous = process.env.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    const printed: string[] = [];
    const originalWrite = process.stdout.write.bind(process.stdout);
    const capture = (chunk: unknown) => {
      printed.push(String(chunk));
      return true;
    };
    const originalLog = console.log;
    const originalInfo = console.info;
    const originalError = console.error;
    const originalWarn = console.warn;
    const originalDebug = console.debug;
    try {
      process.stdout.write = capture as typeof process.stdout.write;
      console.log =
        console.info =
        console.error =
        console.warn =
        console.debug =
          (...args: unknown[]) => printed.push(args.map(String).join(' '));
      const store = new DynamoTenantStore(dynamo.documents, dynamo.names.tenantsTable);
      const account = await createAccount(store, { name: 'Logs', tier: 'standard' });
      const { key } = await createKey(store, { accountId: account.accountId, kind: 'secret' });
      const authorizer = createAuthorizerHandler(
        () => ({ keys: store, log: silent, defaultTier: 'standard' }),
        createObservability('authorizer'),
      );
      const ingest = createIngestHandler(dependencies, createObservability('ingest'));

      // Act: a good key, a revoked-looking bad key, and requests that fail in several ways.
      const allowed = await authorizer({
        type: 'REQUEST',
        methodArn: 'arn:aws:execute-api:r:1:a/s/POST/events',
        headers: { Authorization: `Bearer ${key}` },
      } as never);
      await authorizer({
        type: 'REQUEST',
        methodArn: 'arn:aws:execute-api:r:1:a/s/POST/events',
        headers: { Authorization: `Bearer ${key}x` },
      } as never).catch(() => undefined);
      const auth = ingestAuth({ accountId: account.accountId });
      for (const body of [
        `{"events":[{"event_id":"1","user_id":"u","type":"t","timestamp":${Date.now()}}]}`,
        '{bad',
        '{"events":[]}',
      ]) {
        await ingest(proxyEvent({ auth, body, headers: { Authorization: `Bearer ${key}` } }));
      }
      sqs.on(SendMessageBatchCommand).rejects(new Error(`boom Bearer ${key.slice(0, 3)}`));
      await ingest(
        proxyEvent({
          auth,
          body: `{"events":[{"event_id":"1","user_id":"u","type":"t","timestamp":${Date.now()}}]}`,
          headers: { Authorization: `Bearer ${key}` },
        }),
      );

      // Assess
      expect(allowed.principalId).toBe(account.accountId);
      const output = printed.join('\n');
      expect(output).toContain('events accepted');
      expect(output).not.toContain(key);
      expect(output).not.toContain(key.slice(12));
      expect(output.toLowerCase()).not.toContain('authorization');
    } finally {
      process.stdout.write = originalWrite;
      console.log = originalLog;
      console.info = originalInfo;
      console.error = originalError;
      console.warn = originalWarn;
      console.debug = originalDebug;
      process.env.POWERTOOLS_LOG_LEVEL = previous;
    }
  });

  it('throttles an account far over its limit while another account on other instances is unaffected', async () => {
    // Two handler instances share nothing but the limiter's table.
    const [first, second] = [0, 1].map(() =>
      createIngestHandler(dependencies, createObservability('ingest')),
    );
    const noisy = ingestAuth({ accountId: 'acct-noisy', tier: 'free' });
    const quiet = ingestAuth({ accountId: 'acct-quiet', tier: 'free' });
    const batch = (n: number) =>
      JSON.stringify({
        events: Array.from({ length: n }, (_, i) => ({
          event_id: `e${i}`,
          user_id: 'u',
          type: 't',
          timestamp: NOW - 1_000,
        })),
      });

    const noisyStatuses: number[] = [];
    const quietStatuses: number[] = [];
    await Promise.all([
      (async () => {
        for (let i = 0; i < 30; i++) {
          const handler = i % 2 === 0 ? first! : second!;
          noisyStatuses.push((await handler(proxyEvent({ auth: noisy, body: batch(200) }))).statusCode);
        }
      })(),
      (async () => {
        for (let i = 0; i < 6; i++) {
          const handler = i % 2 === 0 ? second! : first!;
          quietStatuses.push((await handler(proxyEvent({ auth: quiet, body: batch(20) }))).statusCode);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })(),
    ]);

    // free tier: 500 events/s, 2 s of burst. 30 x 200 events at one instant is far over.
    expect(noisyStatuses.filter((status) => status === 202).length).toBeLessThanOrEqual(8);
    expect(noisyStatuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(20);
    expect(quietStatuses).toEqual([202, 202, 202, 202, 202, 202]);
  });
});
