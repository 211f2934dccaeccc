/**
 * The shared per-account limiter (GCRA, lambdas/core/rate-limit.ts) on one DynamoDB item per
 * account, `rate#<account>` { tat, expires_at }, updated by every function instance, so the limit
 * holds across instances. Each path is a single conditional write, with no read:
 *   - busy account (TAT in the future): `tat = tat + cost`, if the result stays within the burst;
 *   - idle or new account (TAT in the past): `tat = now + cost`.
 * If neither condition holds the account is over its limit; only then is the item read, to say
 * when to retry. A race between the two paths (the account turning busy in between) is retried.
 *
 * Each instance remembers the latest TAT it saw per account. The stored TAT never decreases, so that
 * is a lower bound: a request it already refuses is refused without any DynamoDB call (a tenant
 * hammering past its limit costs no writes), and it tells which write to try first (an idle account
 * takes the idle path at once). If the account's item itself is throttled (one
 * item takes ~1,000 writes/s), the request is refused, not admitted: only an unreachable store makes
 * the caller fail open (StoreUnavailable), and it says so in a metric.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RateLimiter } from '../../core/ports';
import {
  type Admission,
  admissionCeiling,
  burstMs,
  costMs,
  decideLimit,
  type LimitCost,
} from '../../core/rate-limit';
import type { TierLimits } from '../../core/tiers';
import { BoundedMap } from '../../shared/bounded-map';
import { ifConditionHolds } from './conditional-write';

const MAX_ATTEMPTS = 4;
/** DynamoDB's answers for a key or table past its throughput: the item is hot, the store is fine. */
const THROTTLING_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);
/** How long a request refused because its item was throttled waits, in ms. */
const THROTTLED_RETRY_MS = 1_000;
/** Accounts whose latest TAT an instance remembers. */
const REMEMBERED_ACCOUNTS = 10_000;
/** Items outlive the longest burst; an expired item reads as an idle account. */
const STATE_TTL_SECONDS = 3600;

/** The decision and the latest TAT known for the account after it. */
interface Decision {
  readonly admission: Admission;
  readonly tat: number;
}

export class DynamoRateLimiter implements RateLimiter {
  /** account → the latest TAT this instance saw (a lower bound of the stored one). */
  private readonly knownTat = new BoundedMap<string, number>(REMEMBERED_ACCOUNTS);

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async consume(accountId: string, cost: LimitCost, limits: TierLimits): Promise<Admission> {
    const known = this.knownTat.get(accountId) ?? 0;
    const nowMs = this.now();
    const local = decideLimit(known, cost, limits, nowMs);
    if (!local.admission.allowed) return local.admission;
    let decision: Decision;
    try {
      decision = await this.decide(accountId, cost, limits, known < nowMs);
    } catch (error) {
      if (!THROTTLING_ERRORS.has((error as { name?: string }).name ?? '')) throw error;
      decision = refusedBriefly(nowMs, limits);
    }
    this.knownTat.set(accountId, decision.tat);
    return decision.admission;
  }

  private async decide(
    accountId: string,
    cost: LimitCost,
    limits: TierLimits,
    idleHint: boolean,
  ): Promise<Decision> {
    let idleFirst = idleHint;
    const key = { pk: `rate#${accountId}` };
    const increment = costMs(cost, limits);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const nowMs = this.now();
      const expiresAt = Math.ceil(nowMs / 1000) + STATE_TTL_SECONDS;
      const busy = async () => {
        const updated = await this.conditionalUpdate({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET tat = tat + :cost, expires_at = :exp',
          ConditionExpression: 'tat >= :now AND tat <= :ceiling',
          ExpressionAttributeValues: {
            ':cost': increment,
            ':now': nowMs,
            ':ceiling': admissionCeiling(cost, limits, nowMs),
            ':exp': expiresAt,
          },
          ReturnValues: 'UPDATED_NEW',
        });
        return updated && Number(updated.tat);
      };
      const idle = async () => {
        const tat = nowMs + increment;
        const updated = await this.conditionalUpdate({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET tat = :tat, expires_at = :exp',
          ConditionExpression: 'attribute_not_exists(tat) OR tat < :now',
          ExpressionAttributeValues: { ':tat': tat, ':now': nowMs, ':exp': expiresAt },
        });
        return updated && tat;
      };
      const [first, second] = idleFirst ? [idle, busy] : [busy, idle];
      const admittedTat = (await first()) || (await second());
      if (admittedTat) return { admission: { allowed: true }, tat: admittedTat };
      // Neither idle nor within the burst: refused, unless it became idle in between.
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      const storedTat = Number(Item?.tat ?? 0);
      const decision = decideLimit(storedTat, cost, limits, this.now());
      if (!decision.admission.allowed) return { admission: decision.admission, tat: storedTat };
      idleFirst = storedTat < this.now();
    }
    // The account's state changed under every attempt: it is that busy. Refuse briefly.
    return refusedBriefly(this.now(), limits);
  }

  /** The updated attributes, or undefined when the condition did not hold. */
  private async conditionalUpdate(
    input: ConstructorParameters<typeof UpdateCommand>[0],
  ): Promise<Record<string, unknown> | undefined> {
    const output = await ifConditionHolds(this.client.send(new UpdateCommand(input)));
    return output && (output.Attributes ?? {});
  }
}

/**
 * A refusal for THROTTLED_RETRY_MS when the item is too hot to write or keeps changing: remembered
 * as a TAT that far past the burst, so the instance refuses locally meanwhile.
 */
function refusedBriefly(nowMs: number, limits: TierLimits): Decision {
  return {
    admission: { allowed: false, dimension: 'requests', retryAfterMs: THROTTLED_RETRY_MS },
    tat: nowMs + burstMs(limits) + THROTTLED_RETRY_MS,
  };
}
