/**
 * Writer function: SQS batch of packed messages → PostgreSQL, exactly once, with partial batch
 * failures (the event source mapping has ReportBatchItemFailures). One connection per instance.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDocumentClient } from '../adapters/dynamodb/document-client';
import { DynamoMessageLedger } from '../adapters/dynamodb/message-ledger';
import { createPool } from '../adapters/postgres/connection';
import { PostgresEventStore } from '../adapters/postgres/event-store';
import { CONNECTIONS_PER_INSTANCE } from '../shared/database-connections';
import { ENV, type Environment, readEnv, readNumberEnv } from '../shared/env';
import { createObservability, type Observability, portLog } from '../shared/observability';
import { observedHandler } from '../shared/observed-handler';
import { once } from '../shared/once';
import { type WriterDependencies, writeEvents } from '../use-cases/write-events';

export function createWriterHandler(
  dependencies: () => WriterDependencies,
  { logger, metrics }: Observability,
) {
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

export function writerDependenciesFromEnv(
  observability: Observability,
  env: Environment = process.env,
): WriterDependencies {
  return {
    store: new PostgresEventStore(
      createPool({ max: CONNECTIONS_PER_INSTANCE, applicationName: 'firehose-writer' }, env),
    ),
    ledger: new DynamoMessageLedger(createDocumentClient(env), readEnv(ENV.ledgerTable, env)),
    settings: {
      rawRetentionDays: readNumberEnv(ENV.rawRetentionDays, env),
      partitionsAheadDays: readNumberEnv(ENV.partitionsAheadDays, env),
      maxReceiveCount: readNumberEnv(ENV.maxReceiveCount, env),
    },
    log: portLog(observability.logger),
  };
}

/** The deployed handler: environment is read and checked on the first invocation, connections made once. */
export function buildWriterHandler(env: Environment = process.env) {
  const observability = createObservability('writer', env);
  const dependencies = once(() => writerDependenciesFromEnv(observability, env));
  return observedHandler(createWriterHandler(dependencies, observability), observability);
}

export const handler = buildWriterHandler();
