/**
 * POST /events: authenticated request → per-event verdicts → per-account limit → durable enqueue.
 * Answers 202 only when every accepted event is in the queue and in the archive stream, and the
 * in-flight ledger knows its messages (docs/freshness.md); never touches the database.
 */
import { type ArchiveContext, archiveLine, packArchiveRecords } from '../core/archive-records';
import type { CorsVerdict } from '../core/cors';
import { ApiError, type EventRejection } from '../core/errors';
import type { EventArchive, EventQueue, IngestLedger, Log, RateLimiter } from '../core/ports';
import { ledgerEntriesFor, packQueueMessages, serializeQueuedEvent } from '../core/queue-message';
import type { AuthContext } from '../core/tenants';
import type { Tier, TierLimits } from '../core/tiers';
import { type IngestRules, parseEventsBody, validateEvents } from '../core/validate-events';
import { describeError } from '../shared/describe-error';

export interface IngestDependencies {
  readonly queue: EventQueue;
  readonly archive: EventArchive;
  readonly limiter: RateLimiter;
  readonly ledger: IngestLedger;
  readonly rules: IngestRules;
  /**
   * No 202 later than this after the request arrived (ms): the function's timeout less a margin.
   * The freshness watermark relies on it (an answered event was received at most this long ago).
   */
  readonly answerDeadlineMs: number;
  readonly tierLimits: Readonly<Record<Tier, TierLimits>>;
  /** Limits for a tier this function does not know (a newer tier during a deploy). */
  readonly defaultTier: Tier;
  readonly log: Log;
  readonly now?: () => number;
}

export interface IngestRequest {
  readonly auth: AuthContext;
  readonly requestId: string;
  readonly contentType: string | undefined;
  /** The handler's verdict on the request's Origin for this key (it also shapes error answers). */
  readonly cors: CorsVerdict;
  /** The body as received; `base64` when API Gateway encoded it. */
  readonly body: string | null;
  readonly base64: boolean;
}

export interface IngestResult {
  readonly accepted: number;
  readonly rejected: EventRejection[];
  /** What happened, for metrics. */
  readonly stats: {
    readonly limiterFailedOpen: boolean;
    readonly enqueueMs: number;
    readonly messages: number;
  };
}

/**
 * A 503 because the in-flight ledger could not be written: nothing may be answered 202 that the
 * freshness watermark cannot see (docs/freshness.md). Counted apart (LedgerWriteErrors).
 */
export class LedgerUnavailableError extends ApiError {}

const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;
const CHARSET_PARAMETER = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;

/** JSON is UTF-8 (RFC 8259): a body declared in another charset would be read wrongly, so it is refused. */
function isUtf8Json(contentType: string | undefined): boolean {
  if (!contentType || !JSON_MEDIA_TYPE.test(contentType)) return false;
  const charset = CHARSET_PARAMETER.exec(contentType)?.[1]?.toLowerCase();
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The body as text, checked for size before anything parses it. */
function bodyText(request: IngestRequest, rules: IngestRules): string {
  const raw = request.body ?? '';
  const bytes = request.base64 ? Buffer.from(raw, 'base64') : undefined;
  const size = bytes ? bytes.length : Buffer.byteLength(raw);
  if (size > rules.maxBodyBytes) {
    throw new ApiError(
      'payload_too_large',
      `The body is ${size} bytes; at most ${rules.maxBodyBytes} are accepted.`,
    );
  }
  if (!bytes) return raw;
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new ApiError('invalid_body', 'The body is not valid UTF-8.');
  }
}

export async function ingestEvents(deps: IngestDependencies, request: IngestRequest): Promise<IngestResult> {
  const now = (deps.now ?? Date.now)();
  const { auth, rules } = { auth: request.auth, rules: deps.rules };
  if (!auth.scopes.includes('ingest'))
    throw new ApiError('forbidden', 'This key cannot send events (no "ingest" scope).');
  if (!request.cors.allowed) throw new ApiError('forbidden', request.cors.reason);
  if (!isUtf8Json(request.contentType)) {
    throw new ApiError('unsupported_media_type', 'Send the events as application/json, in UTF-8.', {
      field: 'content-type',
    });
  }
  const candidates = parseEventsBody(bodyText(request, rules), rules);
  const { accepted, rejected } = validateEvents(candidates, auth.accountId, now, rules);
  if (accepted.length === 0) {
    throw new ApiError('no_valid_events', 'No event in the batch is valid; see "rejected".', { rejected });
  }

  let limiterFailedOpen = false;
  try {
    const admission = await deps.limiter.consume(
      auth.accountId,
      { requests: 1, events: accepted.length },
      deps.tierLimits[auth.tier] ?? deps.tierLimits[deps.defaultTier],
    );
    if (!admission.allowed) {
      throw new ApiError(
        'rate_limited',
        `Too many ${admission.dimension} for this account's tier; retry later.`,
        {
          retryAfterSeconds: Math.max(1, Math.ceil(admission.retryAfterMs / 1000)),
        },
      );
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    // One unreachable store must not reject every tenant: serve, and say so loudly.
    limiterFailedOpen = true;
    deps.log.error('rate limiter unavailable; failing open', { error: describeError(error) });
  }

  const receivedAt = new Date(now).toISOString();
  const context: ArchiveContext = {
    account_id: auth.accountId,
    received_at: receivedAt,
    request_id: request.requestId,
  };
  const serialized = accepted.map((event) => serializeQueuedEvent(event, event.metadataJson));
  const packing = { ...context, events: serialized };
  const bodies = packQueueMessages(packing);
  const records = packArchiveRecords(serialized.map((json) => archiveLine(json, context)));
  const entries = ledgerEntriesFor(packing, bodies);
  const started = performance.now();
  const unavailable = (what: string, error: unknown, ErrorClass = ApiError) => {
    deps.log.error(`${what}; answering 503`, { error: describeError(error) });
    return new ErrorClass(
      'unavailable',
      'The events could not be stored durably; retry (event_id makes it safe).',
      { retryAfterSeconds: 1 },
    );
  };
  // The ledger first: a message may only be in the queue if the watermark can see it.
  try {
    await deps.ledger.markSending(entries);
  } catch (error) {
    throw unavailable('could not record the messages in the in-flight ledger', error, LedgerUnavailableError);
  }
  let confirmFailed = false;
  try {
    await Promise.all([
      deps.queue.send(bodies, auth.accountId).then(() =>
        deps.ledger.markSent(entries).catch((error: unknown) => {
          confirmFailed = true;
          throw error;
        }),
      ),
      deps.archive.put(records),
    ]);
  } catch (error) {
    // Whatever was sent will still be counted; the client's retry is deduplicated by event_id.
    throw confirmFailed
      ? unavailable('could not confirm the messages in the ledger', error, LedgerUnavailableError)
      : unavailable('enqueue failed', error);
  }
  if ((deps.now ?? Date.now)() - now > deps.answerDeadlineMs) {
    throw unavailable(
      'too slow to answer within the deadline',
      new Error(`over ${deps.answerDeadlineMs} ms`),
    );
  }
  return {
    accepted: accepted.length,
    rejected,
    stats: {
      limiterFailedOpen,
      enqueueMs: performance.now() - started,
      messages: bodies.length,
    },
  };
}
