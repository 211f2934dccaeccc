/**
 * The in-process handlers get the pipeline's log level without the process's environment changing
 * for good (Powertools reads it from process.env when a Logger is built).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, describe, expect, it } from 'vitest';
import { handlerLogLevel, powertoolsEnvironment, withProcessEnv } from '../../local/powertools-env';

describe('Module: powertools-env', () => {
  const before = { ...process.env };

  afterEach(() => {
    for (const name of ['POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_METRICS_DISABLED']) {
      if (before[name] === undefined) delete process.env[name];
      else process.env[name] = before[name];
    }
  });

  it('builds with the given level and puts the environment back as it was, set or unset', () => {
    // Prepare
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    delete process.env.POWERTOOLS_METRICS_DISABLED;

    // Act
    const logger = withProcessEnv(powertoolsEnvironment('DEBUG'), () => new Logger({ serviceName: 't' }));

    // Assess
    expect(logger.getLevelName()).toBe('DEBUG');
    expect(process.env.POWERTOOLS_LOG_LEVEL).toBe('SILENT');
    expect(process.env.POWERTOOLS_METRICS_DISABLED).toBeUndefined();
  });

  it('puts the environment back when building throws', () => {
    // Prepare
    delete process.env.POWERTOOLS_LOG_LEVEL;

    // Act
    const build = () =>
      withProcessEnv(powertoolsEnvironment('INFO'), () => {
        throw new Error('boom');
      });

    // Assess
    expect(build).toThrow('boom');
    expect(process.env.POWERTOOLS_LOG_LEVEL).toBeUndefined();
  });

  it('takes LOG_LEVEL, then POWERTOOLS_LOG_LEVEL, then WARN', () => {
    expect(handlerLogLevel({ LOG_LEVEL: 'INFO', POWERTOOLS_LOG_LEVEL: 'DEBUG' })).toBe('INFO');
    expect(handlerLogLevel({ POWERTOOLS_LOG_LEVEL: 'DEBUG' })).toBe('DEBUG');
    expect(handlerLogLevel({})).toBe('WARN');
  });
});
