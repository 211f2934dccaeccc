/**
 * Derives each function's environment from the stage config and the names of the resources it uses.
 * The CDK stacks and the local runner both call these, so a handler sees the same variables on AWS
 * and on a laptop. Names of the variables: lambdas/shared/env.ts.
 */
import { ENV } from '../../lambdas/shared/env';
import type { StageConfig } from './stage-config';

/**
 * How a function reaches PostgreSQL: a URL locally; on AWS either the RDS Proxy with IAM auth
 * (`iam`: writer, summary) or the cluster endpoint as the master user whose password is read from
 * Secrets Manager at run time (`secret`: migrations, partition maintenance).
 */
export type DatabaseEndpoint =
  | { readonly kind: 'url'; readonly url: string }
  | {
      readonly kind: 'iam';
      readonly host: string;
      readonly port: number;
      readonly database: string;
      readonly user: string;
      readonly region: string;
    }
  | {
      readonly kind: 'secret';
      readonly host: string;
      readonly port: number;
      readonly database: string;
      readonly user: string;
      readonly region: string;
      readonly secretArn: string;
    };

export interface PipelineResourceNames {
  readonly tenantsTable: string;
  readonly rateLimitTable: string;
  readonly ledgerTable: string;
  readonly summaryCacheTable: string;
  readonly eventQueueUrl: string;
  readonly archiveStreamName: string;
}

type Env = Record<string, string>;

function common(config: StageConfig): Env {
  return { [ENV.stage]: config.stage };
}

function database(endpoint: DatabaseEndpoint): Env {
  if (endpoint.kind === 'url') return { [ENV.databaseUrl]: endpoint.url };
  const env: Env = {
    [ENV.dbHost]: endpoint.host,
    [ENV.dbPort]: String(endpoint.port),
    [ENV.dbName]: endpoint.database,
    [ENV.dbUser]: endpoint.user,
    [ENV.dbRegion]: endpoint.region,
  };
  // The master user's secret (JSON `username`, `password`), rotated by RDS: read per new connection.
  if (endpoint.kind === 'secret') env[ENV.dbSecretArn] = endpoint.secretArn;
  return env;
}

export function authorizerEnvironment(
  config: StageConfig,
  names: Pick<PipelineResourceNames, 'tenantsTable'>,
): Env {
  return { ...common(config), [ENV.tenantsTable]: names.tenantsTable, [ENV.defaultTier]: config.defaultTier };
}

export function ingestEnvironment(
  config: StageConfig,
  names: Pick<
    PipelineResourceNames,
    'rateLimitTable' | 'ledgerTable' | 'eventQueueUrl' | 'archiveStreamName'
  >,
): Env {
  const { ingest } = config;
  return {
    ...common(config),
    [ENV.rateLimitTable]: names.rateLimitTable,
    [ENV.ledgerTable]: names.ledgerTable,
    [ENV.eventQueueUrl]: names.eventQueueUrl,
    [ENV.archiveStreamName]: names.archiveStreamName,
    [ENV.maxEventsPerRequest]: String(ingest.maxEventsPerRequest),
    [ENV.maxBodyBytes]: String(ingest.maxBodyBytes),
    [ENV.maxEventAgeDays]: String(ingest.maxEventAgeDays),
    [ENV.maxFutureSkewSeconds]: String(ingest.maxFutureSkewSeconds),
    [ENV.maxMetadataBytes]: String(ingest.maxMetadataBytes),
    [ENV.maxMetadataDepth]: String(ingest.maxMetadataDepth),
    [ENV.ingestTimeoutSeconds]: String(ingest.timeoutSeconds),
    [ENV.tierLimits]: JSON.stringify(config.tiers),
    [ENV.defaultTier]: config.defaultTier,
  };
}

export function writerEnvironment(
  config: StageConfig,
  names: Pick<PipelineResourceNames, 'ledgerTable'>,
  db: DatabaseEndpoint,
): Env {
  return {
    ...common(config),
    ...database(db),
    [ENV.ledgerTable]: names.ledgerTable,
    [ENV.maxReceiveCount]: String(config.queue.maxReceiveCount),
    [ENV.rawRetentionDays]: String(config.retention.rawEventDays),
    [ENV.partitionsAheadDays]: String(config.partitions.createAheadDays),
  };
}

export function summaryEnvironment(
  config: StageConfig,
  names: Pick<PipelineResourceNames, 'summaryCacheTable' | 'ledgerTable'>,
  db: DatabaseEndpoint,
): Env {
  return {
    ...common(config),
    ...database(db),
    [ENV.summaryCacheTable]: names.summaryCacheTable,
    [ENV.ledgerTable]: names.ledgerTable,
    [ENV.summaryCacheTtlSeconds]: String(config.summary.cacheTtlSeconds),
    [ENV.maxRangeDays]: String(config.summary.maxRangeDays),
    [ENV.ingestTimeoutSeconds]: String(config.ingest.timeoutSeconds),
    [ENV.queueRetentionDays]: String(config.queue.retentionDays),
  };
}

/** Migrations and partition maintenance share one environment (the owner role). */
export function maintenanceEnvironment(config: StageConfig, db: DatabaseEndpoint): Env {
  return {
    ...common(config),
    ...database(db),
    [ENV.rawRetentionDays]: String(config.retention.rawEventDays),
    [ENV.rollupRetentionDays]: String(config.retention.rollupDays),
    [ENV.partitionsAheadDays]: String(config.partitions.createAheadDays),
  };
}
