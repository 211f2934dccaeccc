/**
 * API Gateway REST (v1) proxy events as the real service sends them, for handler tests and the
 * local gateway.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { type AuthContext, encodeAuthContext } from '../../lambdas/core/tenants';

export interface ProxyEventOptions {
  readonly method?: string;
  readonly path?: string;
  readonly resource?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | null;
  readonly base64?: boolean;
  readonly auth?: AuthContext;
  readonly pathParameters?: Record<string, string>;
  readonly query?: Record<string, string>;
}

export function proxyEvent(options: ProxyEventOptions = {}): APIGatewayProxyEvent {
  const method = options.method ?? 'POST';
  const path = options.path ?? '/events';
  return {
    httpMethod: method,
    path,
    resource: options.resource ?? path,
    headers: { 'content-type': 'application/json', ...options.headers },
    multiValueHeaders: {},
    body: options.body ?? null,
    isBase64Encoded: options.base64 ?? false,
    pathParameters: options.pathParameters ?? null,
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      authorizer: options.auth
        ? { ...encodeAuthContext(options.auth), principalId: options.auth.accountId }
        : null,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      identity: { sourceIp: '127.0.0.1' } as APIGatewayProxyEvent['requestContext']['identity'],
      path: `/local${path}`,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: options.resource ?? path,
    },
  };
}

export const ingestAuth = (overrides: Partial<AuthContext> = {}): AuthContext => ({
  accountId: 'acct-test',
  scopes: ['ingest', 'read'],
  tier: 'standard',
  keyKind: 'secret',
  keyPrefix: 'fh_sk_abcdef',
  allowedOrigins: [],
  ...overrides,
});
