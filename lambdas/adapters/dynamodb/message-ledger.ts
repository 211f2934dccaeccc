/**
 * The in-flight message ledger in DynamoDB (docs/freshness.md). One item per queue message:
 *   pending   { pk: "msg#<key>", account_id, pending_since, expires_at }   written by ingest
 *   committed { pk, state: "committed", expires_at }                        written by the writer
 *   dead      { pk, account_id, state: "dead", expires_at }                 written by the writer
 * Only pending items carry `pending_since`, so the sparse GSI `pending` (account_id, pending_since)
 * lists exactly the messages an account is still waiting for, oldest first.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { MessageLedger } from '../../core/ports';

/** Longer than the DLQ's retention (14 days): an item must outlive the message it describes. */
const LEDGER_TTL_SECONDS = 15 * 24 * 60 * 60;
export const PENDING_INDEX = 'pending';

export interface PendingMessage {
  readonly messageKey: string;
  readonly pendingSince: number;
}

export class DynamoMessageLedger implements MessageLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  private expiresAt(): number {
    return Math.floor(this.now() / 1000) + LEDGER_TTL_SECONDS;
  }

  async markPending(
    entries: readonly { messageKey: string; accountId: string; receivedAt: string }[],
  ): Promise<void> {
    await Promise.all(
      entries.map(async (entry) => {
        try {
          await this.client.send(
            new PutCommand({
              TableName: this.tableName,
              Item: {
                pk: `msg#${entry.messageKey}`,
                account_id: entry.accountId,
                pending_since: Date.parse(entry.receivedAt),
                expires_at: this.expiresAt(),
              },
              // The writer may already have committed it: never turn that back into pending.
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      }),
    );
  }

  markCommitted(messageKeys: readonly string[]): Promise<void> {
    return this.overwrite(messageKeys, 'committed');
  }

  markDead(messageKeys: readonly string[]): Promise<void> {
    return this.overwrite(messageKeys, 'dead');
  }

  /** The account's oldest messages still in flight. */
  async oldestPending(accountId: string, limit: number): Promise<PendingMessage[]> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: PENDING_INDEX,
        KeyConditionExpression: 'account_id = :account',
        ExpressionAttributeValues: { ':account': accountId },
        ScanIndexForward: true,
        Limit: limit,
      }),
    );
    return Items.map((item) => ({
      messageKey: String(item.pk).slice('msg#'.length),
      pendingSince: Number(item.pending_since),
    }));
  }

  /** Overwrites items without `pending_since`, which removes them from the pending index. */
  private async overwrite(messageKeys: readonly string[], state: 'committed' | 'dead'): Promise<void> {
    const unique = [...new Set(messageKeys)];
    for (let start = 0; start < unique.length; start += 25) {
      let requests = unique.slice(start, start + 25).map((key) => ({
        PutRequest: { Item: { pk: `msg#${key}`, state, expires_at: this.expiresAt() } },
      }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt === 5)
          throw new Error(`ledger: ${requests.length} items still unprocessed after 5 attempts`);
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
        const { UnprocessedItems } = await this.client.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = (UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      }
    }
  }
}
