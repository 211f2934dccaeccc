/**
 * The interfaces use cases depend on. Adapters (lambdas/adapters) implement them against
 * PostgreSQL, DynamoDB, SQS and Firehose; tests run use cases against the real adapters.
 */
import type { Admission, LimitCost } from './rate-limit';
import type { DayPiece } from './summary-window';
import type { AccountRecord, KeyRecord } from './tenants';
import type { TierLimits } from './tiers';
import type { UserCount } from './top-users';
import type { EventRow, MessageRow, SkippedEvent } from './writer-batch';

export interface WriteBatchInput {
  readonly rows: readonly EventRow[];
  readonly messages: readonly MessageRow[];
  readonly skipped: readonly SkippedEvent[];
}

export interface WriteBatchResult {
  /** Events newly stored (and counted in rollups); the rest were already stored. */
  readonly inserted: number;
}

export interface MessageFailure {
  readonly messageId: string;
  readonly receiveCount: number;
  readonly errorCode: string;
  readonly error: string;
  readonly bodyExcerpt?: string;
}

/**
 * The store refused a batch because of the data in it (a value PostgreSQL cannot hold), not because
 * it is unavailable: the writer then isolates the message that carries it.
 */
export class StoreRejectedData extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreRejectedData';
  }
}

/** The store had no partition for a day it was asked to write (maintenance dropped it meanwhile). */
export class StoreMissingPartition extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreMissingPartition';
  }
}

/** The store cannot be reached or is overloaded right now: retry later (a 503, not a bug). */
export class StoreUnavailable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreUnavailable';
  }
}

export interface EventStore {
  /**
   * The first UTC day (YYYY-MM-DD) events may be stored on. Maintenance raises it before it drops a
   * day, and a dropped day is never created again: its exactly-once keys went with it.
   */
  firstKeptDay(): Promise<string>;
  /** Makes sure every given UTC day (YYYY-MM-DD) has its partitions. */
  ensurePartitions(days: readonly string[]): Promise<void>;
  /** Stores events exactly once and updates rollups from the rows actually inserted, atomically. */
  writeBatch(input: WriteBatchInput): Promise<WriteBatchResult>;
  /** Records why messages failed (best effort: the caller logs if this fails too). */
  recordFailures(failures: readonly MessageFailure[]): Promise<void>;
}

/** A queue message as the in-flight ledger knows it (docs/freshness.md). */
export interface LedgerEntry {
  readonly messageKey: string;
  readonly accountId: string;
  /** When ingest received the request (ISO-8601). */
  readonly receivedAt: string;
}

/** Ingest's side of the ledger: every 202'd message is in it before the 202. */
export interface IngestLedger {
  /** Before the send: the message may be in the queue soon. Expires on its own if it never is. */
  markSending(entries: readonly LedgerEntry[]): Promise<void>;
  /** After the send: the message is in the queue until the writer says otherwise. */
  markSent(entries: readonly LedgerEntry[]): Promise<void>;
}

/** The writer's side of the ledger. */
export interface WriterLedger {
  /** The message's events are committed. */
  markCommitted(messageKeys: readonly string[]): Promise<void>;
  /** The message failed its last attempt and goes to the DLQ. */
  markDead(entries: readonly LedgerEntry[]): Promise<void>;
}

export interface PendingMessage {
  readonly messageKey: string;
  /** Epoch ms of its received_at. */
  readonly pendingSince: number;
}

/** Up to `limit` of an account's oldest messages in flight, oldest first. */
export interface PendingPage {
  readonly messages: readonly PendingMessage[];
  /**
   * Set when more may wait behind what was read: the pendingSince of the last entry read (every
   * message not returned is at least that recent).
   */
  readonly moreFrom?: number;
}

/** The summary's side: what an account is still waiting for. */
export interface PendingMessages {
  oldestPending(accountId: string, limit: number): Promise<PendingPage>;
}

/** Structured logging as use cases see it; the handlers adapt Powertools' Logger to it. */
export interface Log {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** The shared per-account limiter (docs/limits.md). Throws only when its store is unreachable. */
export interface RateLimiter {
  consume(accountId: string, cost: LimitCost, limits: TierLimits): Promise<Admission>;
}

/** The event queue: every body sent, or an error. */
export interface EventQueue {
  send(bodies: readonly string[], groupId: string): Promise<void>;
}

/** The archive stream: every record accepted, or an error. */
export interface EventArchive {
  put(records: readonly string[]): Promise<void>;
}

/** What the authorizer needs: look a key hash and its account up, note the key's use. */
export interface KeyStore {
  findKey(keyHash: string): Promise<KeyRecord | undefined>;
  findAccount(accountId: string): Promise<AccountRecord | undefined>;
  touchKey(keyHash: string, at: string): Promise<void>;
}

export interface SummaryCounts {
  readonly totals: Record<string, number>;
  readonly topUsers: UserCount[];
  /** How many attempts the top-users search needed (1 almost always). */
  readonly attempts: number;
}

export interface SummaryStore {
  counts(accountId: string, pieces: readonly DayPiece[], top: number): Promise<SummaryCounts>;
  /** Which of these queue messages are committed (their events are in the rollups). */
  committedMessages(messageKeys: readonly string[]): Promise<Set<string>>;
}

export interface CachedSummary {
  readonly body: string;
  readonly expiresAtMs: number;
}

export interface SummaryCache {
  get(key: string): Promise<CachedSummary | undefined>;
  put(key: string, body: string, ttlSeconds: number): Promise<void>;
  /**
   * Claims the right to compute `key` for `forMs` (across instances): true for the first caller,
   * false while another holds it. Lets a burst on many instances reach the database once.
   */
  claim(key: string, forMs: number): Promise<boolean>;
  /** Gives a claim up once the entry is cached (or the computation failed). */
  release(key: string): Promise<void>;
}
