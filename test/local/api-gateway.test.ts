/**
 * The local API gateway on its own: routing, the authorizer's cache, and API Gateway's own errors in
 * the same shape as the deployed Gateway Responses (lambdas/core/gateway-errors.ts).
 */
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayErrorResponse } from '../../lambdas/core/gateway-errors';
import { type LocalApi, startLocalApi } from '../../local/api-gateway';

describe('Local API gateway', () => {
  let api: LocalApi;
  let authorizerCalls = 0;
  let authorizerDown = false;
  const seen: APIGatewayProxyEvent[] = [];

  beforeAll(async () => {
    api = await startLocalApi({
      port: 0,
      authorizerCacheTtlSeconds: 60,
      authorizer: async (event): Promise<APIGatewayAuthorizerResult> => {
        authorizerCalls++;
        if (authorizerDown) throw new Error('Authorizer unavailable');
        if (event.headers?.authorization !== 'Bearer good') throw new Error('Unauthorized');
        return {
          principalId: 'acct',
          policyDocument: { Version: '2012-10-17', Statement: [] },
          context: { account_id: 'acct' },
        };
      },
      ingest: async (event) => {
        seen.push(event);
        return { statusCode: 202, body: '{"accepted":1}', headers: { 'content-type': 'application/json' } };
      },
      summary: async (event) => {
        seen.push(event);
        if (event.pathParameters?.id === 'crash') throw new Error('boom');
        return { statusCode: 200, body: '{}' };
      },
    });
  });
  afterAll(async () => {
    await api.stop();
  });

  async function call(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: string | Buffer,
  ) {
    const response = await fetch(`${api.endpoint}${path}`, { method, headers, body });
    return { status: response.status, text: await response.text(), headers: response.headers };
  }

  it('passes an authorized request to its handler as a REST proxy event with the authorizer context', async () => {
    const response = await call(
      'POST',
      '/events',
      { authorization: 'Bearer good', 'content-type': 'application/json' },
      '{"events":[]}',
    );
    expect(response.status).toBe(202);
    const event = seen.at(-1)!;
    expect(event).toMatchObject({
      httpMethod: 'POST',
      resource: '/events',
      body: '{"events":[]}',
      isBase64Encoded: false,
    });
    expect(event.requestContext.authorizer).toMatchObject({ account_id: 'acct', principalId: 'acct' });
    expect(response.headers.get('x-request-id')).toBe(event.requestContext.requestId);
  });

  it('passes a JSON body that is not valid UTF-8 as its bytes, so the handler sees them unchanged', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"events":[{"event_id":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('"}]}'),
    ]);

    await call(
      'POST',
      '/events',
      { authorization: 'Bearer good', 'content-type': 'application/json' },
      bytes,
    );

    const event = seen.at(-1)!;
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, 'base64')).toEqual(bytes);
  });

  it('caches the authorizer result for the TTL, per Authorization header', async () => {
    const before = authorizerCalls;
    await call('GET', '/accounts/a/summary', { authorization: 'Bearer good' });
    await call('GET', '/accounts/a/summary', { authorization: 'Bearer good' });
    expect(authorizerCalls - before).toBeLessThanOrEqual(1);
    expect(seen.at(-1)!.pathParameters).toEqual({ id: 'a' });
  });

  it.each([
    ['an unknown path', 'GET', '/nowhere', { authorization: 'Bearer good' }, 'MISSING_AUTHENTICATION_TOKEN'],
    ['a wrong method', 'DELETE', '/events', { authorization: 'Bearer good' }, 'MISSING_AUTHENTICATION_TOKEN'],
    ['no key', 'POST', '/events', {}, 'UNAUTHORIZED'],
    ['a bad key', 'POST', '/events', { authorization: 'Bearer bad' }, 'UNAUTHORIZED'],
  ] as const)('answers %s like API Gateway', async (_, method, path, headers, type) => {
    const response = await call(method, path, { ...headers });
    const expected = gatewayErrorResponse(type, 'x');
    expect(response.status).toBe(expected.statusCode);
    expect(JSON.parse(response.text).error).toMatchObject({
      ...JSON.parse(expected.body).error,
      request_id: expect.any(String),
    });
  });

  it('answers 413 beyond API Gateway 10 MB payload limit, 503 when the authorizer or a handler fails', async () => {
    const big = await call(
      'POST',
      '/events',
      { authorization: 'Bearer good' },
      Buffer.alloc(10 * 1024 * 1024 + 1, 'x'),
    );
    expect(big.status).toBe(413);
    expect(JSON.parse(big.text).error.code).toBe('payload_too_large');
    // The unread rest of the body makes the connection unusable: the client is told so.
    expect(big.headers.get('connection')).toBe('close');
    expect((await call('GET', '/accounts/crash/summary', { authorization: 'Bearer good' })).status).toBe(503);
    authorizerDown = true;
    api.clearAuthorizerCache();
    try {
      const failed = await call('POST', '/events', { authorization: 'Bearer good' }, '{}');
      expect(failed.status).toBe(503);
      expect(JSON.parse(failed.text).error.code).toBe('unavailable');
    } finally {
      authorizerDown = false;
    }
  });

  it('answers a path that does not decode (a malformed % escape) with a 400, without calling a handler', async () => {
    // Prepare
    const handled = seen.length;

    // Act
    const response = await call('GET', '/accounts/%E0%A4%A/summary', { authorization: 'Bearer good' });

    // Assess
    const expected = gatewayErrorResponse('DEFAULT_4XX', 'x', 400);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text).error).toMatchObject({
      ...JSON.parse(expected.body).error,
      request_id: expect.any(String),
    });
    expect(seen.length).toBe(handled);
  });

  it('decodes an escaped path parameter', async () => {
    await call('GET', '/accounts/acct%3A1/summary', { authorization: 'Bearer good' });

    expect(seen.at(-1)!.pathParameters).toEqual({ id: 'acct:1' });
  });

  it('lets a preflight through without a key, and base64-encodes a binary body', async () => {
    expect((await call('OPTIONS', '/events', { origin: 'https://a.example' })).status).toBe(202);
    await call(
      'POST',
      '/events',
      { authorization: 'Bearer good', 'content-type': 'application/octet-stream' },
      Buffer.from([0xff, 0x00]),
    );
    expect(seen.at(-1)).toMatchObject({
      isBase64Encoded: true,
      body: Buffer.from([0xff, 0x00]).toString('base64'),
    });
  });
});
