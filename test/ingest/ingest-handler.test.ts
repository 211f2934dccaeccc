import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseArchiveLines } from '../../lambdas/core/archive-records';
import { parseQueueMessage } from '../../lambdas/core/queue-message';
import { createIngestHandler } from '../../lambdas/handlers/ingest';
import { createObservability } from '../../lambdas/shared/observability';
import type { IngestDependencies } from '../../lambdas/use-cases/ingest-events';
import { ingestAuth, proxyEvent } from '../support/api-gateway-events';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { acceptEverything, ingestDependencies } from '../support/ingest-dependencies';
import { silentLog as silent } from '../support/logs';

const sqs = mockClient(SQSClient);
const firehose = mockClient(FirehoseClient);
const NOW = Date.parse('2026-11-22T12:00:00.000Z');

function validEvent(i: number, overrides: Record<string, unknown> = {}) {
  return {
    event_id: `e${i}`,
    user_id: `u${i}`,
    type: 'page_view',
    timestamp: '2026-11-22T11:59:00Z',
    metadata: { i },
    ...overrides,
  };
}

function body(events: unknown): string {
  return JSON.stringify({ events });
}

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely and assert on them
function parse(result: APIGatewayProxyResult): Record<string, any> {
  return JSON.parse(result.body);
}

describe('Handler: ingest', () => {
  let dynamo: TestDynamo;
  let accountSequence = 0;
  let handler: ReturnType<typeof createIngestHandler>;
  let dependencies: IngestDependencies;

  beforeAll(async () => {
    dynamo = await startTestDynamo();
  });
  afterAll(async () => {
    await dynamo.stop();
  });
  beforeEach(() => {
    acceptEverything(sqs, firehose);
    dependencies = ingestDependencies(dynamo, () => NOW);
    handler = createIngestHandler(() => dependencies, createObservability('ingest'));
  });
  afterEach(() => {
    sqs.reset();
    firehose.reset();
    dynamo.standin.faults.reset();
  });

  /** A fresh account per test, so limiter state never leaks between tests. */
  function auth(overrides = {}) {
    return ingestAuth({ accountId: `acct-${++accountSequence}`, ...overrides });
  }

  function queuedMessages() {
    return sqs.commandCalls(SendMessageBatchCommand).flatMap((call) =>
      call.args[0].input.Entries!.map((entry) => ({
        group: entry.MessageGroupId,
        message: parseQueueMessage(entry.MessageBody!),
      })),
    );
  }

  function archivedLines() {
    return firehose.commandCalls(PutRecordBatchCommand).flatMap((call) =>
      call.args[0].input.Records!.flatMap((record) => {
        const { events, invalid } = parseArchiveLines(Buffer.from(record.Data!).toString());
        expect(invalid).toEqual([]);
        return events;
      }),
    );
  }

  describe('202 accepted', () => {
    it('queues and archives every valid event, normalised, before answering', async () => {
      // Prepare
      const who = auth();
      const events = [validEvent(1), validEvent(2, { timestamp: NOW - 1000, account_id: who.accountId })];

      // Act
      const result = await handler(proxyEvent({ auth: who, body: body(events) }));

      // Assess
      expect(result.statusCode).toBe(202);
      const response = parse(result);
      expect(response).toEqual({ accepted: 2, rejected: [], request_id: expect.any(String) });
      expect(result.headers?.['x-request-id']).toBe(response.request_id);
      const queued = queuedMessages();
      expect(queued).toHaveLength(1);
      expect(queued[0]!.group).toBe(who.accountId);
      expect(queued[0]!.message).toMatchObject({
        v: 1,
        account_id: who.accountId,
        request_id: response.request_id,
        message_key: `${response.request_id}:0`,
        received_at: new Date(NOW).toISOString(),
        events: [
          {
            event_id: 'e1',
            user_id: 'u1',
            type: 'page_view',
            timestamp: '2026-11-22T11:59:00.000Z',
            metadata: { i: 1 },
          },
          { event_id: 'e2', timestamp: '2026-11-22T11:59:59.000Z' },
        ],
      });
      expect(archivedLines().map((line) => [line.account_id, line.event_id, line.request_id])).toEqual([
        [who.accountId, 'e1', response.request_id],
        [who.accountId, 'e2', response.request_id],
      ]);
    });

    it('accepts a bare JSON array as the body', async () => {
      const result = await handler(proxyEvent({ auth: auth(), body: JSON.stringify([validEvent(1)]) }));
      expect(result.statusCode).toBe(202);
    });

    it('accepts the valid events and reports each rejected one with its code and field', async () => {
      const who = auth();
      const events = [
        validEvent(0),
        { user_id: 'u', type: 't', timestamp: NOW },
        validEvent(2, { user_id: 42 }),
        validEvent(3, { type: 'has space' }),
        validEvent(4, { extra: true }),
        validEvent(5, { timestamp: '2026-11-22T12:10:00Z' }),
        validEvent(6, { timestamp: '2026-10-01T00:00:00Z' }),
        validEvent(7, { metadata: { blob: 'x'.repeat(17 * 1024) } }),
        validEvent(8, { metadata: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } } }),
        validEvent(9, { account_id: 'someone-else' }),
        validEvent(0),
        validEvent(11, { timestamp: '2026-11-22 11:00:00' }),
        validEvent(12, { event_id: 'x'.repeat(129) }),
        validEvent(13, { user_id: 'nul\u0000' }),
        'not an object',
      ];

      const result = await handler(proxyEvent({ auth: who, body: body(events) }));

      expect(result.statusCode).toBe(202);
      const response = parse(result);
      expect(response.accepted).toBe(1);
      expect(
        response.rejected.map((r: { index: number; code: string; field: string | null }) => [
          r.index,
          r.code,
          r.field,
        ]),
      ).toEqual([
        [1, 'missing_field', 'event_id'],
        [2, 'invalid_type', 'user_id'],
        [3, 'invalid_format', 'type'],
        [4, 'unknown_field', 'extra'],
        [5, 'timestamp_in_future', 'timestamp'],
        [6, 'timestamp_too_old', 'timestamp'],
        [7, 'metadata_too_large', 'metadata'],
        [8, 'metadata_too_deep', 'metadata'],
        [9, 'account_mismatch', 'account_id'],
        [10, 'duplicate_in_batch', 'event_id'],
        [11, 'invalid_format', 'timestamp'],
        [12, 'invalid_format', 'event_id'],
        [13, 'invalid_format', 'user_id'],
        [14, 'invalid_type', null],
      ]);
      for (const rejection of response.rejected) expect(rejection.message).toEqual(expect.any(String));
      expect(response.rejected[0].event_id).toBeNull();
      expect(response.rejected[1].event_id).toBe('e2');
      expect(queuedMessages().flatMap((q) => q.message.events.map((e) => e.event_id))).toEqual(['e0']);
    });
  });

  describe('errors', () => {
    it.each([
      ['400 invalid_json', { body: '{"events": [' }, 400, 'invalid_json', undefined],
      ['400 invalid_body (no events)', { body: '{"items": []}' }, 400, 'invalid_body', 'items'],
      ['400 invalid_body (events not an array)', { body: '{"events": {}}' }, 400, 'invalid_body', 'events'],
      ['400 invalid_body (empty)', { body: '{"events": []}' }, 400, 'invalid_body', 'events'],
      ['400 invalid_body (scalar)', { body: '42' }, 400, 'invalid_body', undefined],
      [
        '413 too_many_events',
        { body: body(Array.from({ length: 501 }, (_, i) => validEvent(i))) },
        413,
        'too_many_events',
        'events',
      ],
      [
        '413 payload_too_large',
        { body: body([validEvent(1, { metadata: { pad: 'x'.repeat(1024 * 1024) } })]) },
        413,
        'payload_too_large',
        undefined,
      ],
      [
        '415 unsupported_media_type',
        { body: body([validEvent(1)]), headers: { 'content-type': 'text/plain' } },
        415,
        'unsupported_media_type',
        'content-type',
      ],
      [
        '415 unsupported_media_type (a charset other than UTF-8)',
        {
          body: body([validEvent(1)]),
          headers: { 'content-type': 'application/json; charset=iso-8859-1' },
        },
        415,
        'unsupported_media_type',
        'content-type',
      ],
      [
        '400 invalid_body (bytes that are not UTF-8)',
        {
          body: Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]).toString('base64'),
          base64: true,
        },
        400,
        'invalid_body',
        undefined,
      ],
      ['405 method_not_allowed', { body: null, method: 'GET' }, 405, 'method_not_allowed', undefined],
    ])('answers %s in the error shape', async (_, options, status, code, field) => {
      const result = await handler(proxyEvent({ auth: auth(), ...options }));

      expect(result.statusCode).toBe(status);
      const { error } = parse(result);
      expect(error).toMatchObject({ code, message: expect.any(String), request_id: expect.any(String) });
      expect(error.field).toBe(field);
      expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    });

    it('answers 400 no_valid_events with the verdicts when nothing is valid', async () => {
      const result = await handler(
        proxyEvent({ auth: auth(), body: body([{ nope: 1 }, validEvent(1, { type: '' })]) }),
      );

      expect(result.statusCode).toBe(400);
      const { error } = parse(result);
      expect(error.code).toBe('no_valid_events');
      expect(error.rejected.map((r: { code: string }) => r.code)).toEqual([
        'missing_field',
        'invalid_format',
      ]);
    });

    it('answers 401 when the authorizer context is missing', async () => {
      const result = await handler(proxyEvent({ body: body([validEvent(1)]) }));
      expect(result.statusCode).toBe(401);
      expect(parse(result).error.code).toBe('unauthorized');
    });

    it('answers 403 for a key without the ingest scope', async () => {
      const result = await handler(
        proxyEvent({ auth: auth({ scopes: ['read'] }), body: body([validEvent(1)]) }),
      );
      expect(result.statusCode).toBe(403);
      expect(parse(result).error.code).toBe('forbidden');
    });
  });

  describe('browsers (CORS)', () => {
    const publishable = () =>
      auth({ keyKind: 'publishable', scopes: ['ingest'], allowedOrigins: ['https://shop.example.com'] });

    it('accepts a publishable key from an allowed origin and lets the page read the answer', async () => {
      const result = await handler(
        proxyEvent({
          auth: publishable(),
          body: body([validEvent(1)]),
          headers: { origin: 'https://shop.example.com' },
        }),
      );
      expect(result.statusCode).toBe(202);
      expect(result.headers?.['access-control-allow-origin']).toBe('https://shop.example.com');
    });

    it('refuses a publishable key from another origin', async () => {
      const result = await handler(
        proxyEvent({
          auth: publishable(),
          body: body([validEvent(1)]),
          headers: { origin: 'https://evil.example.com' },
        }),
      );
      expect(result.statusCode).toBe(403);
      expect(result.headers?.['access-control-allow-origin']).toBeUndefined();
    });

    it('refuses a secret key used from a browser', async () => {
      const result = await handler(
        proxyEvent({
          auth: auth(),
          body: body([validEvent(1)]),
          headers: { origin: 'https://app.example.com' },
        }),
      );
      expect(result.statusCode).toBe(403);
      expect(parse(result).error.message).toMatch(/Secret keys must not be used from a browser/);
    });

    it('answers a preflight without a key', async () => {
      const result = await handler(
        proxyEvent({ method: 'OPTIONS', headers: { origin: 'https://shop.example.com' } }),
      );
      expect(result.statusCode).toBe(204);
      expect(result.headers).toMatchObject({
        'access-control-allow-origin': 'https://shop.example.com',
        'access-control-allow-headers': 'authorization, content-type',
      });
    });
  });

  describe('limits', () => {
    it('answers 429 rate_limited with Retry-After for the whole request once the events budget is spent', async () => {
      const who = auth({ tier: 'free' }); // 500 events/s with 2 s of burst: 1,000 events at once.
      const batch = body(Array.from({ length: 500 }, (_, i) => validEvent(i)));
      expect((await handler(proxyEvent({ auth: who, body: batch }))).statusCode).toBe(202);
      expect((await handler(proxyEvent({ auth: who, body: batch }))).statusCode).toBe(202);
      sqs.resetHistory();

      const refused = await handler(proxyEvent({ auth: who, body: batch }));

      expect(refused.statusCode).toBe(429);
      expect(parse(refused).error.code).toBe('rate_limited');
      expect(Number(refused.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    });

    it('fails open when the limiter store is unreachable', async () => {
      const errors: string[] = [];
      dependencies = {
        ...dependencies,
        limiter: { consume: async () => Promise.reject(new Error('connect ECONNREFUSED')) },
        log: { ...silent, error: (message: string) => errors.push(message) },
      };

      const result = await handler(proxyEvent({ auth: auth(), body: body([validEvent(1)]) }));

      expect(result.statusCode).toBe(202);
      expect(errors).toContain('rate limiter unavailable; failing open');
    });
  });

  describe('enqueue faults', () => {
    it('retries entries SQS reports as failed and answers 202 once all are in', async () => {
      let calls = 0;
      sqs.on(SendMessageBatchCommand).callsFake((input) => {
        calls++;
        return calls === 1
          ? {
              Successful: [],
              Failed: input.Entries.map((e: { Id: string }) => ({
                Id: e.Id,
                Code: 'InternalError',
                SenderFault: false,
              })),
            }
          : { Successful: input.Entries.map((e: { Id: string }) => ({ Id: e.Id })), Failed: [] };
      });

      const result = await handler(proxyEvent({ auth: auth(), body: body([validEvent(1)]) }));

      expect(result.statusCode).toBe(202);
      expect(calls).toBe(2);
    });

    it('answers 503 when SQS keeps failing some entries', async () => {
      sqs
        .on(SendMessageBatchCommand)
        .resolves({ Successful: [], Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }] });
      const result = await handler(proxyEvent({ auth: auth(), body: body([validEvent(1)]) }));
      expect(result.statusCode).toBe(503);
      expect(parse(result).error.code).toBe('unavailable');
    });

    it('answers 503 when SQS is down', async () => {
      sqs.on(SendMessageBatchCommand).rejects(new Error('getaddrinfo ENOTFOUND sqs'));
      const result = await handler(proxyEvent({ auth: auth(), body: body([validEvent(1)]) }));
      expect(result.statusCode).toBe(503);
    });

    it('retries only the records Firehose failed (FailedPutCount > 0) and answers 202', async () => {
      const attempts: number[] = [];
      firehose.on(PutRecordBatchCommand).callsFake((input) => {
        attempts.push(input.Records.length);
        return attempts.length === 1
          ? {
              FailedPutCount: 1,
              RequestResponses: input.Records.map(() => ({
                ErrorCode: 'ServiceUnavailableException',
                ErrorMessage: 'slow down',
              })),
            }
          : { FailedPutCount: 0, RequestResponses: input.Records.map(() => ({ RecordId: 'r' })) };
      });

      const result = await handler(proxyEvent({ auth: auth(), body: body([validEvent(1), validEvent(2)]) }));

      expect(result.statusCode).toBe(202);
      expect(attempts).toEqual([1, 1]);
    });

    /** The handler with its metrics recorded: name → values added. */
    function meteredHandler() {
      const observability = createObservability('ingest');
      const added: Record<string, number[]> = {};
      vi.spyOn(observability.metrics, 'addMetric').mockImplementation((name, _unit, value) => {
        added[name] = [...(added[name] ?? []), value];
        return observability.metrics;
      });
      return { handle: createIngestHandler(() => dependencies, observability), added };
    }

    it('answers 503 when Firehose keeps failing records, and when it is down', async () => {
      firehose
        .on(PutRecordBatchCommand)
        .resolves({ FailedPutCount: 1, RequestResponses: [{ ErrorCode: 'InternalFailure' }] });
      expect((await handler(proxyEvent({ auth: auth(), body: body([validEvent(1)]) }))).statusCode).toBe(503);
      firehose.on(PutRecordBatchCommand).rejects(new Error('ServiceUnavailableException'));
      const { handle, added } = meteredHandler();
      expect((await handle(proxyEvent({ auth: auth(), body: body([validEvent(1)]) }))).statusCode).toBe(503);
      expect(added.LedgerWriteErrors).toBeUndefined();
    });

    it('answers 503 and sends nothing when the in-flight ledger cannot record the messages', async () => {
      dependencies = { ...dependencies, limiter: { consume: async () => ({ allowed: true }) } };
      dynamo.standin.faults.set({ down: true });
      const { handle, added } = meteredHandler();

      const result = await handle(proxyEvent({ auth: auth(), body: body([validEvent(1)]) }));

      expect(result.statusCode).toBe(503);
      expect(queuedMessages()).toHaveLength(0);
      expect(added.LedgerWriteErrors).toEqual([1]);
    });

    it('answers 503 when the messages are sent but the ledger cannot confirm them', async () => {
      dependencies = {
        ...dependencies,
        ledger: {
          markSending: async () => undefined,
          markSent: async () => Promise.reject(new Error('throttled')),
        },
      };
      const { handle, added } = meteredHandler();

      const result = await handle(proxyEvent({ auth: auth(), body: body([validEvent(1)]) }));

      expect(result.statusCode).toBe(503);
      expect(queuedMessages()).toHaveLength(1);
      expect(added.LedgerWriteErrors).toEqual([1]);
    });

    it('answers 503 rather than a 202 past its deadline (the watermark relies on it)', async () => {
      let calls = 0;
      dependencies = {
        ...dependencies,
        answerDeadlineMs: 1_000,
        now: () => NOW + (calls++ === 0 ? 0 : 1_500),
      };

      const result = await handler(proxyEvent({ auth: auth(), body: body([validEvent(1)]) }));

      expect(result.statusCode).toBe(503);
    });
  });
});
