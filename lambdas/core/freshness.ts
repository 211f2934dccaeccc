/**
 * The timing assumptions behind the freshness watermark (docs/freshness.md), in one place: ingest
 * never answers 202 later than its deadline after a request arrived, and the summary never lets
 * `as_of` come closer to now than that deadline plus the pending index's propagation lag.
 */

/**
 * How long the record of a message is kept, in the ledger and in PostgreSQL's bookkeeping
 * (committed_messages, message_failures, skipped_events): longer than the DLQ keeps a message
 * (14 days), so a re-driven message is still known.
 */
export const MESSAGE_RECORD_DAYS = 15;

/** Margin for the secondary index of the ledger to show a new item (usually well under a second). */
export const INDEX_LAG_MARGIN_MS = 2_000;

/** The latest ingest may answer 202, after the request arrived: its timeout less a second. */
export function ingestAnswerDeadlineMs(ingestTimeoutSeconds: number): number {
  return ingestTimeoutSeconds * 1000 - 1000;
}

/** `as_of` is never later than this: a request still running may not have reached the ledger yet. */
export function watermarkFloor(nowMs: number, ingestTimeoutSeconds: number): number {
  return nowMs - ingestTimeoutSeconds * 1000 - INDEX_LAG_MARGIN_MS;
}
