/**
 * Queue attributes: which exist, their ranges, and their normalised string form (the form
 * GetQueueAttributes returns and CreateQueue compares against). Pure; throws SqsError.
 */
import { sqsErrors } from './errors';
import { SQS_LIMITS } from './limits';

/** Attributes a caller may set; values are validated below. */
const SETTABLE = new Set([
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'Policy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
]);

/** FIFO-only attributes: the stand-in implements standard queues only. */
const FIFO_ONLY = new Set([
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
]);

const READ_ONLY_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
] as const;

export const ALL_ATTRIBUTE_NAMES = new Set<string>([...SETTABLE, ...READ_ONLY_ATTRIBUTES]);

const RANGES: Readonly<Record<string, readonly [number, number]>> = {
  DelaySeconds: [0, SQS_LIMITS.maxDelaySeconds],
  MaximumMessageSize: [SQS_LIMITS.minMessageBytes, SQS_LIMITS.maxMessageBytes],
  MessageRetentionPeriod: [SQS_LIMITS.minRetentionSeconds, SQS_LIMITS.maxRetentionSeconds],
  ReceiveMessageWaitTimeSeconds: [0, SQS_LIMITS.maxWaitSeconds],
  VisibilityTimeout: [0, SQS_LIMITS.maxVisibilitySeconds],
  KmsDataKeyReusePeriodSeconds: [60, 86_400],
};

export interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

/**
 * Validates attributes given to CreateQueue or SetQueueAttributes and returns them normalised.
 * An empty RedrivePolicy (SetQueueAttributes) means "remove it" and is kept as ''.
 */
export function normaliseQueueAttributes(
  input: unknown,
  queueExists: (arn: string) => boolean,
): Record<string, string> {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw sqsErrors.invalidParameterValue('Attributes must be a map of attribute names to string values.');
  }
  const result: Record<string, string> = {};
  for (const [name, raw] of Object.entries(input)) {
    if (FIFO_ONLY.has(name)) {
      if (name === 'FifoQueue' && String(raw) === 'false') continue;
      throw sqsErrors.unsupportedOperation(
        `${name}: FIFO queues are not implemented by the local SQS stand-in.`,
      );
    }
    if (!SETTABLE.has(name)) throw sqsErrors.invalidAttributeName(name);
    const value = typeof raw === 'string' ? raw : typeof raw === 'number' ? String(raw) : undefined;
    if (value === undefined) throw sqsErrors.invalidAttributeValue(name, 'Value must be a string.');
    result[name] = normaliseValue(name, value, queueExists);
  }
  return result;
}

function normaliseValue(name: string, value: string, queueExists: (arn: string) => boolean): string {
  const range = RANGES[name];
  if (range) {
    const number = Number(value);
    if (!/^\d+$/.test(value.trim()) || number < range[0] || number > range[1]) {
      throw sqsErrors.invalidAttributeValue(name, `Must be an integer from ${range[0]} to ${range[1]}.`);
    }
    return String(number);
  }
  if (name === 'RedrivePolicy') {
    if (value === '') return '';
    return JSON.stringify(parseRedrivePolicy(value, queueExists));
  }
  if (name === 'SqsManagedSseEnabled') {
    if (value !== 'true' && value !== 'false')
      throw sqsErrors.invalidAttributeValue(name, 'Must be true or false.');
    return value;
  }
  if ((name === 'Policy' || name === 'RedriveAllowPolicy') && value !== '') {
    try {
      JSON.parse(value);
    } catch {
      throw sqsErrors.invalidAttributeValue(name, 'Invalid JSON.');
    }
  }
  return value;
}

function parseRedrivePolicy(value: string, queueExists: (arn: string) => boolean): RedrivePolicy {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw sqsErrors.invalidParameterValue(
      `Value ${value} for parameter RedrivePolicy is invalid. Reason: Invalid JSON.`,
    );
  }
  const policy = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const arn = policy.deadLetterTargetArn;
  const count = Number(policy.maxReceiveCount);
  if (typeof arn !== 'string' || arn === '') {
    throw sqsErrors.invalidParameterValue(
      `Value ${value} for parameter RedrivePolicy is invalid. Reason: Redrive policy does not contain mandatory attribute: deadLetterTargetArn.`,
    );
  }
  if (!Number.isInteger(count) || count < 1 || count > SQS_LIMITS.maxReceiveCount) {
    throw sqsErrors.invalidParameterValue(
      `Value ${value} for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: ${String(policy.maxReceiveCount)}, valid values are from 1 to 1000 both inclusive.`,
    );
  }
  if (!queueExists(arn)) {
    throw sqsErrors.invalidParameterValue(
      `Value ${value} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.`,
    );
  }
  return { deadLetterTargetArn: arn, maxReceiveCount: count };
}

export function redrivePolicyOf(attributes: Readonly<Record<string, string>>): RedrivePolicy | undefined {
  const raw = attributes.RedrivePolicy;
  return raw ? (JSON.parse(raw) as RedrivePolicy) : undefined;
}

/** CreateQueue on an existing name succeeds only if every given attribute matches. */
export function attributesMatch(
  existing: Readonly<Record<string, string>>,
  requested: Readonly<Record<string, string>>,
  defaults: Readonly<Record<string, string>>,
): boolean {
  return Object.entries(requested).every(
    ([name, value]) => (existing[name] ?? defaults[name] ?? '') === value,
  );
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

export function validateQueueName(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw sqsErrors.missingParameter('QueueName');
  if (name.endsWith('.fifo')) {
    throw sqsErrors.unsupportedOperation('FIFO queues are not implemented by the local SQS stand-in.');
  }
  if (!QUEUE_NAME.test(name)) {
    throw sqsErrors.invalidParameterValue(
      'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
    );
  }
  return name;
}
