/**
 * The local API Gateway: HTTP on 127.0.0.1 → REST (v1) proxy events → the real authorizer (with its
 * result cached per Authorization header for the TTL, as API Gateway does) → the real handlers.
 * API Gateway's own errors are shaped like the Gateway Responses of lib/constructs/ingest-api.ts.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { type GatewayResponseType, gatewayErrorResponse } from '../lambdas/core/gateway-errors';
import { BoundedMap } from '../lambdas/shared/bounded-map';
import type { FunctionName } from '../lambdas/shared/function-names';
import { lambdaContext, localFunctionName } from './lambda-context';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './standins/client-config';
import { startHttpServer } from './standins/http/http-server';
import { BodyTooLargeError, readBody } from './standins/http/read-body';

type Handler<E, R> = (event: E, context: Context) => Promise<R>;

export interface LocalApiOptions {
  readonly port: number;
  readonly authorizer: Handler<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>;
  readonly ingest: Handler<APIGatewayProxyEvent, APIGatewayProxyResult>;
  readonly summary: Handler<APIGatewayProxyEvent, APIGatewayProxyResult>;
  readonly authorizerCacheTtlSeconds: number;
  readonly stage?: string;
  readonly onError?: (error: unknown) => void;
}

export interface LocalApi {
  readonly endpoint: string;
  readonly port: number;
  /** Forget cached authorizer results (as a redeploy would). */
  clearAuthorizerCache(): void;
  stop(): Promise<void>;
}

/** API Gateway REST's payload limit. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
const SUMMARY_PATH = /^\/accounts\/([^/]+)\/summary$/;

interface Route {
  readonly resource: string;
  readonly function: FunctionName;
  readonly handler: Handler<APIGatewayProxyEvent, APIGatewayProxyResult>;
  readonly pathParameters: Record<string, string> | null;
  readonly authorized: boolean;
}

/** API Gateway's own errors, answered exactly as the deployed Gateway Responses answer them. */
function gatewayError(
  response: ServerResponse,
  type: GatewayResponseType,
  requestId: string,
  originalStatus?: number,
): void {
  const { statusCode, headers, body } = gatewayErrorResponse(type, requestId, originalStatus);
  response.writeHead(statusCode, { ...headers, 'x-request-id': requestId });
  response.end(body);
}

/** A request path that does not decode (a stray or malformed `%` escape): API Gateway's 400. */
class MalformedPathError extends Error {}

function decodePathParameter(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new MalformedPathError(`malformed path parameter: ${value}`);
  }
}

/** The body, or 'too_large' beyond API Gateway's payload limit. */
async function requestBody(request: IncomingMessage): Promise<Buffer | 'too_large'> {
  try {
    return await readBody(request, MAX_PAYLOAD_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return 'too_large';
    throw error;
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
function isUtf8(bytes: Buffer): boolean {
  try {
    STRICT_UTF8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function isTextual(contentType: string | undefined): boolean {
  return !contentType || /^(application\/json|text\/)/i.test(contentType);
}

const AUTHORIZER_CACHE_ENTRIES = 10_000;

export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const stage = options.stage ?? 'local';
  // By Authorization header, as API Gateway caches authorizer results; bounded, as its cache is.
  const cache = new BoundedMap<string, { result: APIGatewayAuthorizerResult; expiresAt: number }>(
    AUTHORIZER_CACHE_ENTRIES,
  );

  const route = (method: string, path: string): Route | undefined => {
    if (path === '/events' && (method === 'POST' || method === 'OPTIONS')) {
      return {
        resource: '/events',
        function: 'ingest',
        handler: options.ingest,
        pathParameters: null,
        authorized: method === 'POST',
      };
    }
    const summary = SUMMARY_PATH.exec(path);
    if (summary && method === 'GET') {
      return {
        resource: '/accounts/{id}/summary',
        function: 'summary',
        handler: options.summary,
        pathParameters: { id: decodePathParameter(summary[1]!) },
        authorized: true,
      };
    }
    return undefined;
  };

  const authorize = async (headers: Record<string, string>, methodArn: string) => {
    const header = headers.authorization;
    if (!header) return 'unauthorized' as const;
    const hit = cache.get(header);
    if (hit && hit.expiresAt > Date.now()) return hit.result;
    try {
      const result = await options.authorizer(
        {
          type: 'REQUEST',
          methodArn,
          headers,
          httpMethod: 'POST',
          path: '',
          resource: '',
          queryStringParameters: {},
          pathParameters: {},
          stageVariables: {},
          requestContext: {},
        } as unknown as APIGatewayRequestAuthorizerEvent,
        lambdaContext(localFunctionName('authorizer'), 10_000),
      );
      if (options.authorizerCacheTtlSeconds > 0)
        cache.set(header, { result, expiresAt: Date.now() + options.authorizerCacheTtlSeconds * 1000 });
      return result;
    } catch (error) {
      return error instanceof Error && error.message === 'Unauthorized'
        ? ('unauthorized' as const)
        : ('failed' as const);
    }
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const requestId = randomUUID();
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    let target: Route | undefined;
    try {
      target = route(method, url.pathname);
    } catch (error) {
      if (!(error instanceof MalformedPathError)) throw error;
      request.resume();
      return gatewayError(response, 'DEFAULT_4XX', requestId, 400);
    }
    // API Gateway says nothing about which paths exist (MISSING_AUTHENTICATION_TOKEN → 403).
    if (!target) return gatewayError(response, 'MISSING_AUTHENTICATION_TOKEN', requestId);
    const body = await requestBody(request);
    if (body === 'too_large') {
      // The rest of the body was not read: this connection cannot carry another request.
      response.setHeader('connection', 'close');
      return gatewayError(response, 'REQUEST_TOO_LARGE', requestId);
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const methodArn = `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:local/${stage}/${method}${target.resource}`;
    let authorizer: Record<string, unknown> | null = null;
    if (target.authorized) {
      const verdict = await authorize(headers, methodArn);
      if (verdict === 'unauthorized') return gatewayError(response, 'UNAUTHORIZED', requestId);
      if (verdict === 'failed') return gatewayError(response, 'AUTHORIZER_FAILURE', requestId);
      authorizer = { ...verdict.context, principalId: verdict.principalId };
    }
    // Text that is not valid UTF-8 goes as bytes, so the handler sees it as it is (and refuses it)
    // instead of text with its bad bytes silently replaced.
    const asText = isTextual(headers['content-type']) && isUtf8(body);
    const query = Object.fromEntries(url.searchParams);
    const event: APIGatewayProxyEvent = {
      httpMethod: method,
      path: url.pathname,
      resource: target.resource,
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
      body: body.length === 0 ? null : asText ? body.toString('utf8') : body.toString('base64'),
      isBase64Encoded: body.length > 0 && !asText,
      pathParameters: target.pathParameters,
      queryStringParameters: Object.keys(query).length > 0 ? query : null,
      multiValueQueryStringParameters: null,
      stageVariables: null,
      requestContext: {
        accountId: LOCAL_ACCOUNT_ID,
        apiId: 'local',
        authorizer,
        protocol: 'HTTP/1.1',
        httpMethod: method,
        identity: {
          sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        } as APIGatewayProxyEvent['requestContext']['identity'],
        path: `/${stage}${url.pathname}`,
        stage,
        requestId,
        requestTimeEpoch: Date.now(),
        resourceId: 'local',
        resourcePath: target.resource,
      },
    };
    let result: APIGatewayProxyResult;
    try {
      result = await target.handler(event, lambdaContext(localFunctionName(target.function), 29_000));
    } catch (error) {
      options.onError?.(error);
      return gatewayError(response, 'INTEGRATION_FAILURE', requestId);
    }
    response.writeHead(result.statusCode, {
      'x-request-id': requestId,
      ...(result.headers as Record<string, string>),
    });
    response.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
  };

  const server = await startHttpServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.onError?.(error);
      if (!response.headersSent) gatewayError(response, 'DEFAULT_5XX', randomUUID());
      else response.destroy();
    });
  }, options.port);
  return {
    endpoint: server.endpoint,
    port: server.port,
    clearAuthorizerCache: () => cache.clear(),
    // Requests in flight are answered first (up to the 29 s API Gateway gives an integration).
    stop: () => server.close(30_000),
  };
}
