/**
 * Verifies an `Authorization: Bearer <key>` header: well-formed key with a valid checksum, a stored
 * hash that matches (compared in constant time), an active key of an active account. Every failure
 * is the same Unauthorized, so a caller learns nothing about which check failed.
 */

import { bearerToken, digestsEqual, hashApiKey, parseApiKey } from '../core/api-keys';
import type { KeyStore, Log } from '../core/ports';
import type { AuthContext } from '../core/tenants';
import { isTier, type Tier } from '../core/tiers';
import { describeError } from '../shared/describe-error';

export class Unauthorized extends Error {
  constructor(readonly reason: 'missing' | 'malformed' | 'unknown' | 'revoked' | 'account_inactive') {
    super('Unauthorized');
    this.name = 'Unauthorized';
  }
}

export interface AuthorizeDependencies {
  readonly keys: KeyStore;
  /** The tier of an account whose stored tier is unknown (an item edited by hand, an older tier name). */
  readonly defaultTier: Tier;
  readonly log: Log;
  readonly now?: () => number;
}

export async function authorize(
  deps: AuthorizeDependencies,
  authorizationHeader: string | undefined,
): Promise<AuthContext> {
  const token = bearerToken(authorizationHeader);
  if (!token) throw new Unauthorized('missing');
  const parsed = parseApiKey(token);
  if (!parsed) throw new Unauthorized('malformed');
  const hash = hashApiKey(token);
  const key = await deps.keys.findKey(hash);
  if (!(key && digestsEqual(key.keyHash, hash))) throw new Unauthorized('unknown');
  if (key.status !== 'active') throw new Unauthorized('revoked');
  const now = new Date((deps.now ?? Date.now)()).toISOString();
  // Last-used time is informative: written alongside the account lookup (no added latency), and a
  // failure to write it must not fail the request. Awaited: Lambda freezes work left running.
  const [account] = await Promise.all([
    deps.keys.findAccount(key.accountId),
    deps.keys.touchKey(hash, now).catch((error: unknown) => {
      deps.log.warn('could not record key use', {
        keyPrefix: key.visiblePrefix,
        error: describeError(error),
      });
    }),
  ]);
  if (account?.status !== 'active') throw new Unauthorized('account_inactive');
  return {
    accountId: key.accountId,
    // A publishable key can only ever ingest, whatever was stored.
    scopes: key.kind === 'publishable' ? key.scopes.filter((scope) => scope === 'ingest') : key.scopes,
    tier: isTier(account.tier) ? account.tier : deps.defaultTier,
    keyKind: key.kind,
    keyPrefix: key.visiblePrefix,
    allowedOrigins: key.allowedOrigins,
  };
}
