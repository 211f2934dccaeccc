/**
 * The summary cache: one item per account, window and `top`, `{ pk, body, expires_at }`, plus short
 * `claim#<key>` items by which one instance at a time computes a missing entry. DynamoDB's TTL
 * deletes expired items only eventually (dynalite never does), so expiry is checked on read.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateScan,
} from '@aws-sdk/lib-dynamodb';
import type { CachedSummary, SummaryCache } from '../../core/ports';
import { summaryCachePrefix } from '../../core/summary-window';
import { ifConditionHolds } from './conditional-write';

export class DynamoSummaryCache implements SummaryCache {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<CachedSummary | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: key } }));
    const expiresAtMs = Number(Item?.expires_at) * 1000;
    if (!Item || typeof Item.body !== 'string' || !(expiresAtMs > this.now())) return undefined;
    return { body: Item.body, expiresAtMs };
  }

  async claim(key: string, forMs: number): Promise<boolean> {
    const now = this.now();
    const written = await ifConditionHolds(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `claim#${key}`, until: now + forMs, expires_at: Math.ceil((now + forMs) / 1000) + 60 },
          // Free, or left behind by an instance that did not finish in time.
          ConditionExpression: 'attribute_not_exists(pk) OR #until < :now',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': now },
        }),
      ),
    );
    return written !== undefined;
  }

  async release(key: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: `claim#${key}` } }));
  }

  async put(key: string, body: string, ttlSeconds: number): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        // Rounded up: the entry lives at least ttlSeconds, so it outlives the claim made before it
        // was computed (summarize.ts relies on that to skip releasing the claim).
        Item: { pk: key, body, expires_at: Math.ceil(this.now() / 1000) + ttlSeconds },
      }),
    );
  }

  /**
   * Deletes every entry and claim of an account (erasure: cached answers name top users). A Scan:
   * entries are keyed by window, and the table holds only short-lived items. Not used by functions.
   */
  async deleteAccount(accountId: string): Promise<number> {
    const prefix = summaryCachePrefix(accountId);
    let deleted = 0;
    const pages = paginateScan(
      { client: this.client },
      {
        TableName: this.tableName,
        ProjectionExpression: 'pk',
        FilterExpression: 'begins_with(pk, :entry) OR begins_with(pk, :claim)',
        ExpressionAttributeValues: { ':entry': prefix, ':claim': `claim#${prefix}` },
      },
    );
    for await (const page of pages) {
      for (const { pk } of page.Items ?? []) {
        await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk } }));
        deleted++;
      }
    }
    return deleted;
  }
}
