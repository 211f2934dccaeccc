/**
 * SQS errors as the JSON protocol sends them: `__type` names the Smithy shape, and the
 * `x-amzn-query-error: <query code>;<Sender|Receiver>` header carries the legacy query-protocol code.
 * The SDK (awsQueryCompatible) reads the header first and maps it back to the modelled shape, so
 * `QueueDoesNotExist` arrives as `error.name === 'QueueDoesNotExist'` with `error.Code ===
 * 'AWS.SimpleQueueService.NonExistentQueue'`, exactly as against real SQS.
 * Status codes and query codes are those of the service model in @aws-sdk/client-sqs.
 */
import type { WireError } from '../http/aws-json-server';

export class SqsError extends Error {
  constructor(
    /** Smithy shape name, e.g. `QueueDoesNotExist`; generic errors use their query code. */
    readonly code: string,
    message: string,
    readonly status = 400,
    /** The legacy query-protocol code (defaults to `code`). */
    readonly queryCode = code,
    readonly senderFault = true,
  ) {
    super(message);
    this.name = code;
  }

  toWire(): WireError {
    return {
      status: this.status,
      headers: { 'x-amzn-query-error': `${this.queryCode};${this.senderFault ? 'Sender' : 'Receiver'}` },
      body: { __type: `com.amazonaws.sqs#${this.code}`, message: this.message },
    };
  }
}

export const sqsErrors = {
  queueDoesNotExist: () =>
    new SqsError(
      'QueueDoesNotExist',
      'The specified queue does not exist.',
      400,
      'AWS.SimpleQueueService.NonExistentQueue',
    ),
  queueNameExists: (name: string) =>
    new SqsError(
      'QueueNameExists',
      `A queue already exists with the same name and a different value for attribute(s) of ${name}.`,
      400,
      'QueueAlreadyExists',
    ),
  queueDeletedRecently: () =>
    new SqsError(
      'QueueDeletedRecently',
      'You must wait 60 seconds after deleting a queue before you can create another with the same name.',
      400,
      'AWS.SimpleQueueService.QueueDeletedRecently',
    ),
  invalidAddress: (url: string) =>
    new SqsError(
      'InvalidAddress',
      `The address ${url} is not valid for this endpoint.`,
      404,
      'InvalidAddress',
    ),
  invalidParameterValue: (message: string) => new SqsError('InvalidParameterValue', message),
  missingParameter: (name: string) =>
    new SqsError('MissingParameter', `The request must contain the parameter ${name}.`),
  invalidAttributeName: (name: string) =>
    new SqsError('InvalidAttributeName', `Unknown Attribute ${name}.`, 400, 'InvalidAttributeName'),
  invalidAttributeValue: (name: string, reason: string) =>
    new SqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}. Reason: ${reason}`),
  invalidMessageContents: () =>
    new SqsError(
      'InvalidMessageContents',
      'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
    ),
  messageTooLong: (limit: number) =>
    new SqsError(
      'InvalidParameterValue',
      `One or more parameters are invalid. Reason: Message must be shorter than ${limit} bytes.`,
    ),
  receiptHandleIsInvalid: (handle: string) =>
    new SqsError(
      'ReceiptHandleIsInvalid',
      `The input receipt handle "${handle}" is not a valid receipt handle.`,
      404,
    ),
  messageNotInflight: () =>
    new SqsError(
      'MessageNotInflight',
      'Message is not in flight.',
      400,
      'AWS.SimpleQueueService.MessageNotInflight',
    ),
  notAvailableForVisibilityChange: (handle: string) =>
    new SqsError(
      'InvalidParameterValue',
      `Value ${handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
    ),
  emptyBatchRequest: () =>
    new SqsError(
      'EmptyBatchRequest',
      'There should be at least one batch request entry in the request.',
      400,
      'AWS.SimpleQueueService.EmptyBatchRequest',
    ),
  tooManyEntriesInBatchRequest: (count: number) =>
    new SqsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are 10. You have sent ${count}.`,
      400,
      'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
    ),
  batchEntryIdsNotDistinct: (id: string) =>
    new SqsError(
      'BatchEntryIdsNotDistinct',
      `Id ${id} repeated.`,
      400,
      'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
    ),
  invalidBatchEntryId: () =>
    new SqsError(
      'InvalidBatchEntryId',
      'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      400,
      'AWS.SimpleQueueService.InvalidBatchEntryId',
    ),
  batchRequestTooLong: (limit: number) =>
    new SqsError(
      'BatchRequestTooLong',
      `Batch requests cannot be longer than ${limit} bytes.`,
      400,
      'AWS.SimpleQueueService.BatchRequestTooLong',
    ),
  purgeQueueInProgress: (name: string) =>
    new SqsError(
      'PurgeQueueInProgress',
      `Only one PurgeQueue operation on ${name} is allowed every 60 seconds.`,
      403,
      'AWS.SimpleQueueService.PurgeQueueInProgress',
    ),
  resourceNotFound: (
    message = 'The resource that you specified for the SourceArn parameter does not exist.',
  ) => new SqsError('ResourceNotFoundException', message, 404, 'ResourceNotFoundException'),
  unsupportedOperation: (message: string) =>
    new SqsError('UnsupportedOperation', message, 400, 'AWS.SimpleQueueService.UnsupportedOperation'),
  /** Injected faults. RequestThrottled is one of the SDK's throttling codes (retried with backoff). */
  requestThrottled: () => new SqsError('RequestThrottled', 'Request is throttled.', 403, 'RequestThrottled'),
  internalError: () =>
    new SqsError(
      'InternalError',
      'We encountered an internal error. Please try again.',
      500,
      'InternalError',
      false,
    ),
  serviceUnavailable: () =>
    new SqsError(
      'ServiceUnavailable',
      'The request has failed due to a temporary failure of the server.',
      503,
      'ServiceUnavailable',
      false,
    ),
};
