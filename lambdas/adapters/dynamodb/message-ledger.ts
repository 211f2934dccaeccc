/**
 * The in-flight message ledger in DynamoDB (docs/freshness.md). One item per queue message:
 *   sending   { pk: "msg#<key>", account_id, pending_since, received_at, state, expires_at: soon }
 *   sent      the same, state "sent", expires_at: after the DLQ's retention
 *   committed { pk, state: "committed", expires_at }                  (no pending_since)
 *   dead      { pk, account_id, received_at, state: "dead", dead_at, expires_at } (no pending_since)
 * Only sending/sent items carry `pending_since`, so the sparse GSI `pending` (account_id,
 * pending_since) lists exactly the messages an account is still waiting for, oldest first. A
 * "sending" item whose send failed expires within minutes; readers skip expired items themselves
 * (DynamoDB deletes them late, dynalite never).
 */
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  paginateScan,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { MESSAGE_RECORD_DAYS } from '../../core/freshness';
import type {
  IngestLedger,
  LedgerEntry,
  PendingMessage,
  PendingMessages,
  PendingPage,
  WriterLedger,
} from '../../core/ports';
import { ifConditionHolds } from './conditional-write';
import { PENDING_INDEX } from './table-keys';

/** An item outlives the message it describes (core/freshness.ts). */
const LEDGER_TTL_SECONDS = MESSAGE_RECORD_DAYS * 24 * 60 * 60;
/** A "sending" item that was never confirmed (the send failed, or ingest died) stops counting after this. */
const SENDING_TTL_SECONDS = 10 * 60;
/** Pages of expired items read past before the summary settles for a conservative as_of. */
const MAX_PENDING_PAGES = 4;

export class DynamoMessageLedger implements IngestLedger, WriterLedger, PendingMessages {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  private seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  async markSending(entries: readonly LedgerEntry[]): Promise<void> {
    await Promise.all(
      entries.map((entry) =>
        ifConditionHolds(
          this.client.send(
            new PutCommand({
              TableName: this.tableName,
              Item: {
                pk: `msg#${entry.messageKey}`,
                account_id: entry.accountId,
                pending_since: Date.parse(entry.receivedAt),
                received_at: entry.receivedAt,
                state: 'sending',
                expires_at: this.seconds() + SENDING_TTL_SECONDS,
              },
              // The writer may already have committed it: never turn that back into pending.
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          ),
        ),
      ),
    );
  }

  async markSent(entries: readonly LedgerEntry[]): Promise<void> {
    await Promise.all(
      entries.map((entry) =>
        ifConditionHolds(
          this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { pk: `msg#${entry.messageKey}` },
              UpdateExpression: 'SET #state = :sent, expires_at = :expires',
              // Only while still pending: a writer faster than this must not be undone.
              ConditionExpression: 'attribute_exists(pending_since)',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: { ':sent': 'sent', ':expires': this.seconds() + LEDGER_TTL_SECONDS },
            }),
          ),
        ),
      ),
    );
  }

  markCommitted(messageKeys: readonly string[]): Promise<void> {
    return this.overwrite(
      messageKeys.map((key) => ({
        pk: `msg#${key}`,
        state: 'committed',
        expires_at: this.seconds() + LEDGER_TTL_SECONDS,
      })),
    );
  }

  /** Keeps the account and received time, so a DLQ re-drive can make the message pending again. */
  markDead(entries: readonly LedgerEntry[]): Promise<void> {
    return this.overwrite(
      entries.map((entry) => ({
        pk: `msg#${entry.messageKey}`,
        account_id: entry.accountId,
        received_at: entry.receivedAt,
        state: 'dead',
        dead_at: this.now(),
        expires_at: this.seconds() + LEDGER_TTL_SECONDS,
      })),
    );
  }

  /**
   * The account's oldest messages still in flight (unexpired sending or sent items). Expired items
   * (an ingest that never confirmed its send) stay in the index until DynamoDB's TTL deletes them,
   * and they are the oldest: they are read past, a few pages at most, never counted as the page.
   */
  async oldestPending(accountId: string, limit: number): Promise<PendingPage> {
    const now = this.seconds();
    const messages: PendingMessage[] = [];
    let start: Record<string, unknown> | undefined;
    let lastRead: number | undefined;
    for (let page = 0; page < MAX_PENDING_PAGES && messages.length < limit; page++) {
      const { Items = [], LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: PENDING_INDEX,
          KeyConditionExpression: 'account_id = :account',
          ExpressionAttributeValues: { ':account': accountId },
          ScanIndexForward: true,
          Limit: limit,
          ExclusiveStartKey: start,
        }),
      );
      let read = 0;
      for (const item of Items) {
        if (messages.length === limit) break;
        read++;
        lastRead = Number(item.pending_since);
        if (Number(item.expires_at) > now) {
          messages.push({ messageKey: String(item.pk).slice('msg#'.length), pendingSince: lastRead });
        }
      }
      start = LastEvaluatedKey;
      // Everything of the account was read: nothing waits behind.
      if (!start && read === Items.length) return { messages };
    }
    return { messages, moreFrom: lastRead };
  }

  /**
   * Before a DLQ re-drive: makes the messages marked dead since `since` (epoch ms) pending again,
   * so the watermark waits for them while they travel back. Returns how many. An operator command:
   * a Scan of the ledger is fine at that frequency.
   */
  async reviveDead(since: number): Promise<number> {
    let revived = 0;
    const pages = paginateScan(
      { client: this.client },
      {
        TableName: this.tableName,
        FilterExpression: '#state = :dead AND dead_at >= :since',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':dead': 'dead', ':since': since },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const revivedNow = await ifConditionHolds(
          this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { pk: item.pk },
              UpdateExpression:
                'SET #state = :sent, pending_since = :since, expires_at = :expires REMOVE dead_at',
              ConditionExpression: '#state = :dead',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: {
                ':sent': 'sent',
                ':dead': 'dead',
                ':since': Date.parse(String(item.received_at)),
                ':expires': this.seconds() + LEDGER_TTL_SECONDS,
              },
            }),
          ),
        );
        if (revivedNow !== undefined) revived++;
      }
    }
    return revived;
  }

  /**
   * Overwrites items without `pending_since`, which removes them from the pending index. One item
   * per key (the last): BatchWriteItem refuses a batch naming a key twice, and SQS may deliver the
   * same message twice in one batch.
   */
  private async overwrite(all: readonly Record<string, unknown>[]): Promise<void> {
    const items = [...new Map(all.map((item) => [item.pk, item])).values()];
    for (let start = 0; start < items.length; start += 25) {
      let requests = items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } }));
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
