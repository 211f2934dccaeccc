/**
 * POST /events validation, pure: the request body to a list of accepted events (canonical, ready to
 * pack) and a verdict for every rejected one. Nothing here does I/O.
 */
// zod/mini: the same validation as classic zod, tree-shakable (the classic build adds 440 KB).
import * as z from 'zod/mini';
import { ApiError, type EventRejection, type EventRejectionCode } from './errors';
import {
  boundedText,
  isPlainObject,
  MAX_ID_LENGTH,
  MAX_TYPE_LENGTH,
  type QueuedEvent,
} from './queue-message';
import { DAY_MS, parseIsoInstant } from './time-buckets';

export interface IngestRules {
  readonly maxEventsPerRequest: number;
  readonly maxBodyBytes: number;
  readonly maxEventAgeDays: number;
  readonly maxFutureSkewSeconds: number;
  readonly maxMetadataBytes: number;
  readonly maxMetadataDepth: number;
}

/** An accepted event, with its metadata already serialised once for packing and archiving. */
export interface AcceptedEvent extends QueuedEvent {
  readonly metadataJson: string | undefined;
}

export interface ValidatedBatch {
  readonly accepted: AcceptedEvent[];
  readonly rejected: EventRejection[];
}

/** Body → the list of candidate events. Throws ApiError for a body that is not a batch at all. */
export function parseEventsBody(body: string, rules: IngestRules): unknown[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ApiError('invalid_json', 'The body is not valid JSON.');
  }
  let events: unknown;
  if (Array.isArray(json)) {
    events = json;
  } else if (isPlainObject(json)) {
    const unknown = Object.keys(json).find((key) => key !== 'events');
    if (unknown !== undefined)
      throw new ApiError('invalid_body', `Unknown field "${unknown}" in the body.`, { field: unknown });
    events = json.events;
    if (events === undefined)
      throw new ApiError('invalid_body', 'The body must have an "events" array.', { field: 'events' });
  } else {
    throw new ApiError('invalid_body', 'The body must be {"events": [...]} or a JSON array of events.');
  }
  if (!Array.isArray(events))
    throw new ApiError('invalid_body', '"events" must be an array.', { field: 'events' });
  if (events.length === 0)
    throw new ApiError('invalid_body', '"events" must not be empty.', { field: 'events' });
  if (events.length > rules.maxEventsPerRequest) {
    throw new ApiError(
      'too_many_events',
      `At most ${rules.maxEventsPerRequest} events per request; got ${events.length}.`,
      {
        field: 'events',
      },
    );
  }
  return events;
}

const TYPE_PATTERN = new RegExp(`^[A-Za-z0-9_.:-]{1,${MAX_TYPE_LENGTH}}$`);
// NUL cannot be stored by PostgreSQL; a lone surrogate is not valid Unicode and cannot be encoded;
// SQS refuses a message holding the noncharacters U+FFFE or U+FFFF (the request would get 503s
// forever, and an archive replay of it would stop at it).
const UNSTORABLE_TEXT =
  /\u0000|[\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const eventSchema = z.strictObject({
  event_id: boundedText(MAX_ID_LENGTH),
  account_id: z.optional(boundedText(MAX_ID_LENGTH)),
  user_id: boundedText(MAX_ID_LENGTH),
  type: z.string().check(z.regex(TYPE_PATTERN)),
  timestamp: z.union([z.string(), z.number()]),
  metadata: z.optional(z.custom<Record<string, unknown>>(isPlainObject)),
});

class Rejection {
  constructor(
    readonly code: EventRejectionCode,
    readonly field: string | null,
    readonly message: string,
  ) {}
}

function verdictFromZod(issue: z.core.$ZodIssue, candidate: Record<string, unknown>): Rejection {
  const field = issue.path.length > 0 ? String(issue.path[0]) : null;
  if (field !== null && issue.code !== 'unrecognized_keys' && candidate[field] === undefined) {
    return new Rejection('missing_field', field, `"${field}" is required.`);
  }
  switch (issue.code) {
    case 'unrecognized_keys':
      return new Rejection('unknown_field', issue.keys[0] ?? null, `Unknown field "${issue.keys[0]}".`);
    case 'invalid_type':
      return new Rejection('invalid_type', field, `"${field}" must be a ${issue.expected}.`);
    case 'invalid_union':
      return new Rejection(
        'invalid_type',
        field,
        `"${field}" must be an ISO-8601 string or epoch milliseconds.`,
      );
    case 'custom':
      return new Rejection('invalid_type', field, `"${field}" must be a JSON object.`);
    case 'too_small':
      return new Rejection('invalid_format', field, `"${field}" must not be empty.`);
    case 'too_big':
      return new Rejection(
        'invalid_format',
        field,
        `"${field}" is too long (at most ${issue.maximum} characters).`,
      );
    default:
      return field === 'type'
        ? new Rejection(
            'invalid_format',
            field,
            `"type" must be 1-${MAX_TYPE_LENGTH} characters of A-Z a-z 0-9 _ . : -`,
          )
        : new Rejection('invalid_format', field, `"${field}" is not valid.`);
  }
}

/** Epoch milliseconds of a timestamp, or a rejection. Calendar fields are checked, not normalised. */
export function parseTimestamp(value: string | number): number | Rejection {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    return new Rejection(
      'invalid_format',
      'timestamp',
      '"timestamp" as a number must be integer epoch milliseconds.',
    );
  }
  const ms = parseIsoInstant(value);
  if (ms !== undefined) return ms;
  return new Rejection(
    'invalid_format',
    'timestamp',
    '"timestamp" must be a valid ISO-8601 time with an offset, e.g. 2026-11-22T10:00:00Z.',
  );
}

/** Whether metadata nests deeper than `maxDepth` (objects and arrays both count as a level). */
function tooDeep(value: object, maxDepth: number, depth = 1): boolean {
  if (depth > maxDepth) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const child = value[i];
      if (typeof child === 'object' && child !== null && tooDeep(child, maxDepth, depth + 1)) return true;
    }
    return false;
  }
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null && tooDeep(child, maxDepth, depth + 1)) return true;
  }
  return false;
}

/**
 * What serialised metadata may not hold, found in one pass. JSON.stringify escapes exactly two kinds
 * of character we cannot store: NUL (\u0000) and lone surrogates (\udXXX; a valid pair is written
 * as-is); an escape counts only after an odd number of backslashes ("\\u0000" is a backslash
 * followed by the text "u0000"). It leaves U+FFFE and U+FFFF as they are, which SQS refuses.
 */
const UNSTORABLE_IN_JSON = /(\\+)u(?:0000|d[89a-f][0-9a-f]{2})|[\uFFFE\uFFFF]/g;
function hasUnstorable(json: string): boolean {
  for (const match of json.matchAll(UNSTORABLE_IN_JSON)) {
    if (match[1] === undefined || match[1].length % 2 === 1) return true;
  }
  return false;
}

function checkEvent(
  candidate: unknown,
  accountId: string,
  nowMs: number,
  rules: IngestRules,
): { event: AcceptedEvent } | { rejection: Rejection; eventId: string | null } {
  const eventId =
    isPlainObject(candidate) && typeof candidate.event_id === 'string' ? candidate.event_id : null;
  const reject = (rejection: Rejection) => ({ rejection, eventId });
  if (!isPlainObject(candidate))
    return reject(new Rejection('invalid_type', null, 'Each event must be a JSON object.'));
  const result = eventSchema.safeParse(candidate);
  if (!result.success) return reject(verdictFromZod(result.error.issues[0]!, candidate));
  const event = result.data;
  for (const field of ['event_id', 'user_id', 'account_id'] as const) {
    const value = event[field];
    if (value !== undefined && UNSTORABLE_TEXT.test(value)) {
      return reject(
        new Rejection(
          'invalid_format',
          field,
          `"${field}" contains a NUL character, U+FFFE, U+FFFF or invalid Unicode.`,
        ),
      );
    }
  }
  if (event.account_id !== undefined && event.account_id !== accountId) {
    return reject(
      new Rejection('account_mismatch', 'account_id', '"account_id" does not match the API key\'s account.'),
    );
  }
  const time = parseTimestamp(event.timestamp);
  if (time instanceof Rejection) return reject(time);
  if (time > nowMs + rules.maxFutureSkewSeconds * 1000) {
    return reject(
      new Rejection(
        'timestamp_in_future',
        'timestamp',
        `"timestamp" is more than ${rules.maxFutureSkewSeconds} s in the future.`,
      ),
    );
  }
  if (time < nowMs - rules.maxEventAgeDays * DAY_MS) {
    return reject(
      new Rejection(
        'timestamp_too_old',
        'timestamp',
        `"timestamp" is more than ${rules.maxEventAgeDays} days in the past.`,
      ),
    );
  }
  let metadataJson: string | undefined;
  if (event.metadata !== undefined) {
    if (tooDeep(event.metadata, rules.maxMetadataDepth)) {
      return reject(
        new Rejection(
          'metadata_too_deep',
          'metadata',
          `"metadata" nests deeper than ${rules.maxMetadataDepth} levels.`,
        ),
      );
    }
    metadataJson = JSON.stringify(event.metadata);
    if (hasUnstorable(metadataJson)) {
      return reject(
        new Rejection(
          'invalid_format',
          'metadata',
          '"metadata" contains a NUL character, U+FFFE, U+FFFF or invalid Unicode.',
        ),
      );
    }
    if (Buffer.byteLength(metadataJson) > rules.maxMetadataBytes) {
      return reject(
        new Rejection(
          'metadata_too_large',
          'metadata',
          `"metadata" is larger than ${rules.maxMetadataBytes} bytes serialised.`,
        ),
      );
    }
  }
  return {
    event: {
      event_id: event.event_id,
      user_id: event.user_id,
      type: event.type,
      timestamp: new Date(time).toISOString(),
      metadata: event.metadata,
      metadataJson,
    },
  };
}

/** A verdict per event: valid ones accepted (first of each event_id), the others rejected with why. */
export function validateEvents(
  candidates: readonly unknown[],
  accountId: string,
  nowMs: number,
  rules: IngestRules,
): ValidatedBatch {
  const accepted: AcceptedEvent[] = [];
  const rejected: EventRejection[] = [];
  const seen = new Set<string>();
  candidates.forEach((candidate, index) => {
    const verdict = checkEvent(candidate, accountId, nowMs, rules);
    if ('rejection' in verdict) {
      const { code, field, message } = verdict.rejection;
      rejected.push({ index, event_id: verdict.eventId, code, field, message });
    } else if (seen.has(verdict.event.event_id)) {
      rejected.push({
        index,
        event_id: verdict.event.event_id,
        code: 'duplicate_in_batch',
        field: 'event_id',
        message: 'An earlier event in this batch has the same "event_id"; the first one was accepted.',
      });
    } else {
      seen.add(verdict.event.event_id);
      accepted.push(verdict.event);
    }
  });
  return { accepted, rejected };
}
