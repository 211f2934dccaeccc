/**
 * Per-account limits as a generic cell rate algorithm (GCRA), pure. The state is one number, the
 * account's "theoretical arrival time" (TAT): when its budget would be full again. A request moves
 * it later by its cost, the larger of its request cost (1 / requests per second) and its events
 * cost (n / events per second); it is admitted while the TAT stays within `burstSeconds` of now.
 * Taking the larger cost enforces both limits with one number, so one conditional write decides.
 * It is stricter than two independent limits only when a request is heavy on both at once.
 * Smooth (no double bursts at window edges); see docs/limits.md.
 */
import type { TierLimits } from './tiers';

export interface LimitCost {
  readonly requests: number;
  readonly events: number;
}

export type Admission =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly dimension: 'requests' | 'events'; readonly retryAfterMs: number };

/** How far a request moves the TAT, in ms. */
export function costMs(cost: LimitCost, limits: TierLimits): number {
  return Math.max(
    (cost.requests * 1000) / limits.requestsPerSecond,
    (cost.events * 1000) / limits.eventsPerSecond,
  );
}

export function burstMs(limits: TierLimits): number {
  return limits.burstSeconds * 1000;
}

/** The largest stored TAT at which this request is still admitted now. */
export function admissionCeiling(cost: LimitCost, limits: TierLimits, nowMs: number): number {
  return nowMs + burstMs(limits) - costMs(cost, limits);
}

/** Which limit a refused request ran into: the dimension that makes it costly. */
export function bindingDimension(cost: LimitCost, limits: TierLimits): 'requests' | 'events' {
  return cost.requests / limits.requestsPerSecond >= cost.events / limits.eventsPerSecond
    ? 'requests'
    : 'events';
}

/** The decision for a stored TAT (0 when the account has no state), and the TAT to store if admitted. */
export function decideLimit(
  storedTat: number,
  cost: LimitCost,
  limits: TierLimits,
  nowMs: number,
): { readonly admission: Admission; readonly nextTat: number } {
  const nextTat = Math.max(storedTat, nowMs) + costMs(cost, limits);
  const overMs = nextTat - nowMs - burstMs(limits);
  if (overMs > 0) {
    return {
      admission: { allowed: false, dimension: bindingDimension(cost, limits), retryAfterMs: overMs },
      nextTat: storedTat,
    };
  }
  return { admission: { allowed: true }, nextTat };
}

/** A tier whose burst cannot hold one full request would refuse it forever: reject such config. */
export function burstHoldsRequest(limits: TierLimits, maxEventsPerRequest: number): boolean {
  return costMs({ requests: 1, events: maxEventsPerRequest }, limits) <= burstMs(limits);
}
