/**
 * The SQS message format between ingest and the writer: one message packs many accepted events of
 * one request (one account). Versioned so the writer can accept old and new shapes during a deploy.
 *
 * - v2 (sent): each event's metadata travels as its JSON text (`metadata_json`), which the writer
 *   hands to PostgreSQL untouched instead of parsing it into objects and serialising it again
 *   (docs/benchmarks.md: about a quarter of the writer's own CPU).
 * - v1 (still read): metadata as a JSON object. Messages sent before the upgrade may still wait in
 *   the queue or the DLQ.
 */
import * as z from 'zod/mini';
import type { LedgerEntry } from './ports';
import { isCalendarTime } from './time-buckets';

export const QUEUE_MESSAGE_VERSION = 2;

/** Packed under SQS's historical 256 KiB limit so every queue and tool accepts it (design §10). */
export const MAX_QUEUE_MESSAGE_BYTES = 256 * 1024;

/** An accepted event: validated, with a canonical UTC timestamp (ingest's output, an archive line). */
export interface QueuedEvent {
  readonly event_id: string;
  readonly user_id: string;
  readonly type: string;
  /** ISO-8601 UTC with milliseconds, as produced by Date#toISOString. */
  readonly timestamp: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** An event as the writer reads it from a message of either version. */
export interface DeliveredEvent {
  readonly event_id: string;
  readonly user_id: string;
  readonly type: string;
  readonly timestamp: string;
  /** The metadata object's JSON text; PostgreSQL's jsonb input is its full check. */
  readonly metadata_json?: string;
}

export interface QueueMessage {
  /** The version the message was sent in; its events are read into one shape either way. */
  readonly v: 1 | typeof QUEUE_MESSAGE_VERSION;
  /** Unique per message and stable across redeliveries: `<request_id>:<part>`. */
  readonly message_key: string;
  readonly account_id: string;
  readonly request_id: string;
  readonly received_at: string;
  /** Sent again from the archive (`ops archive replay`): its age says nothing about the pipeline's. */
  readonly replay?: true;
  readonly events: readonly DeliveredEvent[];
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
const eventFields = {
  event_id: boundedText(MAX_ID_LENGTH),
  user_id: boundedText(MAX_ID_LENGTH),
  type: boundedText(MAX_TYPE_LENGTH),
  timestamp: isoUtc,
};
// The writer parses thousands of events per batch: a custom object check costs a third of z.record.
export const queuedEventSchema = z.object({
  ...eventFields,
  metadata: z.optional(z.custom<Record<string, unknown>>(isPlainObject, 'must be a JSON object')),
});
/**
 * Only the shape of an object is checked here: whether the text is JSON at all is PostgreSQL's jsonb
 * input's to say, and a message it refuses fails alone (rejected_by_database), as any refused data.
 */
function looksLikeJsonObject(text: string): boolean {
  return text.charCodeAt(0) === 0x7b && text.charCodeAt(text.length - 1) === 0x7d; // { ... }
}
const deliveredEventSchema = z.object({
  ...eventFields,
  metadata_json: z.optional(
    z.string().check(z.refine(looksLikeJsonObject, 'must be the JSON text of an object')),
  ),
});
// Unknown fields are ignored (not rejected): a newer ingest may add fields during a deploy.
const messageFields = {
  message_key: boundedText(300),
  account_id: boundedText(MAX_ID_LENGTH),
  request_id: boundedText(MAX_REQUEST_ID_LENGTH),
  received_at: isoUtc,
  replay: z.optional(z.literal(true)),
};
const queueMessageSchema = z.object({
  ...messageFields,
  v: z.literal(QUEUE_MESSAGE_VERSION),
  events: z.array(deliveredEventSchema).check(z.minLength(1)),
});
const queueMessageV1Schema = z.object({
  ...messageFields,
  v: z.literal(1),
  events: z.array(queuedEventSchema).check(z.minLength(1)),
});

export class MalformedMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedMessageError';
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
  if (json.v === 1) {
    const v1 = checked(queueMessageV1Schema, json);
    return { ...v1, events: v1.events.map(deliveredFromV1) };
  }
  if (json.v !== QUEUE_MESSAGE_VERSION) {
    // Sent by a newer ingest than this writer (a rolled-back deploy): say so, not just "invalid".
    throw new MalformedMessageError(
      `v: unknown message version ${JSON.stringify(json.v) ?? 'undefined'}; this writer reads 1 and ${QUEUE_MESSAGE_VERSION}`,
    );
  }
  return checked(queueMessageSchema, json) as QueueMessage;
}

function checked<T>(schema: z.ZodMiniType<T>, json: unknown): T {
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new MalformedMessageError(`${issue.path.join('.') || 'message'}: ${issue.message}`);
  }
  return result.data;
}

function deliveredFromV1({ metadata, ...event }: QueuedEvent): DeliveredEvent {
  return metadata === undefined ? event : { ...event, metadata_json: JSON.stringify(metadata) };
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
  /** Events serialised by `queuedEventJson`. */
  readonly events: readonly string[];
}

/**
 * An event serialised once for both places it goes: `fields` is the JSON of its identity, user, type
 * and timestamp, without braces; the queue message and the archive line each add the metadata their
 * way (archive-records.ts).
 */
export interface SerializedEvent {
  readonly fields: string;
  readonly metadataJson: string | undefined;
}

/** Reuses metadata already serialised during validation when given. */
export function serializeEvent(
  event: QueuedEvent,
  metadataJson = event.metadata === undefined ? undefined : JSON.stringify(event.metadata),
): SerializedEvent {
  return {
    fields:
      `"event_id":${JSON.stringify(event.event_id)},"user_id":${JSON.stringify(event.user_id)},` +
      `"type":${JSON.stringify(event.type)},"timestamp":"${event.timestamp}"`,
    metadataJson,
  };
}

/** One event's JSON in a message (v2: the metadata as a JSON string). */
export function queuedEventJson({ fields, metadataJson }: SerializedEvent): string {
  return metadataJson === undefined
    ? `{${fields}}`
    : `{${fields},"metadata_json":${JSON.stringify(metadataJson)}}`;
}

export function serializeQueuedEvent(event: QueuedEvent): string {
  return queuedEventJson(serializeEvent(event));
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
