/**
 * Ingest function, POST /events (API Gateway REST proxy integration, behind the authorizer).
 */
import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createDocumentClient } from '../adapters/dynamodb/document-client';
import { DynamoMessageLedger } from '../adapters/dynamodb/message-ledger';
import { DynamoRateLimiter } from '../adapters/dynamodb/rate-limiter';
import { createFirehoseClient, createSqsClient } from '../adapters/messaging/clients';
import { FirehoseArchive } from '../adapters/messaging/firehose-archive';
import { SqsEventQueue } from '../adapters/messaging/sqs-event-queue';
import { corsVerdict, preflightHeaders } from '../core/cors';
import { ApiError } from '../core/errors';
import { ingestAnswerDeadlineMs } from '../core/freshness';
import { errorResponse, jsonResponse } from '../core/http-responses';
import { decodeAuthContext } from '../core/tenants';
import { TIERS, type Tier, type TierLimits } from '../core/tiers';
import { describeError } from '../shared/describe-error';
import { ENV, type Environment, readEnv, readJsonEnv, readNumberEnv, readOneOfEnv } from '../shared/env';
import { headerValue } from '../shared/headers';
import { createObservability, type Observability, portLog } from '../shared/observability';
import { observedHandler } from '../shared/observed-handler';
import { once } from '../shared/once';
import { type IngestDependencies, ingestEvents, LedgerUnavailableError } from '../use-cases/ingest-events';

export function createIngestHandler(
  dependencies: () => IngestDependencies,
  { logger, metrics }: Observability,
) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const requestId = event.requestContext?.requestId || randomUUID();
    const origin = headerValue(event.headers, 'origin');
    if (event.httpMethod === 'OPTIONS')
      return { statusCode: 204, headers: preflightHeaders(origin), body: '' };
    const auth = decodeAuthContext(event.requestContext?.authorizer);
    // Errors of a browser request from an allowed origin must be readable by that page too.
    const cors = auth ? corsVerdict(auth, origin) : undefined;
    const headers = cors?.allowed ? cors.headers : {};
    logger.appendKeys({ request_id: requestId, account_id: auth?.accountId });
    try {
      if (event.httpMethod !== 'POST') throw new ApiError('method_not_allowed', 'Use POST to send events.');
      if (!auth || !cors) throw new ApiError('unauthorized', 'Missing or invalid API key.');
      const result = await ingestEvents(dependencies(), {
        auth,
        requestId,
        contentType: headerValue(event.headers, 'content-type'),
        cors,
        body: event.body,
        base64: event.isBase64Encoded === true,
      });
      metrics.addMetric('EventsAccepted', MetricUnit.Count, result.accepted);
      metrics.addMetric('EventsRejected', MetricUnit.Count, result.rejected.length);
      metrics.addMetric('BatchSize', MetricUnit.Count, result.accepted + result.rejected.length);
      metrics.addMetric('EnqueueLatency', MetricUnit.Milliseconds, result.stats.enqueueMs);
      if (result.stats.limiterFailedOpen) metrics.addMetric('LimiterFailOpen', MetricUnit.Count, 1);
      for (const rejection of result.rejected) countByCode(metrics, 'EventsRejectedByCode', rejection.code);
      logger.info('events accepted', {
        accepted: result.accepted,
        rejected: result.rejected.length,
        messages: result.stats.messages,
      });
      return jsonResponse(
        202,
        { accepted: result.accepted, rejected: result.rejected, request_id: requestId },
        { requestId, headers },
      );
    } catch (error) {
      if (error instanceof ApiError) {
        if (error.code === 'rate_limited') metrics.addMetric('Throttled', MetricUnit.Count, 1);
        if (error instanceof LedgerUnavailableError)
          metrics.addMetric('LedgerWriteErrors', MetricUnit.Count, 1);
        countByCode(metrics, 'RequestsRefused', error.code);
        for (const rejection of error.details.rejected ?? [])
          countByCode(metrics, 'EventsRejectedByCode', rejection.code);
        logger.info('request refused', { code: error.code, status: error.status });
      } else {
        countByCode(metrics, 'RequestsRefused', 'internal_error');
        logger.error('unexpected error', { error: describeError(error) });
      }
      return errorResponse(error, { requestId, headers });
    } finally {
      logger.removeKeys(['request_id', 'account_id']);
    }
  };
}

/** A count with the error or verdict code as its dimension, e.g. RequestsRefused{code=invalid_json}. */
function countByCode(metrics: Observability['metrics'], name: string, code: string): void {
  const metric = metrics.singleMetric();
  metric.addDimension('code', code);
  metric.addMetric(name, MetricUnit.Count, 1);
}

export function ingestDependenciesFromEnv(
  observability: Observability,
  env: Environment = process.env,
): IngestDependencies {
  const documents = createDocumentClient(env);
  return {
    queue: new SqsEventQueue(createSqsClient(env), readEnv(ENV.eventQueueUrl, env)),
    archive: new FirehoseArchive(createFirehoseClient(env), readEnv(ENV.archiveStreamName, env)),
    limiter: new DynamoRateLimiter(documents, readEnv(ENV.rateLimitTable, env)),
    ledger: new DynamoMessageLedger(documents, readEnv(ENV.ledgerTable, env)),
    rules: {
      maxEventsPerRequest: readNumberEnv(ENV.maxEventsPerRequest, env),
      maxBodyBytes: readNumberEnv(ENV.maxBodyBytes, env),
      maxEventAgeDays: readNumberEnv(ENV.maxEventAgeDays, env),
      maxFutureSkewSeconds: readNumberEnv(ENV.maxFutureSkewSeconds, env),
      maxMetadataBytes: readNumberEnv(ENV.maxMetadataBytes, env),
      maxMetadataDepth: readNumberEnv(ENV.maxMetadataDepth, env),
    },
    tierLimits: readJsonEnv<Record<Tier, TierLimits>>(ENV.tierLimits, env),
    defaultTier: readOneOfEnv(ENV.defaultTier, TIERS, env),
    answerDeadlineMs: ingestAnswerDeadlineMs(readNumberEnv(ENV.ingestTimeoutSeconds, env)),
    log: portLog(observability.logger),
  };
}

/** The deployed handler: dependencies are built from `env` on the first invocation. */
export function buildIngestHandler(env: Environment = process.env) {
  const observability = createObservability('ingest', env);
  const dependencies = once(() => ingestDependenciesFromEnv(observability, env));
  return observedHandler(createIngestHandler(dependencies, observability), observability);
}

export const handler = buildIngestHandler();
