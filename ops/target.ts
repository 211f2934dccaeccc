/**
 * Where an ops command acts: the running local pipeline (`--stage local`, from
 * <FIREHOSE_DIR>/local.json, default .firehose) or a deployed stage (its CloudFormation outputs, read
 * with your AWS credentials).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import pg from 'pg';
import { createDocumentClient } from '../lambdas/adapters/dynamodb/document-client';
import { DynamoMessageLedger } from '../lambdas/adapters/dynamodb/message-ledger';
import { DynamoSummaryCache } from '../lambdas/adapters/dynamodb/summary-cache';
import { DynamoTenantStore } from '../lambdas/adapters/dynamodb/tenant-store';
import { createSqsClient } from '../lambdas/adapters/messaging/clients';
import {
  completeErasure,
  type DatabaseErasure,
  type ErasureRecord,
  type ErasureRequest,
  eraseFromDatabase,
  listErasures,
} from '../lambdas/adapters/postgres/erasure';
import { deployedFunctionName } from '../lambdas/shared/function-names';
import { DATA_OUTPUTS, SERVICE_OUTPUTS, stackNames } from '../lib/config/stack-outputs';
import { stageConfig } from '../lib/config/stage-config';
import { NoLocalPipelineError, readRunningLocalState } from '../local/local-state';
import { s3ClientConfig, standinEnvironment } from '../local/standins/client-config';
import type { ArchiveLocation } from './archive-objects';

export interface OpsTarget {
  readonly stage: string;
  /** The public API's base URL (read only by the commands that call it). */
  apiUrl(): Promise<string>;
  readonly tenants: DynamoTenantStore;
  readonly ledger: DynamoMessageLedger;
  readonly summaryCache: DynamoSummaryCache;
  /** The PostgreSQL side of erasures: directly locally, through the erasure function on AWS. */
  readonly eraser: DatabaseEraser;
  /** How long the DLQ keeps messages: older dead ledger items have no message left. */
  readonly dlqRetentionDays: number;
  readonly sqs: SQSClient;
  readonly queues: { readonly events: string; readonly deadLetter: string; readonly deadLetterArn: string };
  /** The event archive; refuses, saying what to do, for a local pipeline started before it was recorded. */
  archive(): ArchiveLocation;
  /** Only where the operator can reach PostgreSQL (local). */
  readonly databaseUrl?: string;
}

export class OpsError extends Error {}

export interface DatabaseEraser {
  erase(request: ErasureRequest): Promise<DatabaseErasure>;
  complete(erasureId: number, removed: Record<string, number>): Promise<void>;
  list(filter: { accountId?: string; limit?: number }): Promise<ErasureRecord[]>;
}

/** Locally the operator reaches PostgreSQL: the adapter runs here, on a short-lived pool. */
function localEraser(databaseUrl: string): DatabaseEraser {
  const withPool = async <T>(work: (pool: pg.Pool) => Promise<T>): Promise<T> => {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    try {
      return await work(pool);
    } finally {
      await pool.end();
    }
  };
  return {
    erase: (request) => withPool((pool) => eraseFromDatabase(pool, request)),
    complete: (erasureId, removed) => withPool((pool) => completeErasure(pool, erasureId, removed)),
    list: (filter) => withPool((pool) => listErasures(pool, filter)),
  };
}

/** On AWS the database is in the VPC: the stage's erasure function runs the same adapter there. */
export function deployedEraser(stage: string, lambda: LambdaClient): DatabaseEraser {
  const functionName = deployedFunctionName(stageConfig(stage).stage, 'erasure');
  const invoke = async (payload: Record<string, unknown>) => {
    const { Payload, FunctionError } = await lambda.send(
      new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }),
    );
    const answer = JSON.parse(Buffer.from(Payload ?? []).toString('utf8') || 'null');
    if (FunctionError) {
      // Another erasure not finished yet: the adapter's own words say what to do.
      if (answer?.errorType === 'ErasureInProgress') throw new OpsError(answer.errorMessage);
      throw new OpsError(
        `The erasure function (${functionName}) failed: ${answer?.errorType ?? FunctionError}: ${answer?.errorMessage ?? ''}. ` +
          'Its log group has the details; running the same command again is safe.',
      );
    }
    return answer;
  };
  return {
    async erase(request) {
      const answer = await invoke({ action: 'erase', ...request });
      // Dates arrive as ISO strings in the function's JSON answer.
      return {
        ...answer,
        requestedAt: new Date(answer.requestedAt),
        erasedBefore: new Date(answer.erasedBefore),
      };
    },
    async complete(erasureId, removed) {
      await invoke({ action: 'complete', erasureId, removed });
    },
    async list(filter) {
      const records = (await invoke({ action: 'list', ...filter })) as (ErasureRecord & {
        erasedBefore: string;
        requestedAt: string;
        completedAt: string | null;
      })[];
      return records.map((record) => ({
        ...record,
        erasedBefore: new Date(record.erasedBefore),
        requestedAt: new Date(record.requestedAt),
        completedAt: record.completedAt === null ? null : new Date(record.completedAt),
      }));
    },
  };
}

async function localTarget(): Promise<OpsTarget> {
  const details = await readRunningLocalState().catch((error: unknown) => {
    throw error instanceof NoLocalPipelineError ? new OpsError(error.message) : error;
  });
  // The same clients as the functions', pointed at the stand-ins as npm start points them.
  const aws = standinEnvironment(details.aws.endpoints);
  const dynamo = createDocumentClient(aws);
  const archive = details.archive_bucket
    ? { s3: new S3Client(s3ClientConfig(details.aws.endpoints.s3)), bucket: details.archive_bucket }
    : undefined;
  return {
    stage: 'local',
    apiUrl: async () => details.endpoint,
    tenants: new DynamoTenantStore(dynamo, details.tables.tenantsTable),
    ledger: new DynamoMessageLedger(dynamo, details.tables.ledgerTable),
    summaryCache: new DynamoSummaryCache(dynamo, details.tables.summaryCacheTable),
    eraser: localEraser(details.database_url),
    dlqRetentionDays: stageConfig('local').queue.dlqRetentionDays,
    sqs: createSqsClient(aws),
    queues: {
      events: details.queues.events,
      deadLetter: details.queues.dead_letter,
      deadLetterArn: details.queues.dead_letter_arn,
    },
    archive: () => {
      if (!archive) {
        throw new OpsError(
          'This local pipeline did not record its archive bucket (it was started by an older version): restart npm start.',
        );
      }
      return archive;
    },
    databaseUrl: details.database_url,
  };
}

/**
 * Reads one of a deployed stage's stacks' outputs (ops reads the data stack, the load test the
 * service stack); the returned function fails with what to do when an output is missing.
 */
export async function stackOutputs(
  stage: string,
  stack: 'data' | 'service',
): Promise<{ region: string; output: (key: string) => string }> {
  const config = stageConfig(stage);
  const region = process.env.AWS_REGION ?? config.env.region;
  const stackName = stackNames(config.stage)[stack];
  let outputs: Record<string, string>;
  try {
    const { Stacks = [] } = await new CloudFormationClient({ region }).send(
      new DescribeStacksCommand({ StackName: stackName }),
    );
    outputs = Object.fromEntries(
      (Stacks[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]),
    );
  } catch (error) {
    throw new OpsError(
      `Could not read the outputs of ${stackName} in ${region}: ${(error as Error).message}. ` +
        'Check your AWS credentials (aws sts get-caller-identity) and that the stage is deployed (docs/deploy.md).',
    );
  }
  const output = (key: string) => {
    const value = outputs[key];
    if (!value) throw new OpsError(`Stack ${stackName} has no output ${key}; redeploy the stage.`);
    return value;
  };
  return { region, output };
}

async function deployedTarget(stage: string): Promise<OpsTarget> {
  const config = stageConfig(stage);
  const { region, output } = await stackOutputs(stage, 'data');
  const aws = { AWS_REGION: region };
  const dynamo = createDocumentClient(aws);
  const archive = { s3: new S3Client({ region }), bucket: output(DATA_OUTPUTS.archiveBucket) };
  return {
    stage,
    apiUrl: async () => (await stackOutputs(stage, 'service')).output(SERVICE_OUTPUTS.apiUrl),
    tenants: new DynamoTenantStore(dynamo, output(DATA_OUTPUTS.tenantsTable)),
    ledger: new DynamoMessageLedger(dynamo, output(DATA_OUTPUTS.ledgerTable)),
    summaryCache: new DynamoSummaryCache(dynamo, output(DATA_OUTPUTS.summaryCacheTable)),
    eraser: deployedEraser(stage, new LambdaClient({ region })),
    dlqRetentionDays: config.queue.dlqRetentionDays,
    sqs: createSqsClient(aws),
    queues: {
      events: output(DATA_OUTPUTS.eventQueueUrl),
      deadLetter: output(DATA_OUTPUTS.deadLetterQueueUrl),
      deadLetterArn: output(DATA_OUTPUTS.deadLetterQueueArn),
    },
    archive: () => archive,
  };
}

export function resolveTarget(stage: string): Promise<OpsTarget> {
  return stage === 'local' ? localTarget() : deployedTarget(stage);
}
