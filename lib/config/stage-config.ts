/**
 * Typed per-stage configuration: the single source of every tunable the CDK app and the local runner
 * use. Handlers never import this file; they receive the values they need as environment variables
 * derived from it by `function-environment.ts`.
 */

// Tiers are shared with the handlers, which receive their limits from this config (TIER_LIMITS).
import { TIERS, type Tier, type TierLimits } from '../../lambdas/core/tiers';

export { TIERS, type Tier, type TierLimits };

export const STAGES = ['local', 'dev', 'staging', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageConfig {
  readonly stage: Stage;
  /** AWS account and region to deploy to; `undefined` account means "the CLI's current account". */
  readonly env: { readonly account?: string; readonly region: string };

  readonly ingest: {
    readonly maxEventsPerRequest: number;
    readonly maxBodyBytes: number;
    readonly maxEventAgeDays: number;
    readonly maxFutureSkewSeconds: number;
    readonly maxMetadataBytes: number;
    readonly maxMetadataDepth: number;
    /** The ingest function's timeout; also bounds how long a received event can stay un-ledgered. */
    readonly timeoutSeconds: number;
    readonly memoryMb: number;
  };

  readonly tiers: Readonly<Record<Tier, TierLimits>>;
  readonly defaultTier: Tier;

  readonly authorizer: { readonly cacheTtlSeconds: number };

  readonly queue: {
    readonly retentionDays: number;
    readonly dlqRetentionDays: number;
    readonly maxReceiveCount: number;
  };

  readonly writer: {
    /** SQS messages per invocation; each message packs up to `maxEventsPerRequest` events. */
    readonly batchSize: number;
    readonly batchingWindowSeconds: number;
    /** Event source `maximumConcurrency`: bounds the writer's database connections. */
    readonly maxConcurrency: number;
    readonly timeoutSeconds: number;
    readonly memoryMb: number;
  };

  readonly retention: {
    readonly rawEventDays: number;
    readonly rollupDays: number;
    readonly archiveDays: number;
    readonly archiveInfrequentAccessAfterDays: number;
  };

  readonly partitions: {
    /** Day partitions created ahead of today by the scheduled maintenance. */
    readonly createAheadDays: number;
    readonly maintenanceIntervalMinutes: number;
  };

  readonly summary: {
    readonly cacheTtlSeconds: number;
    readonly reservedConcurrency: number;
    readonly maxRangeDays: number;
    readonly timeoutSeconds: number;
    readonly memoryMb: number;
  };

  readonly database: {
    readonly minCapacityAcu: number;
    readonly maxCapacityAcu: number;
    /** Share of Aurora's max_connections the RDS Proxy may open. */
    readonly proxyMaxConnectionsPercent: number;
    readonly backupRetentionDays: number;
    /** Aurora Serverless v2 readers kept as failover targets in another AZ (default 0). */
    readonly readerInstances?: number;
  };

  readonly archive: {
    readonly bufferIntervalSeconds: number;
    readonly bufferSizeMiB: number;
  };

  readonly observability: {
    readonly logRetentionDays: number;
    readonly tracing: boolean;
    readonly alarmEmail?: string;
  };

  /** prod keeps data on stack deletion and turns on deletion protection. */
  readonly retainData: boolean;
  readonly wafEnabled: boolean;
}

const DAY = 24 * 60 * 60;

const tiers: Record<Tier, TierLimits> = {
  free: { requestsPerSecond: 10, eventsPerSecond: 500, burstSeconds: 2 },
  standard: { requestsPerSecond: 100, eventsPerSecond: 5_000, burstSeconds: 2 },
  enterprise: { requestsPerSecond: 1_000, eventsPerSecond: 50_000, burstSeconds: 2 },
};

const base: Omit<StageConfig, 'stage' | 'env'> = {
  ingest: {
    maxEventsPerRequest: 500,
    maxBodyBytes: 1024 * 1024,
    maxEventAgeDays: 30,
    maxFutureSkewSeconds: 300,
    maxMetadataBytes: 16 * 1024,
    maxMetadataDepth: 8,
    timeoutSeconds: 10,
    memoryMb: 1024,
  },
  tiers,
  defaultTier: 'standard',
  authorizer: { cacheTtlSeconds: 300 },
  queue: { retentionDays: 4, dlqRetentionDays: 14, maxReceiveCount: 5 },
  writer: { batchSize: 20, batchingWindowSeconds: 1, maxConcurrency: 4, timeoutSeconds: 30, memoryMb: 1024 },
  retention: { rawEventDays: 90, rollupDays: 400, archiveDays: 365, archiveInfrequentAccessAfterDays: 30 },
  partitions: { createAheadDays: 7, maintenanceIntervalMinutes: 60 },
  summary: {
    cacheTtlSeconds: 30,
    reservedConcurrency: 10,
    maxRangeDays: 90,
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  database: {
    minCapacityAcu: 0.5,
    maxCapacityAcu: 4,
    proxyMaxConnectionsPercent: 50,
    backupRetentionDays: 7,
  },
  archive: { bufferIntervalSeconds: 60, bufferSizeMiB: 64 },
  observability: { logRetentionDays: 30, tracing: true },
  retainData: false,
  wafEnabled: false,
};

export const stageConfigs: Readonly<Record<Stage, StageConfig>> = {
  local: {
    ...base,
    stage: 'local',
    env: { region: 'us-east-1' },
    // Short buffers and a small batching window keep the laptop pipeline snappy.
    writer: { ...base.writer, batchingWindowSeconds: 0.2, maxConcurrency: 2 },
    authorizer: { cacheTtlSeconds: 5 },
    archive: { bufferIntervalSeconds: 5, bufferSizeMiB: 8 },
    summary: { ...base.summary, cacheTtlSeconds: 2 },
  },
  dev: {
    ...base,
    stage: 'dev',
    env: { region: 'eu-west-1' },
    observability: { ...base.observability, logRetentionDays: 7 },
  },
  staging: {
    ...base,
    stage: 'staging',
    env: { region: 'eu-west-1' },
    writer: { ...base.writer, maxConcurrency: 8 },
    database: { ...base.database, maxCapacityAcu: 16 },
    wafEnabled: true,
  },
  prod: {
    ...base,
    stage: 'prod',
    env: { region: 'eu-west-1' },
    writer: { ...base.writer, maxConcurrency: 10 },
    summary: { ...base.summary, reservedConcurrency: 50 },
    database: {
      ...base.database,
      minCapacityAcu: 2,
      maxCapacityAcu: 64,
      backupRetentionDays: 35,
      readerInstances: 1,
    },
    observability: { ...base.observability, logRetentionDays: 90 },
    retainData: true,
    wafEnabled: true,
  },
};

export function isStage(value: string): value is Stage {
  return (STAGES as readonly string[]).includes(value);
}

/** Looks a stage up by name, failing with the list of valid names. */
export function stageConfig(name: string): StageConfig {
  if (!isStage(name)) {
    throw new Error(
      `Unknown stage "${name}". Use one of: ${STAGES.join(', ')} (e.g. cdk deploy -c stage=dev).`,
    );
  }
  return stageConfigs[name];
}

/**
 * SQS visibility timeout for the event queue: AWS asks for at least 6 x the function timeout plus
 * the batching window, so that a retried invocation never overlaps a still-running one.
 */
export function queueVisibilityTimeoutSeconds(config: StageConfig): number {
  return 6 * config.writer.timeoutSeconds + Math.ceil(config.writer.batchingWindowSeconds);
}

/** The longest database outage that sends nothing to the DLQ (design promise 6). */
export function outageToleranceSeconds(config: StageConfig): number {
  return queueVisibilityTimeoutSeconds(config) * config.queue.maxReceiveCount;
}

export const SECONDS_PER_DAY = DAY;
