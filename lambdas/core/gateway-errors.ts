/**
 * API Gateway's own errors (Gateway Responses) in the public error contract
 * `{"error":{"code","message","request_id"}}`. One table, read by the CDK app (it creates a Gateway
 * Response per entry, lib/constructs/ingest-api.ts) and by the local API gateway, so both answer a
 * missing key, an authorizer crash or an unknown path the same way. Pure: no aws-cdk-lib here.
 */
import type { ApiErrorCode } from './errors';

/** The Gateway Response types we customise (API Gateway's names, `ResponseType` in CDK). */
export const GATEWAY_RESPONSE_TYPES = [
  'UNAUTHORIZED',
  'ACCESS_DENIED',
  'MISSING_AUTHENTICATION_TOKEN',
  'WAF_FILTERED',
  'THROTTLED',
  'QUOTA_EXCEEDED',
  'REQUEST_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'BAD_REQUEST_BODY',
  'BAD_REQUEST_PARAMETERS',
  'DEFAULT_4XX',
  'AUTHORIZER_FAILURE',
  'AUTHORIZER_CONFIGURATION_ERROR',
  'INTEGRATION_FAILURE',
  'INTEGRATION_TIMEOUT',
  'API_CONFIGURATION_ERROR',
  'DEFAULT_5XX',
] as const;

export type GatewayResponseType = (typeof GATEWAY_RESPONSE_TYPES)[number];

export interface GatewayError {
  readonly type: GatewayResponseType;
  /** The status sent; absent: API Gateway's own status is kept (DEFAULT_4XX). */
  readonly status?: number;
  readonly code: ApiErrorCode;
  readonly message: string;
  /** Sent as `Retry-After` (seconds). */
  readonly retryAfterSeconds?: number;
}

const UNAVAILABLE = {
  status: 503,
  code: 'unavailable',
  message: 'Service unavailable, retry later.',
} as const;
const RATE_LIMITED = {
  status: 429,
  code: 'rate_limited',
  message: 'Too many requests.',
  retryAfterSeconds: 1,
} as const;

export const GATEWAY_ERRORS: readonly GatewayError[] = [
  { type: 'UNAUTHORIZED', status: 401, code: 'unauthorized', message: 'Missing or invalid API key.' },
  { type: 'ACCESS_DENIED', status: 403, code: 'forbidden', message: 'This key may not do that.' },
  // API Gateway answers unknown paths and methods with this type; say nothing about what exists.
  { type: 'MISSING_AUTHENTICATION_TOKEN', status: 403, code: 'forbidden', message: 'Forbidden.' },
  { type: 'WAF_FILTERED', status: 403, code: 'forbidden', message: 'Request blocked.' },
  { type: 'THROTTLED', ...RATE_LIMITED },
  { type: 'QUOTA_EXCEEDED', ...RATE_LIMITED },
  {
    type: 'REQUEST_TOO_LARGE',
    status: 413,
    code: 'payload_too_large',
    message: 'The request body is too large.',
  },
  {
    type: 'UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    code: 'unsupported_media_type',
    message: 'Send application/json.',
  },
  { type: 'BAD_REQUEST_BODY', status: 400, code: 'invalid_body', message: 'The request body is invalid.' },
  {
    type: 'BAD_REQUEST_PARAMETERS',
    status: 400,
    code: 'invalid_body',
    message: 'The request is missing a required parameter.',
  },
  // Other 4xx keep API Gateway's status (none is expected: no IAM auth, no API Gateway API keys).
  { type: 'DEFAULT_4XX', code: 'invalid_body', message: 'The request is invalid.' },
  // Every 5xx of API Gateway's own (authorizer crash or timeout, integration failure) is a 503: a
  // retry is safe because events are idempotent by event_id.
  { type: 'AUTHORIZER_FAILURE', ...UNAVAILABLE },
  { type: 'AUTHORIZER_CONFIGURATION_ERROR', ...UNAVAILABLE },
  { type: 'INTEGRATION_FAILURE', ...UNAVAILABLE },
  { type: 'INTEGRATION_TIMEOUT', ...UNAVAILABLE },
  { type: 'API_CONFIGURATION_ERROR', ...UNAVAILABLE },
  { type: 'DEFAULT_5XX', ...UNAVAILABLE },
];

const BY_TYPE = new Map<string, GatewayError>(GATEWAY_ERRORS.map((error) => [error.type, error]));

/** The entry for a Gateway Response type, or undefined for a type we do not customise. */
export function gatewayError(type: string): GatewayError | undefined {
  return BY_TYPE.get(type);
}

/** Headers of every gateway error: browsers with publishable keys must be able to read the body. */
export function gatewayErrorHeaders(error: GatewayError): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'retry-after',
    'Content-Type': 'application/json',
    ...(error.retryAfterSeconds ? { 'Retry-After': String(error.retryAfterSeconds) } : {}),
  };
}

/** The contract's error body; on AWS `requestId` is `$context.requestId`, the id handlers report. */
export function gatewayErrorBody(error: GatewayError, requestId: string): string {
  return JSON.stringify({ error: { code: error.code, message: error.message, request_id: requestId } });
}

export interface GatewayErrorResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * What API Gateway sends for `type` (local gateway). `originalStatus` is the status API Gateway would
 * have used, kept by entries without their own (DEFAULT_4XX). Throws on a type not in the table.
 */
export function gatewayErrorResponse(
  type: GatewayResponseType,
  requestId: string,
  originalStatus?: number,
): GatewayErrorResponse {
  const error = gatewayError(type);
  if (!error) throw new Error(`No gateway error for ${type}`);
  const statusCode = error.status ?? originalStatus;
  if (statusCode === undefined) throw new Error(`${type} keeps the original status: pass it`);
  return { statusCode, headers: gatewayErrorHeaders(error), body: gatewayErrorBody(error, requestId) };
}
