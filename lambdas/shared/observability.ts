/**
 * Structured logs and EMF metrics for every function (Powertools). Service names and the metrics
 * namespace are fixed here so dashboards and alarms (lib/constructs/observability) can rely on them.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Log } from '../core/ports';
import { ENV, readOptionalEnv } from './env';
import type { FunctionName } from './function-names';

export const METRICS_NAMESPACE = 'Firehose';

type LoggerOptions = NonNullable<ConstructorParameters<typeof Logger>[0]>;

export type ServiceName = FunctionName;

/** The `service` of a function's logs and the `service` dimension of its metrics. */
export function serviceName(service: ServiceName): string {
  return `firehose-${service}`;
}

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export function createObservability(
  service: ServiceName,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Observability {
  const stage = readOptionalEnv(ENV.stage, env) ?? 'local';
  // Powertools would read the level from process.env; taking it from `env` lets the local pipeline
  // give in-process handlers their own level (on Lambda the two are the same).
  const logLevel = readOptionalEnv(ENV.logLevel, env) as LoggerOptions['logLevel'];
  const logger = new Logger({
    serviceName: serviceName(service),
    persistentLogAttributes: { stage },
    ...(logLevel ? { logLevel } : {}),
  });
  return {
    logger,
    metrics: new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName: serviceName(service),
      defaultDimensions: { stage },
      logger: metricsDiagnostics(logger),
    }),
  };
}

/**
 * Powertools Metrics' own diagnostics, through the function's structured logger instead of bare
 * console lines. Its "No application metrics to publish" warning fires on every invocation that
 * stores no metric, which is normal here (a refused request counts through a single metric, or not
 * at all), so it is demoted to debug; every other diagnostic stays a warning.
 */
function metricsDiagnostics(logger: Logger) {
  const text = (content: unknown[]) => content.map(String).join(' ');
  return {
    debug: (...content: unknown[]) => logger.debug(text(content)),
    info: (...content: unknown[]) => logger.info(text(content)),
    warn: (...content: unknown[]) => {
      const message = text(content);
      if (message.startsWith('No application metrics to publish')) logger.debug(message);
      else logger.warn(message);
    },
    error: (...content: unknown[]) => logger.error(text(content)),
  };
}

/** The use cases' logging port on top of Powertools' Logger. */
export function portLog(logger: Logger): Log {
  return {
    info: (message, details) => logger.info(message, { ...details }),
    warn: (message, details) => logger.warn(message, { ...details }),
    error: (message, details) => logger.error(message, { ...details }),
  };
}
