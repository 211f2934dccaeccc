/**
 * Summary function, GET /accounts/{id}/summary. Reserved concurrency and one connection per
 * instance bound its share of the database (design promise 5).
 */
import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createDocumentClient } from '../adapters/dynamodb/document-client';
import { DynamoMessageLedger } from '../adapters/dynamodb/message-ledger';
import { DynamoSummaryCache } from '../adapters/dynamodb/summary-cache';
import { createPool } from '../adapters/postgres/connection';
import { PostgresSummaryStore } from '../adapters/postgres/summary-store';
import { ApiError } from '../core/errors';
import { errorResponse, jsonResponse } from '../core/http-responses';
import { decodeAuthContext } from '../core/tenants';
import { CONNECTIONS_PER_INSTANCE } from '../shared/database-connections';
import { describeError } from '../shared/describe-error';
import { ENV, type Environment, readEnv, readNumberEnv } from '../shared/env';
import { createObservability, type Observability, portLog } from '../shared/observability';
import { observedHandler } from '../shared/observed-handler';
import { once } from '../shared/once';
import { type SummaryDependencies, SummaryReader } from '../use-cases/summarize';

export function createSummaryHandler(reader: () => SummaryReader, { logger, metrics }: Observability) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const requestId = event.requestContext?.requestId || randomUUID();
    const auth = decodeAuthContext(event.requestContext?.authorizer);
    logger.appendKeys({ request_id: requestId, account_id: auth?.accountId });
    const started = performance.now();
    try {
      if (event.httpMethod !== 'GET') throw new ApiError('method_not_allowed', 'Use GET to read a summary.');
      if (!auth) throw new ApiError('unauthorized', 'Missing or invalid API key.');
      const outcome = await reader().read({
        auth,
        accountId: event.pathParameters?.id,
        query: event.queryStringParameters,
      });
      metrics.addMetric(outcome.summary.cached ? 'CacheHit' : 'CacheMiss', MetricUnit.Count, 1);
      if (outcome.cacheError) metrics.addMetric('CacheErrors', MetricUnit.Count, 1);
      if (outcome.ledgerError) metrics.addMetric('WatermarkFallbacks', MetricUnit.Count, 1);
      if (outcome.attempts > 1)
        metrics.addMetric('TopUsersExtraAttempts', MetricUnit.Count, outcome.attempts - 1);
      metrics.addMetric('SummaryLatency', MetricUnit.Milliseconds, performance.now() - started);
      return jsonResponse(200, outcome.summary, { requestId });
    } catch (error) {
      // A store that is away (503) counts as an error of this function, as any unexpected failure.
      if (error instanceof ApiError && error.code !== 'unavailable') {
        logger.info('request refused', { code: error.code, status: error.status });
        return errorResponse(error, { requestId });
      }
      metrics.addMetric('SummaryErrors', MetricUnit.Count, 1);
      logger.error('summary failed', { error: describeError(error) });
      return errorResponse(error, { requestId });
    } finally {
      logger.removeKeys(['request_id', 'account_id']);
    }
  };
}

export function summaryDependenciesFromEnv(
  observability: Observability,
  env: Environment = process.env,
): SummaryDependencies {
  const documents = createDocumentClient(env);
  return {
    store: new PostgresSummaryStore(
      createPool({ max: CONNECTIONS_PER_INSTANCE, applicationName: 'firehose-summary' }, env),
    ),
    cache: new DynamoSummaryCache(documents, readEnv(ENV.summaryCacheTable, env)),
    ledger: new DynamoMessageLedger(documents, readEnv(ENV.ledgerTable, env)),
    settings: {
      cacheTtlSeconds: readNumberEnv(ENV.summaryCacheTtlSeconds, env),
      maxRangeDays: readNumberEnv(ENV.maxRangeDays, env),
      ingestTimeoutSeconds: readNumberEnv(ENV.ingestTimeoutSeconds, env),
      queueRetentionDays: readNumberEnv(ENV.queueRetentionDays, env),
    },
    log: portLog(observability.logger),
  };
}

/** The deployed handler: dependencies are built from `env` on the first invocation. */
export function buildSummaryHandler(env: Environment = process.env) {
  const observability = createObservability('summary', env);
  const reader = once(() => new SummaryReader(summaryDependenciesFromEnv(observability, env)));
  return observedHandler(createSummaryHandler(reader, observability), observability);
}

export const handler = buildSummaryHandler();
