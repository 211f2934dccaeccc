/**
 * The SQS message format between ingest and the writer: one message packs many accepted events of
 * one request (one account). Versioned: the writer reads the version it knows and names any other
 * (a newer ingest, a rolled-back deploy); unknown fields are ignored, so a newer ingest may add some.
 */
import * as z from 'zod/mini';
import type { LedgerEntry } from './ports';
import { isCalendarTime } from './time-buckets';

export const QUEUE_MESSAGE_VERSION = 1;

/** Packed under SQS's historical 256 KiB limit so every queue and tool accepts it (design §10). */
export const MAX_QUEUE_MESSAGE_BYTES = 256 * 1024;

/** An accepted event as the writer receives it: validated, with a canonical UTC timestamp. */
export interface QueuedEvent {
  readonly event_id: string;
  readonly user_id: string;
  readonly type: string;
  /** ISO-8601 UTC with milliseconds, as produced by Date#toISOString. */
  readonly timestamp: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface QueueMessage {
  readonly v: typeof QUEUE_MESSAGE_VERSION;
  /** Unique per message and stable across redeliveries: `<request_id>:<part>`. */
  readonly message_key: string;
  readonly account_id: string;
  readonly request_id: string;
  readonly received_at: string;
  /** Sent again from the archive (`ops archive replay`): its age says nothing about the pipeline's. */
  readonly replay?: true;
  readonly events: readonly QueuedEvent[];
}

/** The canonical form Date#toISOString produces; the writer derives hour and day buckets from it. */
const CANONICAL_UTC_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Longest event_id, user_id and account_id; longest event type. Ingest enforces them (design §2). */
export const MAX_ID_LENGTH = 128;
export const MAX_TYPE_LENGTH = 64;
/** Longest request id a message carries (API Gateway's are 36 characters). */
export const MAX_REQUEST_ID_LENGTH = 200;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string of at most `max` characters. */
export const boundedText = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

/**
 * The writer takes day and hour from the text, PostgreSQL stores the instant: they agree only for a
 * real instant written canonically (2026-09-31, T24:00 and :60 match the pattern but roll over).
 */
function isCanonicalUtcTimestamp(value: string): boolean {
  if (!CANONICAL_UTC_TIMESTAMP.test(value)) return false;
  // Fields read from the characters: this runs for every event the writer reads, so no Date.
  return isCalendarTime(
    digitsAt(value, 0, 4),
    digitsAt(value, 5, 2),
    digitsAt(value, 8, 2),
    digitsAt(value, 11, 2),
    digitsAt(value, 14, 2),
    digitsAt(value, 17, 2),
  );
}

function digitsAt(text: string, from: number, length: number): number {
  let value = 0;
  for (let i = from; i < from + length; i++) value = value * 10 + text.charCodeAt(i) - 48;
  return value;
}

export const isoUtc = z
  .string()
  .check(z.refine(isCanonicalUtcTimestamp, 'must be a canonical UTC timestamp of a real instant'));
// The writer parses thousands of events per batch: a custom object check costs a third of z.record.
export const queuedEventSchema = z.object({
  event_id: boundedText(MAX_ID_LENGTH),
  user_id: boundedText(MAX_ID_LENGTH),
  type: boundedText(MAX_TYPE_LENGTH),
  timestamp: isoUtc,
  metadata: z.optional(z.custom<Record<string, unknown>>(isPlainObject, 'must be a JSON object')),
});
// Unknown fields are ignored (not rejected): a newer ingest may add fields during a deploy.
const queueMessageSchema = z.object({
  v: z.literal(QUEUE_MESSAGE_VERSION),
  message_key: boundedText(300),
  account_id: boundedText(MAX_ID_LENGTH),
  request_id: boundedText(MAX_REQUEST_ID_LENGTH),
  received_at: isoUtc,
  replay: z.optional(z.literal(true)),
  events: z.array(queuedEventSchema).check(z.minLength(1)),
});

// The fields that name a message in the in-flight ledger, read from a message that is otherwise unreadable.
const ledgerFieldsSchema = z.object({
  message_key: queueMessageSchema.shape.message_key,
  account_id: queueMessageSchema.shape.account_id,
  received_at: isoUtc,
});

export class MalformedMessageError extends Error {
  /**
   * Its ledger entry, when the message still names one (e.g. a version this writer cannot read):
   * once it goes to the DLQ, the watermark must stop waiting for it.
   */
  readonly entry: LedgerEntry | undefined;
  constructor(message: string, json?: unknown) {
    super(message);
    this.name = 'MalformedMessageError';
    const fields = ledgerFieldsSchema.safeParse(json);
    this.entry = fields.success
      ? {
          messageKey: fields.data.message_key,
          accountId: fields.data.account_id,
          receivedAt: fields.data.received_at,
        }
      : undefined;
  }
}

export function parseQueueMessage(body: string): QueueMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new MalformedMessageError('body is not JSON');
  }
  if (!isPlainObject(json)) throw new MalformedMessageError('message: must be a JSON object');
  if (json.v !== QUEUE_MESSAGE_VERSION) {
    // Sent by a newer ingest than this writer (a rolled-back deploy): say so, not just "invalid".
    throw new MalformedMessageError(
      `v: unknown message version ${JSON.stringify(json.v) ?? 'undefined'}; this writer reads ${QUEUE_MESSAGE_VERSION}`,
      json,
    );
  }
  const result = queueMessageSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new MalformedMessageError(`${issue.path.join('.') || 'message'}: ${issue.message}`, json);
  }
  return result.data as QueueMessage;
}

/** The key of a request's `part`-th message: unique per message, stable across redeliveries. */
export function messageKey(requestId: string, part: number): string {
  return `${requestId}:${part}`;
}

export interface PackInput {
  readonly account_id: string;
  readonly request_id: string;
  readonly received_at: string;
  /** Message keys are `<keyBase>:<part>`; default the request id (a replay needs keys of its own). */
  readonly keyBase?: string;
  /** Marks the messages as replayed from the archive (left out of the freshness lag). */
  readonly replay?: boolean;
  /** Events serialised by `serializeQueuedEvent`. */
  readonly events: readonly string[];
}

/** One event's JSON in a message; reuses metadata already serialised during validation. */
export function serializeQueuedEvent(event: QueuedEvent, metadataJson?: string): string {
  const metadata =
    metadataJson ?? (event.metadata === undefined ? undefined : JSON.stringify(event.metadata));
  return (
    `{"event_id":${JSON.stringify(event.event_id)},"user_id":${JSON.stringify(event.user_id)},` +
    `"type":${JSON.stringify(event.type)},"timestamp":"${event.timestamp}"` +
    `${metadata === undefined ? '' : `,"metadata":${metadata}`}}`
  );
}

/** The in-flight ledger's entries of the bodies `packQueueMessages` made from `input`, part by part. */
export function ledgerEntriesFor(input: PackInput, bodies: readonly string[]): LedgerEntry[] {
  return bodies.map((_, part) => ({
    messageKey: messageKey(input.keyBase ?? input.request_id, part),
    accountId: input.account_id,
    receivedAt: input.received_at,
  }));
}

/**
 * Packs serialised events into as few message bodies as fit under `maxBytes` each, keeping their
 * order. Bodies are assembled by concatenation, without serialising anything again.
 */
export function packQueueMessages(input: PackInput, maxBytes: number = MAX_QUEUE_MESSAGE_BYTES): string[] {
  const headerFor = (part: number) =>
    `{"v":${QUEUE_MESSAGE_VERSION},"message_key":${JSON.stringify(messageKey(input.keyBase ?? input.request_id, part))},` +
    `"account_id":${JSON.stringify(input.account_id)},"request_id":${JSON.stringify(input.request_id)},` +
    `"received_at":${JSON.stringify(input.received_at)},${input.replay ? '"replay":true,' : ''}"events":[`;
  const bodies: string[] = [];
  let header = headerFor(0);
  let parts: string[] = [];
  let size = Buffer.byteLength(header) + 2;
  for (const json of input.events) {
    const bytes = Buffer.byteLength(json) + 1;
    if (parts.length > 0 && size + bytes > maxBytes) {
      bodies.push(`${header}${parts.join(',')}]}`);
      header = headerFor(bodies.length);
      parts = [];
      size = Buffer.byteLength(header) + 2;
    }
    if (size + bytes > maxBytes) {
      throw new Error(`an event of ${bytes} bytes cannot fit in a ${maxBytes}-byte message`);
    }
    parts.push(json);
    size += bytes;
  }
  if (parts.length > 0) bodies.push(`${header}${parts.join(',')}]}`);
  return bodies;
}
