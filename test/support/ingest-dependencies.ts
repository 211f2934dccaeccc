/**
 * The ingest function's dependencies for handler tests: the real adapters, DynamoDB on dynalite,
 * and SQS/Firehose clients whose calls the test file mocks (aws-sdk-client-mock) to inject faults.
 */
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoMessageLedger } from '../../lambdas/adapters/dynamodb/message-ledger';
import { DynamoRateLimiter } from '../../lambdas/adapters/dynamodb/rate-limiter';
import { FirehoseArchive } from '../../lambdas/adapters/messaging/firehose-archive';
import { SqsEventQueue } from '../../lambdas/adapters/messaging/sqs-event-queue';
import { ingestAnswerDeadlineMs } from '../../lambdas/core/freshness';
import type { IngestDependencies } from '../../lambdas/use-cases/ingest-events';
import { stageConfigs } from '../../lib/config/stage-config';
import type { TestDynamo } from './dynamodb';
import { silentLog } from './logs';

export function ingestDependencies(dynamo: TestDynamo, now?: () => number): IngestDependencies {
  const config = stageConfigs.local;
  return {
    queue: new SqsEventQueue(new SQSClient({ region: 'us-east-1' }), 'https://sqs.local/000/events'),
    archive: new FirehoseArchive(new FirehoseClient({ region: 'us-east-1' }), 'archive'),
    limiter: new DynamoRateLimiter(dynamo.documents, dynamo.names.rateLimitTable, now),
    ledger: new DynamoMessageLedger(dynamo.documents, dynamo.names.ledgerTable, now),
    rules: config.ingest,
    tierLimits: config.tiers,
    defaultTier: config.defaultTier,
    log: silentLog,
    answerDeadlineMs: ingestAnswerDeadlineMs(config.ingest.timeoutSeconds),
    ...(now ? { now } : {}),
  };
}

/** The part of an aws-sdk-client-mock stub this helper uses. */
interface Stub {
  // biome-ignore lint/suspicious/noExplicitAny: the stubs' command and input types differ per client
  on(command: any): { callsFake(fake: (input: any) => unknown): unknown };
}

/** Both services accept every message and record, as they normally do. */
export function acceptEverything(sqs: Stub, firehose: Stub): void {
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
    Successful: input.Entries.map((entry) => ({ Id: entry.Id })),
    Failed: [],
  }));
  firehose.on(PutRecordBatchCommand).callsFake((input: { Records: unknown[] }) => ({
    FailedPutCount: 0,
    RequestResponses: input.Records.map(() => ({ RecordId: 'r' })),
  }));
}
