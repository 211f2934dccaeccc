/**
 * Per-account limits as a generic cell rate algorithm (GCRA), pure. For each dimension (requests,
 * events) the state is a "theoretical arrival time" (TAT): the instant the account's budget would be
 * back to full. A request costing n units moves it n x interval later; it is allowed when the TAT
 * stays within `burstSeconds` of now. Smooth (no 2x bursts at window edges) and one number per
 * dimension, so one DynamoDB item holds an account's whole limiter state (docs/limits.md).
 */
import type { TierLimits } from './tiers';

export interface LimiterState {
  /** Epoch ms; 0 when the dimension has never been used. */
  readonly requestTat: number;
  readonly eventTat: number;
}

export interface LimitCost {
  readonly requests: number;
  readonly events: number;
}

export type Refusal = {
  readonly allowed: false;
  readonly dimension: 'requests' | 'events';
  readonly retryAfterMs: number;
};
export type Admission = { readonly allowed: true } | Refusal;
export type LimitDecision = { readonly allowed: true; readonly next: LimiterState } | Refusal;

interface Dimension {
  readonly tat: number;
  readonly cost: number;
  readonly perSecond: number;
}

function advance(
  { tat, cost, perSecond }: Dimension,
  nowMs: number,
  burstMs: number,
): { tat: number; overMs: number } {
  const next = Math.max(tat, nowMs) + (cost * 1000) / perSecond;
  return { tat: next, overMs: next - nowMs - burstMs };
}

export function decideLimit(
  state: LimiterState,
  cost: LimitCost,
  limits: TierLimits,
  nowMs: number,
): LimitDecision {
  const burstMs = limits.burstSeconds * 1000;
  const requests = advance(
    { tat: state.requestTat, cost: cost.requests, perSecond: limits.requestsPerSecond },
    nowMs,
    burstMs,
  );
  const events = advance(
    { tat: state.eventTat, cost: cost.events, perSecond: limits.eventsPerSecond },
    nowMs,
    burstMs,
  );
  if (requests.overMs > 0 || events.overMs > 0) {
    const dimension = requests.overMs >= events.overMs ? 'requests' : 'events';
    return { allowed: false, dimension, retryAfterMs: Math.max(requests.overMs, events.overMs) };
  }
  return { allowed: true, next: { requestTat: requests.tat, eventTat: events.tat } };
}

/** The largest TAT each dimension may have now for this cost to pass: the fast path's condition. */
export function admissionCeilings(cost: LimitCost, limits: TierLimits, nowMs: number): LimiterState {
  const burstMs = limits.burstSeconds * 1000;
  return {
    requestTat: nowMs + burstMs - (cost.requests * 1000) / limits.requestsPerSecond,
    eventTat: nowMs + burstMs - (cost.events * 1000) / limits.eventsPerSecond,
  };
}
