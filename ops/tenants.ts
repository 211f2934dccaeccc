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
  if (options.kind === 'publishable' && options.scopes?.some((scope) => scope !== 'ingest')) {
    throw new Error(
      'Publishable keys can only ingest: they live in web pages, where anyone can read them. Drop --scopes, or use --kind secret.',
    );
  }
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

/**
 * Revokes by the key's visible prefix (as listed, a trailing "…" allowed) or by the full key. A key
 * revoked already is returned as it is, with its first revocation time.
 */
export async function revokeKey(
  store: DynamoTenantStore,
  accountId: string,
  prefixOrKey: string,
  now = new Date(),
): Promise<{ readonly key: KeyRecord; readonly alreadyRevoked: boolean }> {
  if (!(await store.findAccount(accountId))) throw new Error(`No account "${accountId}".`);
  const parsed = parseApiKey(prefixOrKey);
  const prefix = parsed ? parsed.visiblePrefix : prefixOrKey.replace(/(…|\.\.\.)$/, '');
  const keys = await store.listKeys(accountId);
  const wantedHash = parsed ? hashApiKey(prefixOrKey) : undefined;
  const matches = keys.filter((key) =>
    wantedHash ? key.keyHash === wantedHash : key.visiblePrefix === prefix,
  );
  if (matches.length !== 1) {
    // A full key is never echoed: it may be a live secret of another account.
    throw new Error(
      matches.length === 0
        ? `No key ${parsed ? `starting "${prefix}…"` : `"${prefix}"`} on account ${accountId} ` +
            `(npm run ops -- tenants show ${accountId} lists its keys).`
        : `Prefix "${prefix}" is ambiguous; pass the full key.`,
    );
  }
  const key = matches[0]!;
  if (key.status === 'revoked') return { key, alreadyRevoked: true };
  if (!(await store.revokeKey(key.keyHash, now.toISOString()))) {
    // Revoked by someone else since the listing: its first time is in the store.
    const current = (await store.listKeys(accountId)).find((each) => each.keyHash === key.keyHash) ?? key;
    return { key: current, alreadyRevoked: true };
  }
  return { key: { ...key, status: 'revoked', revokedAt: now.toISOString() }, alreadyRevoked: false };
}
