/**
 * docs/openapi.yaml is checked against the handlers' real responses, and its enums against the
 * code's lists, so the document cannot drift from what the API does.
 */
import { readFileSync } from 'node:fs';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import Ajv2020 from 'ajv/dist/2020';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DynamoMessageLedger } from '../../lambdas/adapters/dynamodb/message-ledger';
import { DynamoSummaryCache } from '../../lambdas/adapters/dynamodb/summary-cache';
import { PostgresEventStore } from '../../lambdas/adapters/postgres/event-store';
import { PostgresSummaryStore } from '../../lambdas/adapters/postgres/summary-store';
import { API_ERRORS, EVENT_REJECTION_CODES } from '../../lambdas/core/errors';
import { NAMED_WINDOWS } from '../../lambdas/core/summary-window';
import { createIngestHandler } from '../../lambdas/handlers/ingest';
import { createSummaryHandler } from '../../lambdas/handlers/summary';
import { createObservability } from '../../lambdas/shared/observability';
import { SummaryReader } from '../../lambdas/use-cases/summarize';
import { writeEvents } from '../../lambdas/use-cases/write-events';
import { ingestAuth, proxyEvent } from '../support/api-gateway-events';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { acceptEverything, ingestDependencies } from '../support/ingest-dependencies';
import { ignoredLedger } from '../support/ledgers';
import { silentLog as silent } from '../support/logs';
import { deliveriesFor, event } from '../support/queue-messages';
import { WRITER_SETTINGS } from '../support/writers';

const document = parseYaml(readFileSync(new URL('../../docs/openapi.yaml', import.meta.url), 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('date-time', (value: string) => !Number.isNaN(Date.parse(value)));
ajv.addSchema(document, 'openapi');

function pointer(...parts: string[]): string {
  return `openapi#/${parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
}

/** Validates a real response against the document's schema for that path, method and status. */
function expectDocumented(path: string, method: string, result: APIGatewayProxyResult): void {
  const responses = document.paths[path][method].responses;
  expect(
    Object.keys(responses),
    `${method.toUpperCase()} ${path} documents status ${result.statusCode}`,
  ).toContain(String(result.statusCode));
  let response = responses[String(result.statusCode)];
  let base = pointer('paths', path, method, 'responses', String(result.statusCode));
  if (response.$ref) {
    base = `openapi${response.$ref}`;
    response = document.components.responses[response.$ref.split('/').pop()];
  }
  if (!response.content) return;
  const validate = ajv.getSchema(`${base}/content/application~1json/schema`)!;
  const body = JSON.parse(result.body);
  expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
  for (const header of Object.keys(response.headers ?? {}))
    expect(result.headers?.[header], header).toBeDefined();
}

describe('Document: docs/openapi.yaml', () => {
  const sqs = mockClient(SQSClient);
  const firehose = mockClient(FirehoseClient);
  let dynamo: TestDynamo;
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    dynamo = await startTestDynamo();
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    acceptEverything(sqs, firehose);
  });
  afterAll(async () => {
    sqs.restore();
    firehose.restore();
    await pool.end();
    await db.drop();
    await dynamo.stop();
  });

  it('lists exactly the error and rejection codes the code uses, and the named windows', () => {
    const schemas = document.components.schemas;
    expect(schemas.ErrorBody.properties.error.properties.code.enum.sort()).toEqual(
      Object.keys(API_ERRORS).sort(),
    );
    expect(schemas.Rejection.properties.code.enum.sort()).toEqual([...EVENT_REJECTION_CODES].sort());
    expect(
      document.paths['/accounts/{id}/summary'].get.parameters
        .find((p: { name: string }) => p.name === 'window')
        .schema.enum.sort(),
    ).toEqual(Object.keys(NAMED_WINDOWS).sort());
  });

  it('describes every POST /events response the handler gives', async () => {
    // A frozen clock: the free tier's bucket must not refill between the requests meant to empty it.
    const now = Date.now();
    const deps = ingestDependencies(dynamo, () => now);
    const handler = createIngestHandler(() => deps, createObservability('ingest'));
    const ok = (i: number) => ({ event_id: `e${i}`, user_id: 'u', type: 't', timestamp: now });
    const cases = [
      proxyEvent({ auth: ingestAuth(), body: JSON.stringify({ events: [ok(1), { bad: true }] }) }),
      proxyEvent({ auth: ingestAuth(), body: '{' }),
      proxyEvent({ auth: ingestAuth(), body: JSON.stringify({ events: [{ bad: true }] }) }),
      proxyEvent({ body: JSON.stringify({ events: [ok(1)] }) }),
      proxyEvent({ auth: ingestAuth({ scopes: ['read'] }), body: JSON.stringify({ events: [ok(1)] }) }),
      proxyEvent({ auth: ingestAuth(), method: 'PUT', body: '{}' }),
      proxyEvent({
        auth: ingestAuth(),
        body: JSON.stringify({ events: Array.from({ length: 501 }, (_, i) => ok(i)) }),
      }),
      proxyEvent({ auth: ingestAuth(), body: 'x', headers: { 'content-type': 'text/csv' } }),
    ];
    for (const request of cases) expectDocumented('/events', 'post', await handler(request));
    const throttled = ingestAuth({ accountId: 'acct-throttled', tier: 'free' });
    const big = JSON.stringify({ events: Array.from({ length: 500 }, (_, i) => ok(i)) });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const result = await handler(proxyEvent({ auth: throttled, body: big }));
      statuses.push(result.statusCode);
      expectDocumented('/events', 'post', result);
    }
    expect(statuses).toContain(429);
    sqs.on(SendMessageBatchCommand).rejects(new Error('down'));
    const unavailable = await handler(
      proxyEvent({ auth: ingestAuth({ accountId: 'acct-503' }), body: JSON.stringify({ events: [ok(1)] }) }),
    );
    expect(unavailable.statusCode).toBe(503);
    expectDocumented('/events', 'post', unavailable);
    const preflight = await handler(
      proxyEvent({ method: 'OPTIONS', headers: { origin: 'https://a.example' } }),
    );
    expect(Object.keys(document.paths['/events'].options.responses)).toContain(String(preflight.statusCode));
  });

  it('describes every GET /accounts/{id}/summary response the handler gives', async () => {
    const now = Date.now();
    await writeEvents(
      {
        store: new PostgresEventStore(pool),
        ledger: ignoredLedger,
        log: silent,
        settings: WRITER_SETTINGS,
      },
      deliveriesFor([
        event('acct-doc', 'a', now, 'u1', 'click'),
        event('acct-doc', 'b', now - 3_600_000, 'u2', 'view'),
      ]),
    );
    const reader = new SummaryReader({
      store: new PostgresSummaryStore(pool),
      cache: new DynamoSummaryCache(dynamo.documents, dynamo.names.summaryCacheTable),
      ledger: new DynamoMessageLedger(dynamo.documents, dynamo.names.ledgerTable),
      settings: { cacheTtlSeconds: 30, maxRangeDays: 90, ingestTimeoutSeconds: 10, queueRetentionDays: 4 },
      log: silent,
    });
    const handler = createSummaryHandler(() => reader, createObservability('summary'));
    const get = (
      query: Record<string, string>,
      auth = ingestAuth({ accountId: 'acct-doc' }),
      id = 'acct-doc',
    ) =>
      handler(
        proxyEvent({ method: 'GET', path: `/accounts/${id}/summary`, pathParameters: { id }, query, auth }),
      );
    const results = [
      await get({ window: 'last_24h' }),
      await get({ window: 'last_24h' }),
      await get({
        from: new Date(Math.floor(now / 3_600_000) * 3_600_000 - 7_200_000).toISOString(),
        to: new Date(Math.floor(now / 3_600_000) * 3_600_000 + 3_600_000).toISOString(),
        top: '1',
      }),
      await get({ window: 'forever' }),
      await get({ top: '1000' }),
      await get({}, ingestAuth({ accountId: 'acct-other' })),
      await handler(proxyEvent({ method: 'GET', pathParameters: { id: 'x' } })),
    ];
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 400, 400, 403, 401]);
    expect(JSON.parse(results[1]!.body).cached).toBe(true);
    for (const result of results) expectDocumented('/accounts/{id}/summary', 'get', result);
  });
});
