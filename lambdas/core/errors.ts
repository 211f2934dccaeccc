/**
 * The one list of API error codes, with their HTTP status. Handlers throw ApiError; the single
 * mapping to responses is lambdas/core/http-responses.ts. API Gateway's own errors use the same
 * codes through Gateway Responses (lib/constructs).
 */

export const API_ERRORS = {
  invalid_json: 400,
  invalid_body: 400,
  no_valid_events: 400,
  invalid_window: 400,
  invalid_range: 400,
  invalid_parameter: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  too_many_events: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** Per-event verdict codes of POST /events (design §2). */
export const EVENT_REJECTION_CODES = [
  'missing_field',
  'invalid_type',
  'invalid_format',
  'unknown_field',
  'timestamp_in_future',
  'timestamp_too_old',
  'metadata_too_large',
  'metadata_too_deep',
  'account_mismatch',
  'duplicate_in_batch',
] as const;

export type EventRejectionCode = (typeof EVENT_REJECTION_CODES)[number];

export interface EventRejection {
  readonly index: number;
  readonly event_id: string | null;
  readonly code: EventRejectionCode;
  readonly field: string | null;
  readonly message: string;
}

export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details: {
      readonly field?: string;
      readonly retryAfterSeconds?: number;
      readonly rejected?: readonly EventRejection[];
    } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = API_ERRORS[code];
  }
}
