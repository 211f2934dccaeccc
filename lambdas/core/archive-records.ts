/**
 * The S3 archive's format: gzip NDJSON, one accepted event per line, with everything needed to
 * replay it (the archive replay to come). Many lines are packed into each Firehose record, because Firehose
 * bills records rounded up to 5 KB and limits records per second (design §10).
 */
import { sizeBatches } from './size-batches';

/** Firehose's record limit is 1,000 KiB; stay a little under it. */
export const MAX_ARCHIVE_RECORD_BYTES = 1000 * 1024 - 1024;

export interface ArchiveContext {
  readonly account_id: string;
  readonly received_at: string;
  readonly request_id: string;
}

export interface ArchivedEvent {
  readonly account_id: string;
  readonly event_id: string;
  readonly user_id: string;
  readonly type: string;
  readonly timestamp: string;
  readonly received_at: string;
  readonly request_id: string;
  readonly metadata?: Record<string, unknown>;
}

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

/** Parses an archive object's text back into events (blank lines ignored). */
export function parseArchiveLines(text: string): ArchivedEvent[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ArchivedEvent);
}
