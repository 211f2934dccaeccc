/**
 * What a stand-in should get wrong, and how often. Each server owns one controller; tests change it
 * through the handle (`faults.set(...)`) or over HTTP (`POST /__faults`, see admin-endpoint.ts).
 * The decision for a call is pure given the random source, so it can be tested without a server.
 */

import { seededRandom } from '../../../lambdas/core/seeded-random';

export interface FaultSettings {
  /** Every call is answered 503 with the service's "unavailable" error. */
  readonly down: boolean;
  /** Share (0–1) of calls answered with the service's throttling error (retryable by the SDK). */
  readonly throttleRate: number;
  /** Share of calls answered with the service's internal 5xx error. */
  readonly errorRate: number;
  /** Share of calls whose connection is destroyed before the call is processed (nothing happened). */
  readonly dropRequestRate: number;
  /**
   * Share of calls that are processed, then have their connection destroyed instead of answered:
   * the change happened but the client cannot tell (the case idempotency exists for).
   */
  readonly dropResponseRate: number;
  /** Milliseconds added before every answer. */
  readonly delayMs: number;
  /** SQS: share of received messages also left behind as a second copy (an at-least-once duplicate). */
  readonly duplicateRate: number;
  /** Firehose: share of records failed inside PutRecordBatch (`FailedPutCount`) or PutRecord (503). */
  readonly failedPutRate: number;
  /** Only calls to these operations are affected (e.g. `['SendMessageBatch']`); empty means all. */
  readonly operations: readonly string[];
  /** Seeds the random source so a chaos run can be replayed; unset uses Math.random. */
  readonly seed?: number;
}

export type FaultStats = Readonly<Record<FaultKind, number>>;

export type FaultKind =
  | 'down'
  | 'throttled'
  | 'errored'
  | 'droppedRequests'
  | 'droppedResponses'
  | 'delayed'
  | 'duplicated'
  | 'failedRecords';

/** What to do with one call. `pass` may still carry a delay and a dropped response. */
export type CallDecision =
  | { readonly kind: 'down' | 'throttle' | 'error' | 'drop-request'; readonly delayMs: number }
  | { readonly kind: 'pass'; readonly delayMs: number; readonly dropResponse: boolean };

export const NO_FAULTS: FaultSettings = {
  down: false,
  throttleRate: 0,
  errorRate: 0,
  dropRequestRate: 0,
  dropResponseRate: 0,
  delayMs: 0,
  duplicateRate: 0,
  failedPutRate: 0,
  operations: [],
};

const RATE_KEYS = [
  'throttleRate',
  'errorRate',
  'dropRequestRate',
  'dropResponseRate',
  'duplicateRate',
  'failedPutRate',
] as const;

export class InvalidFaultSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidFaultSettingsError';
  }
}

/** Checks a partial update (from code or from JSON over HTTP) and returns it typed. */
export function parseFaultSettings(input: unknown): Partial<FaultSettings> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidFaultSettingsError('fault settings must be a JSON object');
  }
  const known = new Set<string>([...Object.keys(NO_FAULTS), 'seed']);
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (!known.has(key)) throw new InvalidFaultSettingsError(`unknown fault setting "${key}"`);
    if ((RATE_KEYS as readonly string[]).includes(key)) {
      if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
        throw new InvalidFaultSettingsError(`${key} must be a number from 0 to 1`);
      }
    } else if (key === 'down') {
      if (typeof value !== 'boolean') throw new InvalidFaultSettingsError('down must be true or false');
    } else if (key === 'delayMs') {
      if (typeof value !== 'number' || !(value >= 0 && value <= 600_000)) {
        throw new InvalidFaultSettingsError('delayMs must be a number of milliseconds from 0 to 600000');
      }
    } else if (key === 'operations') {
      if (!Array.isArray(value) || !value.every((name) => typeof name === 'string')) {
        throw new InvalidFaultSettingsError('operations must be an array of operation names');
      }
    } else if (key === 'seed') {
      if (value !== undefined && !Number.isInteger(value))
        throw new InvalidFaultSettingsError('seed must be an integer');
    }
    result[key] = value;
  }
  return result as Partial<FaultSettings>;
}

export class FaultController {
  private settings: FaultSettings = NO_FAULTS;
  private random: () => number;
  private readonly counts: Record<FaultKind, number> = {
    down: 0,
    throttled: 0,
    errored: 0,
    droppedRequests: 0,
    droppedResponses: 0,
    delayed: 0,
    duplicated: 0,
    failedRecords: 0,
  };

  constructor(random: () => number = Math.random) {
    this.random = random;
  }

  get(): FaultSettings {
    return this.settings;
  }

  /** Merges a partial update into the current settings and returns the result. */
  set(update: Partial<FaultSettings>): FaultSettings {
    const parsed = parseFaultSettings(update);
    this.settings = { ...this.settings, ...parsed };
    if (parsed.seed !== undefined) this.random = seededRandom(parsed.seed);
    return this.settings;
  }

  /** Back to a healthy service (counters are kept; see stats()). */
  reset(): FaultSettings {
    this.settings = NO_FAULTS;
    return this.settings;
  }

  /** How many times each fault was injected since the server started. */
  stats(): FaultStats {
    return { ...this.counts };
  }

  count(kind: FaultKind, by = 1): void {
    this.counts[kind] += by;
  }

  appliesTo(operation: string): boolean {
    const { operations } = this.settings;
    return operations.length === 0 || operations.includes(operation);
  }

  /** Decides the fate of one call to `operation` (counting what it injects). */
  decide(operation: string): CallDecision {
    const s = this.settings;
    if (!this.appliesTo(operation)) return { kind: 'pass', delayMs: 0, dropResponse: false };
    const delayMs = s.delayMs;
    if (delayMs > 0) this.count('delayed');
    if (s.down) {
      this.count('down');
      return { kind: 'down', delayMs };
    }
    if (this.chance(s.dropRequestRate)) {
      this.count('droppedRequests');
      return { kind: 'drop-request', delayMs };
    }
    if (this.chance(s.throttleRate)) {
      this.count('throttled');
      return { kind: 'throttle', delayMs };
    }
    if (this.chance(s.errorRate)) {
      this.count('errored');
      return { kind: 'error', delayMs };
    }
    const dropResponse = this.chance(s.dropResponseRate);
    if (dropResponse) this.count('droppedResponses');
    return { kind: 'pass', delayMs, dropResponse };
  }

  /** True with probability `rate` (exactly never at 0 and always at 1). */
  chance(rate: number): boolean {
    if (rate <= 0) return false;
    if (rate >= 1) return true;
    return this.random() < rate;
  }
}
