/**
 * GET /accounts/{id}/summary: checks the key may read that account, answers from the cache when it
 * holds a fresh copy, and otherwise computes the summary from rollups, with `as_of` taken first
 * (docs/freshness.md). Identical requests arriving together in one instance share one computation.
 */
import { ApiError } from '../core/errors';
import { watermarkFloor } from '../core/freshness';
import {
  type CachedSummary,
  type Log,
  type PendingMessages,
  StoreUnavailable,
  type SummaryCache,
  type SummaryStore,
} from '../core/ports';
import { dayPieces, parseSummaryQuery, type SummaryWindow, summaryCacheKey } from '../core/summary-window';
import type { AuthContext } from '../core/tenants';
import { DAY_MS } from '../core/time-buckets';
import type { UserCount } from '../core/top-users';
import { BoundedMap } from '../shared/bounded-map';
import { describeError } from '../shared/describe-error';

/** A cache entry, parsed. */
function parsed(cached: CachedSummary): Remembered {
  return { summary: JSON.parse(cached.body) as Summary, expiresAtMs: cached.expiresAtMs };
}

export interface SummaryDependencies {
  readonly store: SummaryStore;
  readonly cache: SummaryCache;
  readonly ledger: PendingMessages;
  readonly settings: {
    readonly cacheTtlSeconds: number;
    readonly maxRangeDays: number;
    /** The ingest function's timeout: a request still running may not have recorded its messages. */
    readonly ingestTimeoutSeconds: number;
    /** The event queue's retention: older messages are committed, dead or gone (fallback watermark). */
    readonly queueRetentionDays: number;
  };
  readonly log: Log;
  readonly now?: () => number;
}

export interface Summary {
  readonly account_id: string;
  readonly window: SummaryWindow['name'];
  readonly from: string;
  readonly to: string;
  readonly as_of: string;
  readonly totals: Record<string, number>;
  readonly total: number;
  readonly top_users: UserCount[];
  readonly cached: boolean;
}

export interface SummaryRequest {
  readonly auth: AuthContext;
  readonly accountId: string | undefined;
  readonly query: Readonly<Record<string, string | undefined>> | null;
}

export interface SummaryOutcome {
  readonly summary: Summary;
  readonly cacheError: boolean;
  readonly attempts: number;
  readonly ledgerError: boolean;
}

/** Pending ledger entries checked per summary before settling for a conservative watermark. */
const PENDING_SCAN = 50;
/** How long one instance may hold the right to compute an entry, and how long the others wait for it. */
const CLAIM_MS = 3_000;
const CLAIM_WAIT_MS = 1_000;
const CLAIM_POLL_MS = 50;
/** Summaries this instance keeps in memory, in front of DynamoDB, until their cache entry expires. */
const MEMORY_ENTRIES = 500;

/** A summary as this instance keeps it: parsed once, until its cache entry expires. */
interface Remembered {
  readonly summary: Summary;
  readonly expiresAtMs: number;
}

interface Computation extends Remembered {
  readonly attempts: number;
  readonly ledgerError: boolean;
}

export class SummaryReader {
  private readonly inFlight = new Map<string, Promise<Computation>>();
  /**
   * The same entries as the DynamoDB cache, with the same expiry, kept parsed: a hot dashboard
   * costs no I/O and no parsing.
   */
  private readonly memory = new BoundedMap<string, Remembered>(MEMORY_ENTRIES);

  constructor(private readonly deps: SummaryDependencies) {}

  async read(request: SummaryRequest): Promise<SummaryOutcome> {
    const { auth } = request;
    // Same answer whether or not the other account exists.
    if (!auth.scopes.includes('read') || request.accountId !== auth.accountId) {
      throw new ApiError('forbidden', 'This key cannot read this account.');
    }
    const now = (this.deps.now ?? Date.now)();
    const { window, top } = parseSummaryQuery(request.query, now, this.deps.settings.maxRangeDays);
    const key = summaryCacheKey(auth.accountId, window, top);
    let cacheError = false;
    const hit = ({ summary }: Remembered): SummaryOutcome => ({
      summary: { ...summary, cached: true },
      cacheError: false,
      attempts: 0,
      ledgerError: false,
    });
    const remembered = () => {
      const entry = this.memory.get(key);
      return entry && entry.expiresAtMs > now ? entry : undefined;
    };
    const inMemory = remembered();
    if (inMemory) return hit(inMemory);
    try {
      const cached = await this.deps.cache.get(key);
      if (cached !== undefined) return hit(this.remember(key, parsed(cached)));
    } catch (error) {
      cacheError = true;
      this.deps.log.warn('summary cache unavailable; reading PostgreSQL', { error: describeError(error) });
    }
    // The same computation may have finished while the cache was being asked.
    const justComputed = remembered();
    if (justComputed) return hit(justComputed);
    let computation = this.inFlight.get(key);
    if (!computation) {
      computation = this.computeOnce(key, auth.accountId, window, top, now, !cacheError);
      this.inFlight.set(key, computation);
      // Shared while it runs; once it is done, the instance's memory (set at once, with the cache
      // entry's expiry) answers the late arrivals, and the in-flight entry goes: a Lambda frozen
      // before the cache write must not serve this computation later as a fresh one.
      computation.then(
        (done) => {
          this.inFlight.delete(key);
          this.remember(key, done);
        },
        // A failed computation is reported to its callers; nothing to remember.
        () => this.inFlight.delete(key),
      );
    }
    const { summary, attempts, ledgerError } = await computation;
    return { summary, cacheError, attempts, ledgerError };
  }

  /**
   * Computes a missing entry once across instances: the first claims it; the others wait a little
   * for its cache entry, and compute themselves only if it does not come (the claimer died).
   */
  private async computeOnce(
    key: string,
    accountId: string,
    window: SummaryWindow,
    top: number,
    now: number,
    cacheUp: boolean,
  ): Promise<Computation> {
    const ttlSeconds = this.deps.settings.cacheTtlSeconds;
    // A claim never outlives the entry it stands for, so it needs no release once the entry is
    // written: a miss after the entry expires finds the claim expired too.
    const claimMs = Math.min(CLAIM_MS, ttlSeconds * 1000);
    const claimed = cacheUp ? await this.deps.cache.claim(key, claimMs).catch(() => true) : true;
    if (!claimed) {
      for (let waited = 0; waited < CLAIM_WAIT_MS; waited += CLAIM_POLL_MS) {
        await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
        const cached = await this.deps.cache.get(key).catch(() => undefined);
        if (cached) {
          // Computed by the instance that holds the claim: a cached answer for this one too.
          const entry = parsed(cached);
          return { ...entry, summary: { ...entry.summary, cached: true }, attempts: 0, ledgerError: false };
        }
      }
    }
    let cached = false;
    try {
      const computed = await this.compute(accountId, window, top, now);
      // Awaited: on Lambda, work left running after the answer is frozen with the instance, and
      // the other instances wait for this entry.
      await this.deps.cache.put(key, JSON.stringify(computed.summary), ttlSeconds).then(
        () => {
          cached = true;
        },
        (error: unknown) =>
          this.deps.log.warn('could not cache the summary', { error: describeError(error) }),
      );
      return { ...computed, expiresAtMs: now + ttlSeconds * 1000 };
    } finally {
      // Without an entry the waiting instances must not wait out the claim.
      if (claimed && cacheUp && !cached) await this.deps.cache.release(key).catch(() => undefined);
    }
  }

  private remember(key: string, { summary, expiresAtMs }: Remembered): Remembered {
    const entry = { summary, expiresAtMs };
    this.memory.set(key, entry);
    return entry;
  }

  private async compute(accountId: string, window: SummaryWindow, top: number, now: number) {
    // The watermark is read before the rollups: whatever it vouches for is committed by then.
    let asOf: number;
    let ledgerError = false;
    try {
      asOf = await this.watermark(accountId, now);
    } catch (error) {
      // Without the ledger, the queue's retention still bounds what can be in flight.
      ledgerError = true;
      asOf = now - this.deps.settings.queueRetentionDays * DAY_MS;
      this.deps.log.warn('in-flight ledger unavailable; as_of falls back to the queue retention', {
        error: describeError(error),
      });
    }
    const counts = await this.deps.store.counts(accountId, dayPieces(window), top).catch((error: unknown) => {
      if (!(error instanceof StoreUnavailable)) throw error;
      // The database being away is "retry later", not a bug.
      this.deps.log.error('summary store unavailable', { error: error.message });
      throw new ApiError('unavailable', 'Summaries are temporarily unavailable; retry shortly.', {
        retryAfterSeconds: 1,
      });
    });
    const summary: Summary = {
      account_id: accountId,
      window: window.name,
      from: new Date(window.fromMs).toISOString(),
      to: new Date(window.toMs).toISOString(),
      as_of: new Date(asOf).toISOString(),
      totals: counts.totals,
      total: Object.values(counts.totals).reduce((sum, n) => sum + n, 0),
      top_users: counts.topUsers,
      cached: false,
    };
    return { summary, attempts: counts.attempts, ledgerError };
  }

  /**
   * The earliest received_at of a message of this account still in flight (neither committed nor
   * dead), or now minus the ingest timeout when none is: a request still running may have queued
   * a message it has not yet recorded in the ledger.
   */
  private async watermark(accountId: string, now: number): Promise<number> {
    const floor = watermarkFloor(now, this.deps.settings.ingestTimeoutSeconds);
    const { messages: pending, moreFrom } = await this.deps.ledger.oldestPending(accountId, PENDING_SCAN);
    // Anything not read is at least as recent as moreFrom: stay conservative about it.
    const behind = moreFrom === undefined ? floor : Math.min(moreFrom, floor);
    if (pending.length === 0) return behind;
    // The writer marks the ledger after committing; if that failed, committed_messages knows.
    const committed = await this.deps.store.committedMessages(pending.map((entry) => entry.messageKey));
    const open = pending.find((entry) => !committed.has(entry.messageKey));
    return open ? Math.min(open.pendingSince, floor) : behind;
  }
}
