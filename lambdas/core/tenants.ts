/**
 * Tenants and their keys as the rest of the code sees them, and the authorizer's context that
 * carries a verified key's identity to the handlers (API Gateway allows only flat string values).
 */

import type { KeyKind, Scope } from './api-keys';
import type { Tier } from './tiers';

export type AccountStatus = 'active' | 'suspended';
export type KeyStatus = 'active' | 'revoked';

export interface AccountRecord {
  readonly accountId: string;
  readonly name: string;
  readonly tier: Tier;
  readonly status: AccountStatus;
  readonly createdAt: string;
}

export interface KeyRecord {
  readonly keyHash: string;
  readonly accountId: string;
  readonly visiblePrefix: string;
  readonly kind: KeyKind;
  readonly scopes: readonly Scope[];
  /** Browser origins a publishable key may be used from (exact `scheme://host[:port]`). */
  readonly allowedOrigins: readonly string[];
  readonly status: KeyStatus;
  readonly description?: string;
  readonly createdAt: string;
  readonly lastUsedAt?: string;
  readonly revokedAt?: string;
}

/** What a verified key grants, as handlers read it from the authorizer context. */
export interface AuthContext {
  readonly accountId: string;
  readonly scopes: readonly Scope[];
  readonly tier: Tier;
  readonly keyKind: KeyKind;
  readonly keyPrefix: string;
  readonly allowedOrigins: readonly string[];
}

export function encodeAuthContext(context: AuthContext): Record<string, string> {
  return {
    account_id: context.accountId,
    scopes: context.scopes.join(' '),
    tier: context.tier,
    key_kind: context.keyKind,
    key_prefix: context.keyPrefix,
    allowed_origins: context.allowedOrigins.join(' '),
  };
}

/** Reads the authorizer context; undefined when it is missing or incomplete (never trust partial). */
export function decodeAuthContext(
  raw: Readonly<Record<string, unknown>> | null | undefined,
): AuthContext | undefined {
  if (!raw) return undefined;
  const accountId = raw.account_id;
  const tier = raw.tier;
  const kind = raw.key_kind;
  if (typeof accountId !== 'string' || accountId === '' || typeof tier !== 'string') return undefined;
  if (kind !== 'secret' && kind !== 'publishable') return undefined;
  const words = (value: unknown) => (typeof value === 'string' && value !== '' ? value.split(' ') : []);
  return {
    accountId,
    tier: tier as Tier,
    keyKind: kind,
    keyPrefix: typeof raw.key_prefix === 'string' ? raw.key_prefix : '',
    scopes: words(raw.scopes).filter((scope): scope is Scope => scope === 'ingest' || scope === 'read'),
    allowedOrigins: words(raw.allowed_origins),
  };
}
