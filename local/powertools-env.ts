/**
 * The handlers' Powertools settings locally, part of the environment each handler is built with
 * (createObservability takes the log level from it, not from process.env).
 */

/** The handlers' log level: LOG_LEVEL, else POWERTOOLS_LOG_LEVEL, else WARN. */
export function handlerLogLevel(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOG_LEVEL ?? env.POWERTOOLS_LOG_LEVEL ?? 'WARN';
}

/** Powertools variables for every local handler: the log level, and no EMF metrics. */
export function powertoolsEnvironment(logLevel: string): Record<string, string> {
  return { POWERTOOLS_LOG_LEVEL: logLevel, POWERTOOLS_METRICS_DISABLED: 'true' };
}
