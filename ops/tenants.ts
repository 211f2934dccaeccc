/**
 * Creating tenants and keys: used by `npm run ops -- tenants ...`, by `npm start` for the demo
 * account, and by tests. The plain key is returned once and never stored.
 */
import { randomBytes } from 'node:crypto';
import type { DynamoTenantStore } from '../lambdas/adapters/dynamodb/tenant-store';
import {
  generateApiKey,
  hashApiKey,
  type KeyKind,
  parseApiKey,
  SCOPES,
  type Scope,
} from '../lambdas/core/api-keys';
import type { AccountRecord, KeyRecord } from '../lambdas/core/tenants';
import type { Tier } from '../lambdas/core/tiers';

const ACCOUNT_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

function newAccountId(): string {
  return `acct_${randomBytes(6).toString('hex')}`;
}

export async function createAccount(
  store: DynamoTenantStore,
  options: { accountId?: string; name: string; tier: Tier; now?: Date },
): Promise<AccountRecord> {
  const accountId = options.accountId ?? newAccountId();
  if (!ACCOUNT_ID.test(accountId))
    throw new Error(`Account id "${accountId}" must be 1-64 of A-Z a-z 0-9 _ . : -`);
  const account: AccountRecord = {
    accountId,
    name: options.name,
    tier: options.tier,
    status: 'active',
    createdAt: (options.now ?? new Date()).toISOString(),
  };
  await store.createAccount(account);
  return account;
}

export interface NewKey {
  /** The key itself: shown once, stored nowhere. */
  readonly key: string;
  readonly record: KeyRecord;
}

export async function createKey(
  store: DynamoTenantStore,
  options: {
    accountId: string;
    kind: KeyKind;
    scopes?: readonly Scope[];
    allowedOrigins?: readonly string[];
    description?: string;
    now?: Date;
  },
): Promise<NewKey> {
  if (!(await store.findAccount(options.accountId))) throw new Error(`No account "${options.accountId}".`);
  const scopes = options.kind === 'publishable' ? ['ingest' as const] : (options.scopes ?? SCOPES);
  if (options.kind === 'secret' && (options.allowedOrigins?.length ?? 0) > 0) {
    throw new Error('Allowed origins apply to publishable keys only: secret keys never go to a browser.');
  }
  for (const origin of options.allowedOrigins ?? []) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin))
      throw new Error(`Origin "${origin}" must look like https://app.example.com`);
  }
  const key = generateApiKey(options.kind);
  const record: KeyRecord = {
    keyHash: hashApiKey(key),
    accountId: options.accountId,
    visiblePrefix: parseApiKey(key)!.visiblePrefix,
    kind: options.kind,
    scopes,
    allowedOrigins: options.allowedOrigins ?? [],
    status: 'active',
    description: options.description,
    createdAt: (options.now ?? new Date()).toISOString(),
  };
  await store.createKey(record);
  return { key, record };
}

/** Revokes by the key's visible prefix (as listed) or by the full key. */
export async function revokeKey(
  store: DynamoTenantStore,
  accountId: string,
  prefixOrKey: string,
  now = new Date(),
): Promise<KeyRecord> {
  const keys = await store.listKeys(accountId);
  const wantedHash = parseApiKey(prefixOrKey) ? hashApiKey(prefixOrKey) : undefined;
  const matches = keys.filter((key) =>
    wantedHash ? key.keyHash === wantedHash : key.visiblePrefix === prefixOrKey,
  );
  if (matches.length !== 1) {
    throw new Error(
      matches.length === 0
        ? `No key "${prefixOrKey}" on account ${accountId}.`
        : `Prefix "${prefixOrKey}" is ambiguous; pass the full key.`,
    );
  }
  await store.revokeKey(matches[0]!.keyHash, now.toISOString());
  return { ...matches[0]!, status: 'revoked', revokedAt: now.toISOString() };
}
