/**
 * The whole pipeline on one machine, with the real handlers behind the real SDK clients:
 *   PostgreSQL (embedded, or DATABASE_URL) · stand-ins for SQS, Firehose, S3 and DynamoDB ·
 *   the local API gateway (authorizer, ingest, summary in-process) · the event source runner
 *   (writer in killable worker processes) · scheduled partition maintenance.
 * Configured from the `local` stage config through the same environment builders as the CDK app.
 * State lives under `dir` and survives a restart.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pg from 'pg';
import { DynamoTenantStore } from '../lambdas/adapters/dynamodb/tenant-store';
import { migrate } from '../lambdas/adapters/postgres/migrate';
import { hashApiKey } from '../lambdas/core/api-keys';
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
import { localTableNames, type TableNames, tableDefinitions } from './dynamodb-tables';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from './embedded-postgres';
import { EventSourceRunner } from './event-source-runner';
import { lambdaContext } from './lambda-context';
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
}

export interface DemoAccount {
  readonly accountId: string;
  readonly apiKey: string;
}

export interface LocalPipeline {
  readonly endpoint: string;
  readonly config: StageConfig;
  readonly demo: DemoAccount | undefined;
  readonly tables: TableNames;
  readonly queues: {
    readonly events: string;
    readonly deadLetter: string;
    readonly eventsArn: string;
    readonly deadLetterArn: string;
  };
  readonly archive: { readonly bucket: string; readonly stream: string };
  readonly databaseUrl: string;
  /** The stand-ins, in their own process. */
  readonly standins: StandinsProcess;
  readonly runner: EventSourceRunner;
  readonly api: LocalApi;
  /** Fault hooks: stop and start the embedded PostgreSQL (unavailable with DATABASE_URL). */
  readonly database: { pause(): Promise<void>; restart(): Promise<void> };
  /** A superuser pool for checks and the ops CLI. */
  readonly pool: pg.Pool;
  readonly tenants: DynamoTenantStore;
  runMaintenance(): Promise<void>;
  stop(): Promise<void>;
}

const NAMES = {
  queue: 'firehose-local-events',
  deadLetterQueue: 'firehose-local-events-dlq',
  archive: 'firehose-local-archive',
  tablePrefix: 'firehose-local',
};

const WRITER_MODULE = fileURLToPath(new URL('../lambdas/handlers/writer.ts', import.meta.url));

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
  const file = join(dir, 'local.json');
  if (existsSync(file)) {
    const saved = JSON.parse(await readFile(file, 'utf8')) as { account_id?: string; api_key?: string };
    if (
      saved.account_id &&
      saved.api_key &&
      (await tenants.findKey(hashApiKey(saved.api_key)))?.status === 'active'
    ) {
      return { accountId: saved.account_id, apiKey: saved.api_key };
    }
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
  try {
    await mkdir(options.dir, { recursive: true, mode: 0o755 });
    // As root, PostgreSQL runs as the `postgres` user, which must be able to enter the state directory.
    if (process.getuid?.() === 0 && !options.databaseUrl) await chmod(options.dir, 0o755);

    // PostgreSQL
    let embedded: EmbeddedPostgresHandle | undefined;
    let adminUrl = options.databaseUrl;
    if (!adminUrl) {
      log('starting PostgreSQL (embedded, data in .firehose/postgres) ...');
      embedded = await startEmbeddedPostgres({ dataDir: join(options.dir, 'postgres'), persistent: true });
      stopping.push(() => embedded!.stop());
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

    // The functions' environments, from the same builders as the CDK app.
    const names = {
      ...tables,
      eventQueueUrl: standins.queueUrl(NAMES.queue),
      archiveStreamName: NAMES.archive,
    };
    const db = { kind: 'url' as const, url: databaseUrl };
    const aws = standinEnvironment(standins.endpoints);
    const quiet = {
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN',
    };
    const env = {
      authorizer: { ...aws, ...quiet, ...authorizerEnvironment(config, names) },
      ingest: { ...aws, ...quiet, ...ingestEnvironment(config, names) },
      writer: { ...aws, ...quiet, ...writerEnvironment(config, names, db) },
      summary: { ...aws, ...quiet, ...summaryEnvironment(config, names, db) },
      maintenance: { ...aws, ...quiet, ...maintenanceEnvironment(config, db) },
    };
    // Powertools reads its log level from the process environment when a handler is built.
    process.env.POWERTOOLS_LOG_LEVEL ??= quiet.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

    // Partition maintenance, now and on its schedule.
    const maintenance = buildPartitionMaintenanceHandler(env.maintenance);
    const runMaintenance = async () => {
      await maintenance({}, lambdaContext('firehose-partition-maintenance', 60_000));
    };
    await runMaintenance();
    const timer = setInterval(() => {
      runMaintenance().catch((error: unknown) => log(`partition maintenance failed: ${String(error)}`));
    }, config.partitions.maintenanceIntervalMinutes * 60_000);
    timer.unref();
    stopping.push(async () => clearInterval(timer));

    // The writer, fed by the event source runner.
    const sqs = new SQSClient(standins.clients.sqs);
    const runner = new EventSourceRunner({
      sqs,
      queueUrl: names.eventQueueUrl,
      queueArn: standins.queueArn(NAMES.queue),
      batchSize: config.writer.batchSize,
      batchingWindowMs: config.writer.batchingWindowSeconds * 1000,
      maxConcurrency: config.writer.maxConcurrency,
      timeoutMs: config.writer.timeoutSeconds * 1000,
      handlerModule: WRITER_MODULE,
      functionName: 'firehose-writer',
      env: { ...stripUndefined(process.env), ...env.writer },
      onLog: (message, details) => log(`${message}${details ? ` ${JSON.stringify(details)}` : ''}`),
    });
    log(`starting ${config.writer.maxConcurrency} writer workers ...`);
    await runner.start();
    stopping.push(() => runner.stop());

    // The API.
    const api = await startLocalApi({
      port: options.port ?? 0,
      authorizer: buildAuthorizerHandler(env.authorizer),
      ingest: buildIngestHandler(env.ingest),
      summary: buildSummaryHandler(env.summary),
      authorizerCacheTtlSeconds: config.authorizer.cacheTtlSeconds,
      onError: (error) => log(`api: ${String(error)}`),
    });
    stopping.push(() => api.stop());

    const tenants = new DynamoTenantStore(
      DynamoDBDocumentClient.from(new DynamoDBClient(standins.clients.dynamodb), {
        marshallOptions: { removeUndefinedValues: true },
      }),
      tables.tenantsTable,
    );
    let demo: DemoAccount | undefined;
    if (options.demo !== false) {
      demo = await demoAccount(options.dir, tenants);
      // The ops CLI (`--stage local`) finds the running pipeline's resources here.
      const details = {
        endpoint: api.endpoint,
        account_id: demo.accountId,
        api_key: demo.apiKey,
        aws: { region: standins.region, endpoints: standins.endpoints },
        tables,
        queues: {
          events: names.eventQueueUrl,
          dead_letter: standins.queueUrl(NAMES.deadLetterQueue),
          events_arn: standins.queueArn(NAMES.queue),
          dead_letter_arn: standins.queueArn(NAMES.deadLetterQueue),
        },
        archive: { bucket: NAMES.archive, stream: NAMES.archive },
        database_url: databaseUrl,
      };
      await writeFile(join(options.dir, 'local.json'), `${JSON.stringify(details, null, 2)}\n`, {
        mode: 0o600,
      });
    }

    return {
      endpoint: api.endpoint,
      config,
      demo,
      tables,
      queues: {
        events: names.eventQueueUrl,
        deadLetter: standins.queueUrl(NAMES.deadLetterQueue),
        eventsArn: standins.queueArn(NAMES.queue),
        deadLetterArn: standins.queueArn(NAMES.deadLetterQueue),
      },
      archive: { bucket: NAMES.archive, stream: NAMES.archive },
      databaseUrl,
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
      runMaintenance,
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
