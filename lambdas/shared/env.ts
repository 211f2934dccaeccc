/**
 * The one checked reader of handler environment. Every variable a handler reads is named here, so the
 * CDK app and the local runner (lib/config/function-environment.ts) set exactly these.
 */

export const ENV = {
  stage: 'STAGE',
  /**
   * Powertools' own variable, optional: on AWS the function's log level setting (AWS_LAMBDA_LOG_LEVEL)
   * rules; the local pipeline sets it from LOG_LEVEL.
   */
  logLevel: 'POWERTOOLS_LOG_LEVEL',
  // DynamoDB tables
  tenantsTable: 'TENANTS_TABLE',
  rateLimitTable: 'RATE_LIMIT_TABLE',
  ledgerTable: 'LEDGER_TABLE',
  summaryCacheTable: 'SUMMARY_CACHE_TABLE',
  // Messaging
  eventQueueUrl: 'EVENT_QUEUE_URL',
  archiveStreamName: 'ARCHIVE_STREAM_NAME',
  // Ingest rules
  maxEventsPerRequest: 'MAX_EVENTS_PER_REQUEST',
  maxBodyBytes: 'MAX_BODY_BYTES',
  maxEventAgeDays: 'MAX_EVENT_AGE_DAYS',
  maxFutureSkewSeconds: 'MAX_FUTURE_SKEW_SECONDS',
  maxMetadataBytes: 'MAX_METADATA_BYTES',
  maxMetadataDepth: 'MAX_METADATA_DEPTH',
  ingestTimeoutSeconds: 'INGEST_TIMEOUT_SECONDS',
  tierLimits: 'TIER_LIMITS',
  defaultTier: 'DEFAULT_TIER',
  // Writer and data retention
  maxReceiveCount: 'MAX_RECEIVE_COUNT',
  rawRetentionDays: 'RAW_RETENTION_DAYS',
  rollupRetentionDays: 'ROLLUP_RETENTION_DAYS',
  partitionsAheadDays: 'PARTITIONS_AHEAD_DAYS',
  // Summary
  summaryCacheTtlSeconds: 'SUMMARY_CACHE_TTL_SECONDS',
  queueRetentionDays: 'QUEUE_RETENTION_DAYS',
  maxRangeDays: 'MAX_RANGE_DAYS',
  // Database: either DATABASE_URL (local, tests) or the RDS Proxy endpoint with IAM auth.
  databaseUrl: 'DATABASE_URL',
  dbHost: 'DB_HOST',
  dbPort: 'DB_PORT',
  dbName: 'DB_NAME',
  dbUser: 'DB_USER',
  dbRegion: 'DB_REGION',
  /** Migrations and maintenance: the master user's Secrets Manager secret (JSON username/password). */
  dbSecretArn: 'DB_SECRET_ARN',
  // Local endpoints (unset on AWS): point the real SDK clients at the stand-ins.
  awsEndpointSqs: 'AWS_ENDPOINT_URL_SQS',
  awsEndpointFirehose: 'AWS_ENDPOINT_URL_FIREHOSE',
  awsEndpointDynamodb: 'AWS_ENDPOINT_URL_DYNAMODB',
  awsEndpointS3: 'AWS_ENDPOINT_URL_S3',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];
export type Environment = Readonly<Record<string, string | undefined>>;

export class MissingEnvironmentError extends Error {
  constructor(name: string, problem: string) {
    super(
      `Environment variable ${name} ${problem}. It is set by the CDK app and by 'npm start'; see docs/configuration.md.`,
    );
    this.name = 'MissingEnvironmentError';
  }
}

export function readEnv(name: EnvName, env: Environment = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new MissingEnvironmentError(name, 'is not set');
  return value;
}

export function readOptionalEnv(name: EnvName, env: Environment = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function readNumberEnv(name: EnvName, env: Environment = process.env): number {
  const raw = readEnv(name, env);
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new MissingEnvironmentError(name, `is "${raw}", not a number`);
  return value;
}

export function readJsonEnv<T>(name: EnvName, env: Environment = process.env): T {
  const raw = readEnv(name, env);
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new MissingEnvironmentError(name, 'is not valid JSON');
  }
}

/** A value that must be one of `allowed` (e.g. a tier): a typo fails at start, not per request. */
export function readOneOfEnv<T extends string>(
  name: EnvName,
  allowed: readonly T[],
  env: Environment = process.env,
): T {
  const value = readEnv(name, env);
  if (!(allowed as readonly string[]).includes(value))
    throw new MissingEnvironmentError(name, `is "${value}", not one of ${allowed.join(', ')}`);
  return value as T;
}
