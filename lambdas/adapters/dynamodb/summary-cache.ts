/**
 * The summary cache: one item per account, window and `top`, `{ pk, body, expires_at }`. DynamoDB's
 * TTL deletes expired items only eventually (dynalite never does), so expiry is checked on read.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { CachedSummary, SummaryCache } from '../../core/ports';

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

  async put(key: string, body: string, ttlSeconds: number): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: key, body, expires_at: Math.floor(this.now() / 1000) + ttlSeconds },
      }),
    );
  }
}
