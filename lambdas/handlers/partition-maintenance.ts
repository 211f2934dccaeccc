/**
 * Scheduled partition maintenance (EventBridge): partitions ahead, expired ones dropped with their
 * exactly-once keys, rollups and bookkeeping expired. Runs as the owner role.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type pg from 'pg';
import { createPool } from '../adapters/postgres/connection';
import { type MaintenanceResult, type MaintenanceSettings, maintainPartitions } from '../adapters/postgres/partition-maintenance';
import { ENV, readNumberEnv } from '../shared/env';
import { createObservability, type Observability } from '../shared/observability';

export function createPartitionMaintenanceHandler(
  dependencies: () => { pool: pg.Pool; settings: MaintenanceSettings },
  { logger, metrics }: Observability,
) {
  return async (): Promise<MaintenanceResult> => {
    const { pool, settings } = dependencies();
    const result = await maintainPartitions(pool, settings, Date.now(), (message) => logger.info(message));
    metrics.addMetric('PartitionsCreated', MetricUnit.Count, result.created);
    metrics.addMetric('PartitionsDropped', MetricUnit.Count, result.dropped.length);
    logger.info('partition maintenance done', { ...result });
    return result;
  };
}

const observability = createObservability('partition-maintenance');
let dependencies: { pool: pg.Pool; settings: MaintenanceSettings } | undefined;
export const handler = middy(
  createPartitionMaintenanceHandler(() => {
    dependencies ??= {
      pool: createPool({ max: 1, applicationName: 'firehose-maintenance' }),
      settings: {
        rawRetentionDays: readNumberEnv(ENV.rawRetentionDays),
        rollupRetentionDays: readNumberEnv(ENV.rollupRetentionDays),
        aheadDays: readNumberEnv(ENV.partitionsAheadDays),
      },
    };
    return dependencies;
  }, observability),
)
  .use(injectLambdaContext(observability.logger))
  .use(logMetrics(observability.metrics));
