/**
 * Scheduled partition maintenance (EventBridge): partitions ahead, expired ones dropped with their
 * exactly-once keys, rollups and bookkeeping expired. Runs as the owner role.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type pg from 'pg';
import { createPool } from '../adapters/postgres/connection';
import {
  type MaintenanceResult,
  type MaintenanceSettings,
  maintainPartitions,
} from '../adapters/postgres/partition-maintenance';
import { ENV, type Environment, readNumberEnv } from '../shared/env';
import { createObservability, type Observability } from '../shared/observability';
import { observedHandler } from '../shared/observed-handler';
import { once } from '../shared/once';

export function createPartitionMaintenanceHandler(
  dependencies: () => { pool: pg.Pool; settings: MaintenanceSettings },
  { logger, metrics }: Observability,
) {
  return async (): Promise<MaintenanceResult> => {
    const { pool, settings } = dependencies();
    const result = await maintainPartitions(pool, settings, Date.now(), (message) => logger.info(message));
    // A run that found another one still holding the lock (a slow run, or one a timeout left behind).
    if (result.alreadyRunning) metrics.addMetric('MaintenanceAlreadyRunning', MetricUnit.Count, 1);
    metrics.addMetric('PartitionsCreated', MetricUnit.Count, result.created);
    metrics.addMetric('PartitionsDropped', MetricUnit.Count, result.dropped.length);
    logger.info('partition maintenance done', { ...result });
    return result;
  };
}

/** The deployed handler: dependencies are built from `env` on the first invocation. */
export function buildPartitionMaintenanceHandler(env: Environment = process.env) {
  const observability = createObservability('partition-maintenance', env);
  const dependencies = once(() => ({
    pool: createPool({ max: 1, applicationName: 'firehose-maintenance' }, env),
    settings: {
      rawRetentionDays: readNumberEnv(ENV.rawRetentionDays, env),
      rollupRetentionDays: readNumberEnv(ENV.rollupRetentionDays, env),
      aheadDays: readNumberEnv(ENV.partitionsAheadDays, env),
    },
  }));
  return observedHandler(createPartitionMaintenanceHandler(dependencies, observability), observability);
}

export const handler = buildPartitionMaintenanceHandler();
