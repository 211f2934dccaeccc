/**
 * Firehose errors as the JSON 1.1 protocol sends them (`__type` is the bare shape name).
 * Limit violations the service checks before its own code runs come back as ValidationException
 * ("1 validation error detected: ..."), which the SDK surfaces by that name.
 */
import type { WireError } from '../http/aws-json-server';

export class FirehoseError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }

  toWire(): WireError {
    return { status: this.status, body: { __type: this.code, message: this.message } };
  }
}

export const FIREHOSE_LIMITS = {
  batchRecords: 500,
  /** 1,000 KiB per record, before base64. */
  recordBytes: 1_024_000,
  /** 4 MiB per PutRecordBatch, summed over the records' data. */
  batchBytes: 4 * 1024 * 1024,
  streamNameLength: 64,
} as const;

export const firehoseErrors = {
  resourceNotFound: (name: string, accountId: string) =>
    new FirehoseError('ResourceNotFoundException', `Firehose ${name} under account ${accountId} not found.`),
  resourceInUse: (name: string, accountId: string) =>
    new FirehoseError(
      'ResourceInUseException',
      `Firehose ${name} under accountId ${accountId} already exists`,
    ),
  invalidArgument: (message: string) => new FirehoseError('InvalidArgumentException', message),
  validation: (details: readonly string[]) =>
    new FirehoseError(
      'ValidationException',
      `${details.length} validation error${details.length === 1 ? '' : 's'} detected: ${details.join('; ')}`,
    ),
  recordTooLarge: (index: number, length: number) =>
    `Value 'java.nio.HeapByteBuffer[pos=0 lim=${length} cap=${length}]' at 'records.${index + 1}.member.data' failed to satisfy constraint: Member must have length less than or equal to ${FIREHOSE_LIMITS.recordBytes}`,
  batchTooLarge: () => new FirehoseError('InvalidArgumentException', 'Records size exceeds 4 MB limit'),
  slowDown: () => new FirehoseError('ServiceUnavailableException', 'Slow down.', 503),
  unavailable: () => new FirehoseError('ServiceUnavailableException', 'Service unavailable.', 503),
  internal: () => new FirehoseError('InternalFailure', 'An internal error occurred. Try again.', 500),
};
