/**
 * Typed per-stage configuration: the single source of every tunable the CDK app and the local runner
 * use. Handlers never import this file; they receive the values they need as environment variables
 * derived from it by `function-environment.ts`.
 */

import { MAX_QUEUE_MESSAGE_BYTES } from '../../lambdas/core/queue-message';
// Tiers are shared with the handlers, which receive their limits from this config (TIER_LIMITS).
import type { Tier, TierLimits } from '../../lambdas/core/tiers';
import type { IngestRules } from '../../lambdas/core/validate-events';
import { MAX_PARTITION_SPAN_DAYS } from '../../lambdas/core/writer-batch';

// test/core/rate-limit.test.ts reads the tier names from here.

export const STAGES = ['local', 'dev', 'staging', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageConfig {
  readonly stage: Stage;
  /** AWS account and region to deploy to; `undefined` account means "the CLI's current account". */
  readonly env: { readonly account?: string; readonly region: string };

  /** Validation rules (shared with the ingest function, which gets them as environment) and sizing. */
  readonly ingest: IngestRules & {
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
    /** Aurora Serverless v2 readers kept as failover targets in another AZ. */
    readonly readerInstances: number;
  };

  readonly archive: {
    readonly bufferIntervalSeconds: number;
    readonly bufferSizeMiB: number;
  };

  readonly observability: {
    readonly logRetentionDays: number;
    readonly tracing: boolean;
    /** Subscribed to the stage's alarm topic when set. */
    readonly alarmEmail?: string;
    /** Thresholds of the operational alarms (docs/slo.md, docs/runbook.md). */
    readonly alarms: AlarmThresholds;
  };

  /** Service level objectives (docs/slo.md); the SLO alarms take their thresholds from here. */
  readonly slo: ServiceLevelObjectives;

  /** prod keeps data on stack deletion and turns on deletion protection. */
  readonly retainData: boolean;
  readonly wafEnabled: boolean;
}

/** One tier of multi-window burn-rate alarms: both windows must burn faster than `burnRate`. */
export interface BurnRateAlarm {
  /** `fast` or `slow`: part of the alarm names. */
  readonly name: string;
  /** Multiple of the error budget's even spend rate (1 = the budget lasts exactly the SLO period). */
  readonly burnRate: number;
  readonly longWindowMinutes: number;
  readonly shortWindowMinutes: number;
}

export interface ServiceLevelObjectives {
  /** Share of requests to each endpoint answered without a server-side failure, over 30 days. */
  readonly availability: number;
  /** POST /events, as API Gateway measures it (authorizer included). */
  readonly ingestLatencyP99Ms: number;
  /** GET /accounts/{id}/summary, as API Gateway measures it: every answer, cached or not. */
  readonly summaryLatencyP99Ms: number;
  /** Summary function time of answers served from a cache. */
  readonly summaryCachedLatencyP99Ms: number;
  /** Summary function time of answers computed from the rollups. */
  readonly summaryUncachedLatencyP99Ms: number;
  /** Writer: now - received_at of the oldest message of each committed batch. */
  readonly freshnessP95Ms: number;
  /** Availability alarms, Google SRE workbook style: a fast (page) and a slow (page) tier. */
  readonly burnRateAlarms: readonly BurnRateAlarm[];
  /** A window with fewer requests than this is not judged (one 5xx out of three is not an outage). */
  readonly burnRateMinRequests: number;
}

/** Operational alarm thresholds; the alarms fire at or beyond them (docs/slo.md has the windows). */
export interface AlarmThresholds {
  /** Event queue: age of the oldest message; above 3 x visibility so one poison message alone cannot trip it. */
  readonly queueOldestMessageAgeSeconds: number;
  /** Messages in the DLQ: each is work that did not reach PostgreSQL. */
  readonly deadLetterMessages: number;
  /** Writer invocation errors (crash, timeout) per 5 minutes. */
  readonly writerErrors: number;
  /** Messages the writer reported as failed (retried by SQS) per 5 minutes. */
  readonly writerFailedMessages: number;
  /** Writer invocations throttled by Lambda per 5 minutes. */
  readonly writerThrottles: number;
  /** Firehose: share of successful S3 deliveries below which the alarm fires (0-1). */
  readonly archiveDeliverySuccess: number;
  /** Firehose: age of the oldest record not yet delivered to S3. */
  readonly archiveDataFreshnessSeconds: number;
  /** Firehose: records refused for exceeding the stream's quotas per 5 minutes. */
  readonly archiveThrottledRecords: number;
  /** Ingest requests admitted without the per-account limiter (its table unreachable) per 5 minutes. */
  readonly limiterFailOpen: number;
  /** Ingest requests whose in-flight ledger write failed (freshness watermark) per 5 minutes. */
  readonly ledgerWriteErrors: number;
  /**
   * Hourly partition maintenance runs that failed or found the previous run still holding its lock,
   * per 3 hours (one alone can be a slow detach finishing).
   */
  readonly maintenanceRunsMissed: number;
  readonly auroraCpuPercent: number;
  /** Serverless v2 capacity in use, as a share of the configured maximum ACUs. */
  readonly auroraCapacityPercent: number;
  /** Connections to the writer instance; the designed budget is far below it (lib/config/database.ts). */
  readonly auroraConnections: number;
}

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
    readerInstances: 0,
  },
  archive: { bufferIntervalSeconds: 60, bufferSizeMiB: 64 },
  observability: {
    logRetentionDays: 30,
    tracing: true,
    alarms: {
      queueOldestMessageAgeSeconds: 600,
      deadLetterMessages: 1,
      writerErrors: 1,
      writerFailedMessages: 10,
      writerThrottles: 1,
      archiveDeliverySuccess: 1,
      archiveDataFreshnessSeconds: 900,
      archiveThrottledRecords: 1,
      limiterFailOpen: 1,
      ledgerWriteErrors: 1,
      maintenanceRunsMissed: 2,
      auroraCpuPercent: 80,
      auroraCapacityPercent: 90,
      auroraConnections: 150,
    },
  },
  slo: {
    availability: 0.999,
    ingestLatencyP99Ms: 500,
    summaryLatencyP99Ms: 1000,
    summaryCachedLatencyP99Ms: 300,
    summaryUncachedLatencyP99Ms: 1000,
    freshnessP95Ms: 5000,
    burnRateAlarms: [
      // 2 % of a 30-day budget in an hour, and 5 % in six hours (SRE workbook, chapter 5).
      { name: 'fast', burnRate: 14.4, longWindowMinutes: 60, shortWindowMinutes: 5 },
      { name: 'slow', burnRate: 6, longWindowMinutes: 360, shortWindowMinutes: 30 },
    ],
    burnRateMinRequests: 20,
  },
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

/** Lambda's synchronous invocation payload limit (6 MB): a batch of queue messages must fit in it. */
export const MAX_INVOCATION_PAYLOAD_BYTES = 6 * 1000 * 1000;

/** The SQS event source's `maximumConcurrency` range. */
const EVENT_SOURCE_MAX_CONCURRENCY = { min: 2, max: 1000 } as const;

/**
 * Fails on settings AWS would refuse at deploy time, or that would break a design promise, with the
 * setting's name: called before any stack of the stage is built.
 */
export function validateStageConfig(config: StageConfig): void {
  const { batchSize, maxConcurrency } = config.writer;
  // Ingest packs queue messages under MAX_QUEUE_MESSAGE_BYTES; a batch of them is one invocation.
  if (batchSize * MAX_QUEUE_MESSAGE_BYTES > MAX_INVOCATION_PAYLOAD_BYTES) {
    throw new Error(
      `writer.batchSize ${batchSize} x ${MAX_QUEUE_MESSAGE_BYTES / 1024} KiB messages exceeds the 6 MB invocation payload`,
    );
  }
  const { min, max } = EVENT_SOURCE_MAX_CONCURRENCY;
  if (maxConcurrency < min || maxConcurrency > max) {
    throw new Error(
      `writer.maxConcurrency must be ${min}-${max} (SQS event source limit), got ${maxConcurrency}`,
    );
  }
  // An accepted event may be as old as maxEventAgeDays, then wait in the DLQ for up to its retention
  // (a dead-lettered message keeps its first enqueue time), and once re-driven (a move task gives it
  // a new one) in the source queue again. Its day must still be stored then, or the writer sets it
  // aside and it is never counted.
  const { rawEventDays } = config.retention;
  const { maxEventAgeDays } = config.ingest;
  const { dlqRetentionDays, retentionDays } = config.queue;
  const oldestWritten = maxEventAgeDays + dlqRetentionDays + retentionDays + 1;
  if (rawEventDays < oldestWritten) {
    throw new Error(
      `retention.rawEventDays ${rawEventDays} is too short: accepted events can reach the writer ` +
        `${oldestWritten} days old (ingest.maxEventAgeDays ${maxEventAgeDays} + queue.dlqRetentionDays ` +
        `${dlqRetentionDays} + queue.retentionDays ${retentionDays} after a re-drive, + 1). Raise it, or lower those.`,
    );
  }
  // A batch's days span at most the writable range, which one partition call must cover.
  if (rawEventDays + config.partitions.createAheadDays > MAX_PARTITION_SPAN_DAYS) {
    throw new Error(
      `retention.rawEventDays + partitions.createAheadDays must be at most ${MAX_PARTITION_SPAN_DAYS} days, got ${rawEventDays + config.partitions.createAheadDays}`,
    );
  }
}

/**
 * The writer's event source batching window as deployed: CloudFormation takes whole seconds, and
 * batches above 10 messages need a window of at least 1 s.
 */
export function writerBatchingWindowSeconds(config: StageConfig): number {
  const { batchSize, batchingWindowSeconds } = config.writer;
  return Math.max(Math.ceil(batchingWindowSeconds), batchSize > 10 ? 1 : 0);
}

/**
 * SQS visibility timeout for the event queue: AWS asks for at least 6 x the function timeout plus
 * the batching window, so that a retried invocation never overlaps a still-running one.
 */
export function queueVisibilityTimeoutSeconds(config: StageConfig): number {
  return 6 * config.writer.timeoutSeconds + writerBatchingWindowSeconds(config);
}

/** The longest database outage that sends nothing to the DLQ (design promise 6). */
export function outageToleranceSeconds(config: StageConfig): number {
  return queueVisibilityTimeoutSeconds(config) * config.queue.maxReceiveCount;
}
