/**
 * Applies schema migrations on deploy (a CDK Trigger runs it before the writer's event source
 * mapping exists), then makes sure today's and the coming days' partitions exist. Idempotent.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type pg from 'pg';
import { createPool } from '../adapters/postgres/connection';
import { type MigrationResult, migrate } from '../adapters/postgres/migrate';
import { ensureEventPartitions } from '../adapters/postgres/partition-maintenance';
import { withClient } from '../adapters/postgres/with-client';
import { addDays, utcDay } from '../core/time-buckets';
import { ENV, type Environment, readNumberEnv } from '../shared/env';
import { createObservability, type Observability } from '../shared/observability';
import { once } from '../shared/once';

export function createMigrateHandler(
  dependencies: () => { pool: pg.Pool; aheadDays: number },
  { logger }: Observability,
) {
  return async (): Promise<MigrationResult> => {
    const { pool, aheadDays } = dependencies();
    return withClient(pool, async (client) => {
      const result = await migrate(client);
      const today = utcDay(Date.now());
      await ensureEventPartitions(client, today, addDays(today, aheadDays));
      logger.info('migrations applied', {
        applied: result.applied,
        alreadyApplied: result.alreadyApplied.length,
      });
      return result;
    });
  };
}

/** The deployed handler: dependencies are built from `env` on the first invocation. */
export function buildMigrateHandler(env: Environment = process.env) {
  const observability = createObservability('migrate', env);
  const dependencies = once(() => ({
    pool: createPool({ max: 1, applicationName: 'firehose-migrate' }, env),
    aheadDays: readNumberEnv(ENV.partitionsAheadDays, env),
  }));
  return middy(createMigrateHandler(dependencies, observability)).use(
    injectLambdaContext(observability.logger),
  );
}

export const handler = buildMigrateHandler();
