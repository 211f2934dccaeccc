/**
 * The shared per-account limiter (GCRA, lambdas/core/rate-limit.ts) on one DynamoDB item per
 * account, `rate#<account>` { tat, expires_at }, updated by every function instance, so the limit
 * holds across instances. Each path is a single conditional write, with no read:
 *   - busy account (TAT in the future): `tat = tat + cost`, if the result stays within the burst;
 *   - idle or new account (TAT in the past): `tat = now + cost`.
 * If neither condition holds the account is over its limit; only then is the item read, to say
 * when to retry. A race between the two paths (the account turning busy in between) is retried.
 *
 * A refusal is remembered in the instance until its retry time, so a tenant hammering past its
 * limit costs no DynamoDB writes at all meanwhile. If the account's item itself is throttled (one
 * item takes ~1,000 writes/s), the request is refused, not admitted: only an unreachable store makes
 * the caller fail open (StoreUnavailable), and it says so in a metric.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RateLimiter } from '../../core/ports';
import { type Admission, admissionCeiling, costMs, decideLimit, type LimitCost } from '../../core/rate-limit';
import type { TierLimits } from '../../core/tiers';

const MAX_ATTEMPTS = 4;
/** DynamoDB's answers for a key or table past its throughput: the item is hot, the store is fine. */
const THROTTLING_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);
/** How long a request refused because its item was throttled waits, in ms. */
const THROTTLED_RETRY_MS = 1_000;
/** Refusals remembered per instance (one per account, the latest). */
const REMEMBERED_REFUSALS = 10_000;
/** Items outlive the longest burst; an expired item reads as an idle account. */
const STATE_TTL_SECONDS = 3600;

export class DynamoRateLimiter implements RateLimiter {
  /** account → when its last refusal ends (epoch ms), and which limit it hit. */
  private readonly refusedUntil = new Map<string, { until: number; dimension: 'requests' | 'events' }>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async consume(accountId: string, cost: LimitCost, limits: TierLimits): Promise<Admission> {
    const remembered = this.refusedUntil.get(accountId);
    const nowMs = this.now();
    if (remembered && remembered.until > nowMs) {
      return { allowed: false, dimension: remembered.dimension, retryAfterMs: remembered.until - nowMs };
    }
    let admission: Admission;
    try {
      admission = await this.decide(accountId, cost, limits);
    } catch (error) {
      if (!THROTTLING_ERRORS.has((error as { name?: string }).name ?? '')) throw error;
      admission = { allowed: false, dimension: 'requests', retryAfterMs: THROTTLED_RETRY_MS };
    }
    if (!admission.allowed) {
      this.refusedUntil.delete(accountId);
      this.refusedUntil.set(accountId, {
        until: this.now() + admission.retryAfterMs,
        dimension: admission.dimension,
      });
      if (this.refusedUntil.size > REMEMBERED_REFUSALS)
        this.refusedUntil.delete(this.refusedUntil.keys().next().value!);
    }
    return admission;
  }

  private async decide(accountId: string, cost: LimitCost, limits: TierLimits): Promise<Admission> {
    const key = { pk: `rate#${accountId}` };
    const increment = costMs(cost, limits);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const nowMs = this.now();
      const expiresAt = Math.ceil(nowMs / 1000) + STATE_TTL_SECONDS;
      if (
        await this.conditionalUpdate({
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
        })
      ) {
        return { allowed: true };
      }
      if (
        await this.conditionalUpdate({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET tat = :tat, expires_at = :exp',
          ConditionExpression: 'attribute_not_exists(tat) OR tat < :now',
          ExpressionAttributeValues: { ':tat': nowMs + increment, ':now': nowMs, ':exp': expiresAt },
        })
      ) {
        return { allowed: true };
      }
      // Neither idle nor within the burst: refused, unless it became idle in between.
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      const decision = decideLimit(Number(Item?.tat ?? 0), cost, limits, this.now());
      if (!decision.admission.allowed) return decision.admission;
    }
    // The account's state changed under every attempt: it is that busy. Refuse briefly.
    return { allowed: false, dimension: 'requests', retryAfterMs: THROTTLED_RETRY_MS };
  }

  private async conditionalUpdate(input: ConstructorParameters<typeof UpdateCommand>[0]): Promise<boolean> {
    try {
      await this.client.send(new UpdateCommand(input));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
