/**
 * Accounts and API keys in the tenants table (docs/data-model.md#dynamodb):
 *   account#<id>        { account_id, name, tier, status, created_at }
 *   key#<sha256 of key> { account_id, visible_prefix, kind, scopes, allowed_origins, status, ... }
 * The GSI `by-account` (account_id, pk) lists an account's items for the ops CLI.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Scope } from '../../core/api-keys';
import type { KeyStore } from '../../core/ports';
import type { AccountRecord, AccountStatus, KeyRecord } from '../../core/tenants';
import type { Tier } from '../../core/tiers';
import { ifConditionHolds } from './conditional-write';
import { BY_ACCOUNT_INDEX } from './table-keys';

export class AlreadyExistsError extends Error {
  override readonly name = 'AlreadyExistsError';
}

type Item = Record<string, unknown>;

function toAccount(item: Item): AccountRecord {
  return {
    accountId: String(item.account_id),
    name: String(item.name ?? ''),
    tier: item.tier as Tier,
    status: item.status as AccountStatus,
    createdAt: String(item.created_at),
  };
}

function toKey(item: Item): KeyRecord {
  return {
    keyHash: String(item.pk).slice('key#'.length),
    accountId: String(item.account_id),
    visiblePrefix: String(item.visible_prefix),
    kind: item.kind === 'publishable' ? 'publishable' : 'secret',
    scopes: (item.scopes as Scope[] | undefined) ?? [],
    allowedOrigins: (item.allowed_origins as string[] | undefined) ?? [],
    status: item.status === 'active' ? 'active' : 'revoked',
    description: item.description === undefined ? undefined : String(item.description),
    createdAt: String(item.created_at),
    lastUsedAt: item.last_used_at === undefined ? undefined : String(item.last_used_at),
    revokedAt: item.revoked_at === undefined ? undefined : String(item.revoked_at),
  };
}

export class DynamoTenantStore implements KeyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async findKey(keyHash: string): Promise<KeyRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `key#${keyHash}` }, ConsistentRead: true }),
    );
    return Item ? toKey(Item) : undefined;
  }

  async findAccount(accountId: string): Promise<AccountRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `account#${accountId}` },
        ConsistentRead: true,
      }),
    );
    return Item ? toAccount(Item) : undefined;
  }

  async touchKey(keyHash: string, at: string): Promise<void> {
    // A key deleted meanwhile is not recreated.
    await ifConditionHolds(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `key#${keyHash}` },
          UpdateExpression: 'SET last_used_at = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at },
        }),
      ),
    );
  }

  async createAccount(account: AccountRecord): Promise<void> {
    await this.putNew({
      pk: `account#${account.accountId}`,
      account_id: account.accountId,
      name: account.name,
      tier: account.tier,
      status: account.status,
      created_at: account.createdAt,
    });
  }

  async updateAccount(accountId: string, changes: { status?: AccountStatus; tier?: Tier }): Promise<void> {
    const sets = Object.entries(changes).filter(([, value]) => value !== undefined);
    if (sets.length === 0) return;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `account#${accountId}` },
        UpdateExpression: `SET ${sets.map(([name]) => `#${name} = :${name}`).join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: Object.fromEntries(sets.map(([name]) => [`#${name}`, name])),
        ExpressionAttributeValues: Object.fromEntries(sets.map(([name, value]) => [`:${name}`, value])),
      }),
    );
  }

  async createKey(key: KeyRecord): Promise<void> {
    await this.putNew({
      pk: `key#${key.keyHash}`,
      account_id: key.accountId,
      visible_prefix: key.visiblePrefix,
      kind: key.kind,
      scopes: [...key.scopes],
      allowed_origins: [...key.allowedOrigins],
      status: key.status,
      description: key.description,
      created_at: key.createdAt,
    });
  }

  /**
   * Whether this call revoked the key: false when it was revoked already (its first `revoked_at`,
   * the one an audit needs, is kept) or does not exist.
   */
  async revokeKey(keyHash: string, at: string): Promise<boolean> {
    const written = await ifConditionHolds(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `key#${keyHash}` },
          UpdateExpression: 'SET #status = :revoked, revoked_at = :at',
          ConditionExpression: 'attribute_exists(pk) AND #status <> :revoked',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':revoked': 'revoked', ':at': at },
        }),
      ),
    );
    return written !== undefined;
  }

  async listKeys(accountId: string): Promise<KeyRecord[]> {
    const keys: KeyRecord[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        IndexName: BY_ACCOUNT_INDEX,
        KeyConditionExpression: 'account_id = :account AND begins_with(pk, :key)',
        ExpressionAttributeValues: { ':account': accountId, ':key': 'key#' },
      },
    );
    for await (const page of pages) keys.push(...(page.Items ?? []).map(toKey));
    return keys;
  }

  async deleteAccount(accountId: string): Promise<number> {
    const keys = await this.listKeys(accountId);
    for (const key of keys) {
      await this.client.send(
        new DeleteCommand({ TableName: this.tableName, Key: { pk: `key#${key.keyHash}` } }),
      );
    }
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: `account#${accountId}` } }),
    );
    return keys.length;
  }

  private async putNew(item: Item): Promise<void> {
    const written = await ifConditionHolds(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    if (written === undefined) throw new AlreadyExistsError(`${String(item.pk)} already exists`);
  }
}
