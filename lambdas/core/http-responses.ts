/**
 * The one place that turns results and errors into API Gateway proxy responses. Internal errors
 * never leak: an unexpected exception becomes a generic 500 with the request id to quote.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ApiError } from './errors';

export interface ResponseContext {
  readonly requestId: string;
  /** Headers to add to every response of this request (CORS). */
  readonly headers?: Readonly<Record<string, string>>;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export function jsonResponse(status: number, body: unknown, context: ResponseContext): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { ...JSON_HEADERS, 'x-request-id': context.requestId, ...context.headers },
    body: JSON.stringify(body),
  };
}

export function errorResponse(error: unknown, context: ResponseContext): APIGatewayProxyResult {
  const apiError =
    error instanceof ApiError
      ? error
      : new ApiError('internal_error', 'Something went wrong; quote the request_id if you contact us.');
  const body: Record<string, unknown> = {
    code: apiError.code,
    message: apiError.message,
    request_id: context.requestId,
  };
  if (apiError.details.field !== undefined) body.field = apiError.details.field;
  if (apiError.details.rejected !== undefined) body.rejected = apiError.details.rejected;
  const response = jsonResponse(apiError.status, { error: body }, context);
  if (apiError.details.retryAfterSeconds !== undefined) {
    response.headers = { ...response.headers, 'retry-after': String(apiError.details.retryAfterSeconds) };
  }
  return response;
}
