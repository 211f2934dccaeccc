/**
 * Powertools Metrics reports its own problems through the function's structured logger; an
 * invocation that stored no metric (a refused request) is routine and must not warn every time.
 */
import { describe, expect, it, vi } from 'vitest';
import { createObservability } from '../../lambdas/shared/observability';

describe('Observability: metrics diagnostics', () => {
  it('logs "no metrics to publish" at debug, not as a warning', () => {
    const { logger, metrics } = createObservability('summary', { STAGE: 'test' });
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const debug = vi.spyOn(logger, 'debug').mockImplementation(() => undefined);

    metrics.publishStoredMetrics();

    expect(warn).not.toHaveBeenCalled();
    expect(debug).toHaveBeenCalledWith(expect.stringMatching(/^No application metrics to publish/));
  });

  it('keeps every other diagnostic a structured warning', () => {
    const { logger, metrics } = createObservability('summary', { STAGE: 'test' });
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);

    metrics.addDimension('code', '');

    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/dimension code/i));
  });
});
