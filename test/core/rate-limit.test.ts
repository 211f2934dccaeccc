import { describe, expect, it } from 'vitest';
import { burstHoldsRequest, costMs, decideLimit } from '../../lambdas/core/rate-limit';
import { TIERS } from '../../lambdas/core/tiers';
import { STAGES, stageConfigs } from '../../lib/config/stage-config';

const limits = { requestsPerSecond: 10, eventsPerSecond: 500, burstSeconds: 2 };
const NOW = 1_000_000;

describe('Function: decideLimit (GCRA)', () => {
  it('charges the larger of the request and events costs', () => {
    expect(costMs({ requests: 1, events: 1 }, limits)).toBe(100);
    expect(costMs({ requests: 1, events: 200 }, limits)).toBe(400);
  });

  it('admits a burst of up to burstSeconds of traffic at once, then refuses with the wait', () => {
    let tat = 0;
    const admitted: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      const { admission, nextTat } = decideLimit(tat, { requests: 1, events: 200 }, limits, NOW);
      admitted.push(admission.allowed);
      tat = nextTat;
    }
    // 400 ms each: five fit in 2 s, the sixth would end 400 ms beyond the burst.
    expect(admitted).toEqual([true, true, true, true, true, false]);
    const refused = decideLimit(tat, { requests: 1, events: 200 }, limits, NOW).admission;
    expect(refused).toEqual({ allowed: false, dimension: 'events', retryAfterMs: 400 });
  });

  it('recovers at the sustained rate, and idle time never builds credit beyond the burst', () => {
    const full = NOW + 2000;
    expect(decideLimit(full, { requests: 1, events: 0 }, limits, NOW).admission.allowed).toBe(false);
    expect(decideLimit(full, { requests: 1, events: 0 }, limits, NOW + 100).admission.allowed).toBe(true);
    const afterIdle = decideLimit(NOW - 3_600_000, { requests: 1, events: 0 }, limits, NOW);
    expect(afterIdle.nextTat).toBe(NOW + 100);
  });

  it('names the requests limit when many small requests run into it', () => {
    const refused = decideLimit(NOW + 2000, { requests: 1, events: 1 }, limits, NOW).admission;
    expect(refused).toMatchObject({ allowed: false, dimension: 'requests' });
  });
});

describe('Stage config: tiers', () => {
  it.each(STAGES)('lets every tier of %s admit one full request within its burst', (stage) => {
    const config = stageConfigs[stage];
    for (const tier of TIERS)
      expect(burstHoldsRequest(config.tiers[tier], config.ingest.maxEventsPerRequest)).toBe(true);
  });
});
