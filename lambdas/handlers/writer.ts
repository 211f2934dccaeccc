/**
 * Writer function: SQS batch of packed messages → PostgreSQL, exactly once, with partial batch
 * failures (the event source mapping has ReportBatchItemFailures). One connection per instance.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDocumentClient } from '../adapters/aws-clients';
import { DynamoMessageLedger } from '../adapters/dynamodb/message-ledger';
import { createPool } from '../adapters/postgres/connection';
import { PostgresEventStore } from '../adapters/postgres/event-store';
import { ENV, readEnv, readNumberEnv } from '../shared/env';
import { createObservability, type Observability, portLog } from '../shared/observability';
import { type WriterDependencies, writeEvents } from '../use-cases/write-events';

export function createWriterHandler(dependencies: () => WriterDependencies, { logger, metrics }: Observability) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const started = performance.now();
    const outcome = await writeEvents(
      dependencies(),
      event.Records.map((record) => ({
        messageId: record.messageId,
        body: record.body,
        receiveCount: Number(record.attributes.ApproximateReceiveCount ?? 1),
      })),
    );
    const latencyMs = performance.now() - started;
    metrics.addMetric('EventsInserted', MetricUnit.Count, outcome.inserted);
    metrics.addMetric('DuplicatesSkipped', MetricUnit.Count, outcome.duplicates);
    metrics.addMetric('EventsOutOfRange', MetricUnit.Count, outcome.skipped);
    metrics.addMetric('MalformedMessages', MetricUnit.Count, outcome.malformed);
    metrics.addMetric('FailedMessages', MetricUnit.Count, outcome.failedMessageIds.length);
    metrics.addMetric('LedgerErrors', MetricUnit.Count, outcome.ledgerErrors);
    metrics.addMetric('BatchLatency', MetricUnit.Milliseconds, latencyMs);
    if (outcome.maxLagMs > 0) metrics.addMetric('FreshnessLag', MetricUnit.Milliseconds, outcome.maxLagMs);
    logger.info('batch written', {
      messages: event.Records.length,
      inserted: outcome.inserted,
      duplicates: outcome.duplicates,
      outOfRange: outcome.skipped,
      failed: outcome.failedMessageIds.length,
      latencyMs: Math.round(latencyMs),
      freshnessLagMs: outcome.maxLagMs,
    });
    return { batchItemFailures: outcome.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

/** Built on the first invocation: environment is read and checked then, connections made once. */
function lazyDependencies(observability: Observability): () => WriterDependencies {
  let dependencies: WriterDependencies | undefined;
  return () => {
    dependencies ??= {
      store: new PostgresEventStore(createPool({ max: 1, applicationName: 'firehose-writer' })),
      ledger: new DynamoMessageLedger(createDocumentClient(), readEnv(ENV.ledgerTable)),
      settings: {
        rawRetentionDays: readNumberEnv(ENV.rawRetentionDays),
        partitionsAheadDays: readNumberEnv(ENV.partitionsAheadDays),
        maxReceiveCount: readNumberEnv(ENV.maxReceiveCount),
      },
      log: portLog(observability.logger),
    };
    return dependencies;
  };
}

const observability = createObservability('writer');
export const handler = middy(createWriterHandler(lazyDependencies(observability), observability))
  .use(injectLambdaContext(observability.logger))
  .use(logMetrics(observability.metrics));
