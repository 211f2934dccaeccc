/** SQS quotas the stand-in enforces (values of the current service; see docs/local-standins.md). */
export const SQS_LIMITS = {
  /** Default and maximum MaximumMessageSize: 1 MiB since 2025 (it was 256 KiB before). */
  maxMessageBytes: 1_048_576,
  minMessageBytes: 1_024,
  batchEntries: 10,
  batchEntryIdLength: 80,
  messageAttributes: 10,
  receiveMaxMessages: 10,
  maxWaitSeconds: 20,
  maxVisibilitySeconds: 43_200,
  maxDelaySeconds: 900,
  minRetentionSeconds: 60,
  maxRetentionSeconds: 1_209_600,
  maxReceiveCount: 1_000,
  queueNameLength: 80,
  listQueuesMaxResults: 1_000,
  moveTaskMaxRate: 500,
  listMoveTasksMaxResults: 10,
  /** A queue name cannot be reused this soon after DeleteQueue, nor a queue purged twice. */
  recreateAfterDeleteMs: 60_000,
  purgeIntervalMs: 60_000,
} as const;

/** Queue attribute defaults of a new standard queue. */
export const QUEUE_DEFAULTS: Readonly<Record<string, string>> = {
  DelaySeconds: '0',
  MaximumMessageSize: String(SQS_LIMITS.maxMessageBytes),
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  SqsManagedSseEnabled: 'true',
};
