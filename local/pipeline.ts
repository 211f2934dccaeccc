/**
 * The whole pipeline on one machine, with the real handlers behind the real SDK clients:
 *   PostgreSQL (embedded, or DATABASE_URL) · stand-ins for SQS, Firehose, S3 and DynamoDB ·
 *   the local API gateway (authorizer, ingest, summary in-process) · the event source runner
 *   (writer in killable worker processes) · scheduled partition maintenance.
 * Configured from the `local` stage config through the same environment builders as the CDK app.
 * State lives under `dir` and survives a restart.
 */
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { createDocumentClient } from '../lambdas/adapters/dynamodb/document-client';
import { DynamoTenantStore } from '../lambdas/adapters/dynamodb/tenant-store';
import { createSqsClient } from '../lambdas/adapters/messaging/clients';
import { migrate } from '../lambdas/adapters/postgres/migrate';
import { hashApiKey } from '../lambdas/core/api-keys';
import { ARCHIVE_DATA_PREFIX, ARCHIVE_ERROR_PREFIX } from '../lambdas/core/archive-records';
import { buildAuthorizerHandler } from '../lambdas/handlers/authorizer';
import { buildIngestHandler } from '../lambdas/handlers/ingest';
import { buildPartitionMaintenanceHandler } from '../lambdas/handlers/partition-maintenance';
import { buildSummaryHandler } from '../lambdas/handlers/summary';
import { DATABASE_NAME } from '../lib/config/database';
import {
  authorizerEnvironment,
  ingestEnvironment,
  maintenanceEnvironment,
  summaryEnvironment,
  writerEnvironment,
} from '../lib/config/function-environment';
import { queueVisibilityTimeoutSeconds, type StageConfig, stageConfigs } from '../lib/config/stage-config';
import { createAccount, createKey } from '../ops/tenants';
import { type LocalApi, startLocalApi } from './api-gateway';
import { localTableNames, tableDefinitions } from './dynamodb-tables';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from './embedded-postgres';
import { EventSourceRunner } from './event-source-runner';
import { handlerModule, lambdaContext, localFunctionName } from './lambda-context';
import { readSavedLocalState, refuseIfRunning, writeLocalState } from './local-state';
import { handlerLogLevel, powertoolsEnvironment } from './powertools-env';
import { standinEnvironment } from './standins/index';
import { type StandinsProcess, startStandinsProcess } from './standins-process';

export interface LocalPipelineOptions {
  /** Where all state lives (PostgreSQL, queues, archive, tables, local.json). */
  readonly dir: string;
  /** API port; 0 picks a free one. */
  readonly port?: number;
  /** An existing PostgreSQL (superuser URL of any database); otherwise an embedded one. */
  readonly databaseUrl?: string;
  readonly config?: StageConfig;
  /** Overrides the queue's visibility timeout (tests that wait for redeliveries). */
  readonly visibilityTimeoutSeconds?: number;
  /** Create (or reuse) the demo account and key, and write local.json. Default true. */
  readonly demo?: boolean;
  readonly log?: (line: string) => void;
  /**
   * Aborting it gives up starting: once the step under way is done, everything started so far is
   * stopped and the promise rejects with the signal's reason (Ctrl-C during `npm start`).
   */
  readonly signal?: AbortSignal;
}

export interface DemoAccount {
  readonly accountId: string;
  readonly apiKey: string;
}

export interface LocalPipeline {
  readonly endpoint: string;
  readonly demo: DemoAccount | undefined;
  readonly queues: {
    readonly events: string;
    readonly deadLetter: string;
    readonly deadLetterArn: string;
  };
  readonly databaseUrl: string;
  /** The S3 archive's bucket in the S3 stand-in. */
  readonly archiveBucket: string;
  /** The stand-ins, in their own process. */
  readonly standins: StandinsProcess;
  readonly runner: EventSourceRunner;
  readonly api: LocalApi;
  /** Fault hooks: stop and start the embedded PostgreSQL (unavailable with DATABASE_URL). */
  readonly database: { pause(): Promise<void>; restart(): Promise<void> };
  /** A superuser pool for checks and the ops CLI. */
  readonly pool: pg.Pool;
  readonly tenants: DynamoTenantStore;
  stop(): Promise<void>;
}

const NAMES = {
  queue: 'firehose-local-events',
  deadLetterQueue: 'firehose-local-events-dlq',
  archive: 'firehose-local-archive',
  tablePrefix: 'firehose-local',
};

async function ensureDatabase(adminUrl: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE_NAME]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${DATABASE_NAME}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${DATABASE_NAME}`;
  return url.toString();
}

async function demoAccount(dir: string, tenants: DynamoTenantStore): Promise<DemoAccount> {
  // The key an earlier run saved, if it still works: the demo key stays the same across restarts.
  const saved = await readSavedLocalState(dir);
  if (
    saved?.account_id &&
    saved.api_key &&
    (await tenants.findKey(hashApiKey(saved.api_key)))?.status === 'active'
  ) {
    return { accountId: saved.account_id, apiKey: saved.api_key };
  }
  const account =
    (await tenants.findAccount('demo')) ??
    (await createAccount(tenants, { accountId: 'demo', name: 'Demo', tier: 'enterprise' }));
  const { key } = await createKey(tenants, {
    accountId: account.accountId,
    kind: 'secret',
    description: 'npm start demo key',
  });
  return { accountId: account.accountId, apiKey: key };
}

export async function startLocalPipeline(options: LocalPipelineOptions): Promise<LocalPipeline> {
  const config = options.config ?? stageConfigs.local;
  const log = options.log ?? (() => undefined);
  const stopping: (() => Promise<void>)[] = [];
  // Stops what was started, last first; a second call finds nothing left to stop.
  const stopAll = async () => {
    for (let stop = stopping.pop(); stop; stop = stopping.pop()) {
      await stop().catch((error: unknown) => log(`stop: ${String(error)}`));
    }
  };
  // Between steps: a start given up (options.signal) stops here, and the catch below stops the rest.
  const checkpoint = () => options.signal?.throwIfAborted();
  try {
    checkpoint();
    await refuseIfRunning(options.dir);
    await mkdir(options.dir, { recursive: true, mode: 0o755 });
    // As root, PostgreSQL runs as the `postgres` user, which must be able to enter the state directory.
    if (process.getuid?.() === 0 && !options.databaseUrl) await chmod(options.dir, 0o755);

    // PostgreSQL
    let embedded: EmbeddedPostgresHandle | undefined;
    let adminUrl = options.databaseUrl;
    if (!adminUrl) {
      const dataDir = join(options.dir, 'postgres');
      log(`starting PostgreSQL (embedded, data in ${dataDir}) ...`);
      embedded = await startEmbeddedPostgres({ dataDir, persistent: true });
      stopping.push(() => embedded!.stop());
      checkpoint();
      adminUrl = embedded.adminUrl;
    }
    const databaseUrl = await ensureDatabase(adminUrl);
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    pool.on('error', () => undefined);
    stopping.push(() => pool.end());
    const client = await pool.connect();
    try {
      const { applied } = await migrate(client);
      if (applied.length > 0) log(`migrations applied: ${applied.join(', ')}`);
    } finally {
      client.release();
    }
    checkpoint();

    // Stand-ins
    log('starting SQS, Firehose, S3 and DynamoDB stand-ins ...');
    const tables = localTableNames(NAMES.tablePrefix);
    const day = 86_400;
    const standins = await startStandinsProcess(
      {
        dir: join(options.dir, 'standins'),
        firehose: {
          bufferSeconds: config.archive.bufferIntervalSeconds,
          bufferBytes: config.archive.bufferSizeMiB * 1024 * 1024,
          bucket: NAMES.archive,
          streams: [NAMES.archive],
          prefix: ARCHIVE_DATA_PREFIX,
          errorOutputPrefix: ARCHIVE_ERROR_PREFIX,
        },
        queues: [
          {
            name: NAMES.deadLetterQueue,
            attributes: { MessageRetentionPeriod: String(config.queue.dlqRetentionDays * day) },
          },
          {
            name: NAMES.queue,
            attributes: {
              VisibilityTimeout: String(
                options.visibilityTimeoutSeconds ?? queueVisibilityTimeoutSeconds(config),
              ),
              MessageRetentionPeriod: String(config.queue.retentionDays * day),
            },
            deadLetterQueue: NAMES.deadLetterQueue,
            maxReceiveCount: config.queue.maxReceiveCount,
          },
        ],
        dynamodb: { tables: tableDefinitions(tables) },
      },
      log,
    );
    stopping.push(() => standins.stop());
    checkpoint();

    // The functions' environments, from the same builders as the CDK app.
    const names = {
      ...tables,
      eventQueueUrl: standins.queueUrl(NAMES.queue),
      archiveStreamName: NAMES.archive,
    };
    const db = { kind: 'url' as const, url: databaseUrl };
    const aws = standinEnvironment(standins.endpoints);
    const powertools = powertoolsEnvironment(handlerLogLevel());
    const env = {
      authorizer: { ...aws, ...powertools, ...authorizerEnvironment(config, names) },
      ingest: { ...aws, ...powertools, ...ingestEnvironment(config, names) },
      writer: { ...aws, ...powertools, ...writerEnvironment(config, names, db) },
      summary: { ...aws, ...powertools, ...summaryEnvironment(config, names, db) },
      maintenance: { ...aws, ...powertools, ...maintenanceEnvironment(config, db) },
    };
    // No CloudWatch here: EMF metrics would only flood stdout. Unlike the log level this cannot be
    // scoped to the handlers' construction: Powertools reads it again for every singleMetric().
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    // The handlers that run in this process; the writer runs in workers, with env.writer as theirs.
    const handlers = {
      authorizer: buildAuthorizerHandler(env.authorizer),
      ingest: buildIngestHandler(env.ingest),
      summary: buildSummaryHandler(env.summary),
      maintenance: buildPartitionMaintenanceHandler(env.maintenance),
    };

    // Partition maintenance, now and on its schedule.
    const runMaintenance = async () => {
      await handlers.maintenance({}, lambdaContext(localFunctionName('partition-maintenance'), 60_000));
    };
    await runMaintenance();
    const timer = setInterval(() => {
      runMaintenance().catch((error: unknown) => log(`partition maintenance failed: ${String(error)}`));
    }, config.partitions.maintenanceIntervalMinutes * 60_000);
    timer.unref();
    stopping.push(async () => clearInterval(timer));
    checkpoint();

    // The writer, fed by the event source runner.
    const runner = new EventSourceRunner({
      sqs: createSqsClient(aws),
      queueUrl: names.eventQueueUrl,
      queueArn: standins.queueArn(NAMES.queue),
      batchSize: config.writer.batchSize,
      batchingWindowMs: config.writer.batchingWindowSeconds * 1000,
      maxConcurrency: config.writer.maxConcurrency,
      timeoutMs: config.writer.timeoutSeconds * 1000,
      handlerModule: handlerModule('writer'),
      functionName: localFunctionName('writer'),
      env: { ...stripUndefined(process.env), ...env.writer },
      onLog: (message, details) => log(`${message}${details ? ` ${JSON.stringify(details)}` : ''}`),
    });
    log(`starting ${config.writer.maxConcurrency} writer workers ...`);
    await runner.start();
    stopping.push(() => runner.stop());
    checkpoint();

    // The API.
    const api = await startLocalApi({
      port: options.port ?? 0,
      authorizer: handlers.authorizer,
      ingest: handlers.ingest,
      summary: handlers.summary,
      authorizerCacheTtlSeconds: config.authorizer.cacheTtlSeconds,
      onError: (error) => log(`api: ${String(error)}`),
    });
    stopping.push(() => api.stop());
    checkpoint();

    const tenants = new DynamoTenantStore(createDocumentClient(aws), tables.tenantsTable);
    const queues = {
      events: names.eventQueueUrl,
      deadLetter: standins.queueUrl(NAMES.deadLetterQueue),
      deadLetterArn: standins.queueArn(NAMES.deadLetterQueue),
    };
    let demo: DemoAccount | undefined;
    if (options.demo !== false) {
      demo = await demoAccount(options.dir, tenants);
      checkpoint();
      // The ops CLI and the load runner (`--stage local`) find the running pipeline here.
      await writeLocalState(options.dir, {
        endpoint: api.endpoint,
        account_id: demo.accountId,
        api_key: demo.apiKey,
        aws: { region: standins.region, endpoints: standins.endpoints },
        tables,
        queues: {
          events: queues.events,
          dead_letter: queues.deadLetter,
          dead_letter_arn: queues.deadLetterArn,
        },
        database_url: databaseUrl,
        archive_bucket: NAMES.archive,
      });
    }
    checkpoint(); // a Ctrl-C during the last steps must still stop what started

    return {
      endpoint: api.endpoint,
      demo,
      queues,
      databaseUrl,
      archiveBucket: NAMES.archive,
      standins,
      runner,
      api,
      database: {
        pause: async () => {
          if (!embedded)
            throw new Error('PostgreSQL is external (DATABASE_URL): the pipeline cannot stop it');
          await embedded.pause();
        },
        restart: async () => {
          if (!embedded)
            throw new Error('PostgreSQL is external (DATABASE_URL): the pipeline cannot start it');
          await embedded.restart();
        },
      },
      pool,
      tenants,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function stripUndefined(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
