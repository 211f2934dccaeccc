/**
 * The timing assumptions behind the freshness watermark (docs/freshness.md), in one place: ingest
 * never answers 202 later than its deadline after a request arrived, and the summary never lets
 * `as_of` come closer to now than that deadline plus the pending index's propagation lag.
 */

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
