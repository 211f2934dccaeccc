/**
 * The S3 archive's format: gzip NDJSON, one accepted event per line, with everything needed to
 * replay it (`ops archive replay`). Many lines are packed into each Firehose record, because
 * Firehose bills records rounded up to 5 KB and limits records per second (design §10). Objects are
 * filed by the UTC hour their first record arrived: `events/YYYY/MM/DD/HH/`.
 */
import * as z from 'zod/mini';
import {
  boundedText,
  isoUtc,
  MAX_ID_LENGTH,
  MAX_REQUEST_ID_LENGTH,
  type QueuedEvent,
  queuedEventSchema,
} from './queue-message';
import { sizeBatches } from './size-batches';

/** Where Firehose files the archive's objects (the stand-in expands the same expressions). */
export const ARCHIVE_EVENTS_ROOT = 'events/';
export const ARCHIVE_DATA_PREFIX = `${ARCHIVE_EVENTS_ROOT}!{timestamp:yyyy/MM/dd/HH}/`;
/**
 * Firehose's error output prefix. With this stream (no transform, no dynamic partitioning) AWS writes
 * nothing there: a failing S3 delivery is retried for 24 hours, then dropped. The local stand-in
 * puts its undeliverable objects there (docs/local-standins.md). Erasure scrubs it too.
 */
export const ARCHIVE_ERRORS_ROOT = 'errors/';
export const ARCHIVE_ERROR_PREFIX = `${ARCHIVE_ERRORS_ROOT}!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/`;

/** Firehose's record limit is 1,000 KiB; stay a little under it. */
export const MAX_ARCHIVE_RECORD_BYTES = 1000 * 1024 - 1024;

export interface ArchiveContext {
  readonly account_id: string;
  readonly received_at: string;
  readonly request_id: string;
}

export interface ArchivedEvent extends QueuedEvent, ArchiveContext {}

// What the writer would accept, so that a damaged line is reported alone instead of failing the
// replayed message it would have been packed into.
const archivedEventSchema = z.extend(queuedEventSchema, {
  account_id: boundedText(MAX_ID_LENGTH),
  received_at: isoUtc,
  request_id: boundedText(MAX_REQUEST_ID_LENGTH),
});

/**
 * An archive line from an event already serialised for the queue (serializeQueuedEvent): the
 * request's fields are prepended, so nothing is serialised twice.
 */
export function archiveLine(queuedEventJson: string, context: ArchiveContext): string {
  return (
    `{"account_id":${JSON.stringify(context.account_id)},"received_at":"${context.received_at}",` +
    `"request_id":${JSON.stringify(context.request_id)},${queuedEventJson.slice(1)}\n`
  );
}

/** Concatenates lines into records of at most `maxBytes`, keeping order and whole lines. */
export function packArchiveRecords(
  lines: readonly string[],
  maxBytes: number = MAX_ARCHIVE_RECORD_BYTES,
): string[] {
  return sizeBatches(lines, Buffer.byteLength, { maxBytes }).map((batch) => batch.join(''));
}

export interface ParsedArchive {
  readonly events: ArchivedEvent[];
  /** Lines that are not an archived event (1-based line numbers), with why. */
  readonly invalid: { readonly line: number; readonly reason: string }[];
}

/** Parses an archive object's text back into events (blank lines ignored, damaged ones reported). */
export function parseArchiveLines(text: string): ParsedArchive {
  const parsed: ParsedArchive = { events: [], invalid: [] };
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      parsed.invalid.push({ line: index + 1, reason: 'not JSON' });
      return;
    }
    const result = archivedEventSchema.safeParse(json);
    if (result.success) parsed.events.push(result.data as ArchivedEvent);
    else {
      const issue = result.error.issues[0]!;
      parsed.invalid.push({ line: index + 1, reason: `${issue.path.join('.') || 'line'}: ${issue.message}` });
    }
  });
  return parsed;
}
