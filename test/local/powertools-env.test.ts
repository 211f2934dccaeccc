/**
 * The in-process handlers get the pipeline's log level from the environment they are built with,
 * without touching process.env (createObservability reads the level from that environment).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createObservability } from '../../lambdas/shared/observability';
import { handlerLogLevel, powertoolsEnvironment } from '../../local/powertools-env';

describe('Module: powertools-env', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("builds a handler's logger at the level of its own environment, whatever process.env says", () => {
    // Prepare
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');

    // Act
    const { logger } = createObservability('ingest', powertoolsEnvironment('DEBUG'));

    // Assess
    expect(logger.getLevelName()).toBe('DEBUG');
    expect(process.env.POWERTOOLS_LOG_LEVEL).toBe('SILENT');
  });

  it('turns EMF metrics off for local handlers', () => {
    expect(powertoolsEnvironment('INFO')).toEqual({
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
  });

  it('takes LOG_LEVEL, then POWERTOOLS_LOG_LEVEL, then WARN', () => {
    expect(handlerLogLevel({ LOG_LEVEL: 'INFO', POWERTOOLS_LOG_LEVEL: 'DEBUG' })).toBe('INFO');
    expect(handlerLogLevel({ POWERTOOLS_LOG_LEVEL: 'DEBUG' })).toBe('DEBUG');
    expect(handlerLogLevel({})).toBe('WARN');
  });
});
