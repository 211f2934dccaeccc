/**
 * The shared per-account limiter (GCRA, lambdas/core/rate-limit.ts) on one DynamoDB item per
 * account: `rate#<account>` { request_tat, event_tat, expires_at }. Every function instance updates
 * the same item, so the limit holds across instances.
 *
 * - Busy account (both TATs in the future): one conditional atomic increment, no read. This is the
 *   whale's path, so concurrent requests never fight over a compare-and-swap.
 * - Idle or over the limit: read the item, decide in code, compare-and-swap; retried on a race.
 * - The store unreachable: the caller fails open (ingest keeps serving) and says so in a metric.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  type Admission,
  admissionCeilings,
  decideLimit,
  type LimitCost,
  type LimiterState,
} from '../../core/rate-limit';
import type { TierLimits } from '../../core/tiers';

export interface RateLimiter {
  consume(accountId: string, cost: LimitCost, limits: TierLimits): Promise<Admission>;
}

const MAX_ATTEMPTS = 5;
/** Items outlive the longest burst; expired items read as an idle account. */
const STATE_TTL_SECONDS = 3600;

export class DynamoRateLimiter implements RateLimiter {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async consume(accountId: string, cost: LimitCost, limits: TierLimits): Promise<Admission> {
    const key = { pk: `rate#${accountId}` };
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const nowMs = this.now();
      const ceilings = admissionCeilings(cost, limits, nowMs);
      const increments = {
        requestTat: (cost.requests * 1000) / limits.requestsPerSecond,
        eventTat: (cost.events * 1000) / limits.eventsPerSecond,
      };
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression:
              'SET request_tat = request_tat + :ri, event_tat = event_tat + :ei, expires_at = :exp',
            ConditionExpression:
              'request_tat >= :now AND event_tat >= :now AND request_tat <= :rmax AND event_tat <= :emax',
            ExpressionAttributeValues: {
              ':ri': increments.requestTat,
              ':ei': increments.eventTat,
              ':now': nowMs,
              ':rmax': ceilings.requestTat,
              ':emax': ceilings.eventTat,
              ':exp': this.expiresAt(nowMs),
            },
          }),
        );
        return { allowed: true };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      // Idle, new or over the limit: decide from the stored state, then compare-and-swap.
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      const stored: LimiterState | undefined = Item
        ? { requestTat: Number(Item.request_tat ?? 0), eventTat: Number(Item.event_tat ?? 0) }
        : undefined;
      const decision = decideLimit(stored ?? { requestTat: 0, eventTat: 0 }, cost, limits, nowMs);
      if (!decision.allowed) return decision;
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'SET request_tat = :r, event_tat = :e, expires_at = :exp',
            ConditionExpression: stored
              ? 'request_tat = :oldr AND event_tat = :olde'
              : 'attribute_not_exists(pk)',
            ExpressionAttributeValues: {
              ':r': decision.next.requestTat,
              ':e': decision.next.eventTat,
              ':exp': this.expiresAt(nowMs),
              ...(stored ? { ':oldr': stored.requestTat, ':olde': stored.eventTat } : {}),
            },
          }),
        );
        return { allowed: true };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Another instance moved the state first: start over with the new state.
      }
    }
    throw new Error(`rate limiter: state of ${accountId} kept changing for ${MAX_ATTEMPTS} attempts`);
  }

  private expiresAt(nowMs: number): number {
    return Math.ceil(nowMs / 1000) + STATE_TTL_SECONDS;
  }
}
