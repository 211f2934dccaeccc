/**
 * Tiers and their per-account limits. The values live in stage config (lib/config/stage-config.ts)
 * and reach the ingest function as the TIER_LIMITS environment variable.
 */
export const TIERS = ['free', 'standard', 'enterprise'] as const;
export type Tier = (typeof TIERS)[number];

export interface TierLimits {
  readonly requestsPerSecond: number;
  readonly eventsPerSecond: number;
  /** How many seconds of traffic at the sustained rate may arrive at once. */
  readonly burstSeconds: number;
}

export function isTier(value: string): value is Tier {
  return (TIERS as readonly string[]).includes(value);
}
