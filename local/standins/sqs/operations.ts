/**
 * The SQS operations: request JSON in, response JSON out, in the shapes of the AWS JSON 1.0 protocol.
 * Validation and wire shapes live here; state changes go through the QueueStore, and any change a
 * client must be able to rely on (send, delete, queue changes) is on disk before the answer.
 */

import type { FaultController } from '../faults/fault-controller';
import type { JsonObject, JsonOperation, OperationContext } from '../http/aws-json-server';
import { SqsError, sqsErrors } from './errors';
import { batchEntries, optionalInteger, requiredInteger, stringList, stringMap } from './input';
import type { Journal } from './journal';
import { SQS_LIMITS } from './limits';
import { waitForMessages } from './long-poll';
import {
  type MessageAttributes,
  md5OfAttributes,
  messageSize,
  selectAttributes,
  validateBody,
  validateGroupId,
  validateMessageAttributes,
} from './message';
import type { MoveTaskRunner } from './move-tasks';
import type { Queue } from './queue';
import { ALL_ATTRIBUTE_NAMES, normaliseQueueAttributes, validateQueueName } from './queue-attributes';
import type { QueueStore, ReceivedMessage, SendInput } from './queue-store';

export interface SqsOperationDeps {
  readonly store: QueueStore;
  readonly journal: Pick<Journal, 'durable'>;
  readonly moveTasks: MoveTaskRunner;
  readonly faults: FaultController;
}

const SYSTEM_ATTRIBUTE_NAMES = new Set([
  'All',
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'SequenceNumber',
  'MessageDeduplicationId',
  'MessageGroupId',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
]);

/** Identity SQS reports as the sender (real SQS: the caller's IAM principal id). */
const SENDER_ID = 'AIDALOCALSTANDIN00000';

export function createSqsOperations(deps: SqsOperationDeps): Record<string, JsonOperation> {
  const { store, journal, moveTasks, faults } = deps;
  const queueExists = (arn: string): boolean => store.findByArn(arn) !== undefined;

  async function durably<T>(result: T): Promise<T> {
    await journal.durable();
    return result;
  }

  /**
   * A send entry checked against the queue: what store.send takes, and its size (a batch adds them
   * up). Throws the entry's error.
   */
  function validateSend(queue: Queue, entry: JsonObject): { send: SendInput; size: number } {
    const body = validateBody(entry.MessageBody);
    const attributes = validateMessageAttributes(entry.MessageAttributes, 'message');
    const systemAttributes = validateMessageAttributes(entry.MessageSystemAttributes, 'system');
    const delaySeconds = optionalInteger(entry, 'DelaySeconds', 0, SQS_LIMITS.maxDelaySeconds);
    const groupId = validateGroupId(entry.MessageGroupId);
    if (entry.MessageDeduplicationId !== undefined && entry.MessageDeduplicationId !== null) {
      throw sqsErrors.invalidParameterValue(
        `Value ${String(entry.MessageDeduplicationId)} for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.`,
      );
    }
    const size = messageSize(body, attributes);
    if (size > queue.maxMessageBytes) throw sqsErrors.messageTooLong(queue.maxMessageBytes);
    const send = {
      body,
      attributes,
      systemAttributes,
      ...(delaySeconds !== undefined ? { delaySeconds } : {}),
      ...(groupId !== undefined ? { groupId } : {}),
    };
    return { send, size };
  }

  /** What an invalid batch entry counts towards the batch's size: its body, and its attributes if valid. */
  function invalidEntrySize(entry: JsonObject): number {
    const body = typeof entry.MessageBody === 'string' ? entry.MessageBody : '';
    try {
      return messageSize(body, validateMessageAttributes(entry.MessageAttributes, 'message'));
    } catch {
      return messageSize(body, {});
    }
  }

  /** One page of names after the NextToken (the last name of the previous page, base64). */
  function pageOfNames(input: JsonObject, names: readonly string[]) {
    const max = optionalInteger(input, 'MaxResults', 1, SQS_LIMITS.listQueuesMaxResults);
    const after =
      typeof input.NextToken === 'string' ? Buffer.from(input.NextToken, 'base64').toString('utf8') : '';
    const following = names.filter((name) => name > after);
    const page = following.slice(0, max ?? SQS_LIMITS.listQueuesMaxResults);
    // A NextToken only when the caller paginates (MaxResults), as SQS does.
    const more = max !== undefined && following.length > page.length;
    return {
      urls: page.map((name) => store.urlOf(name)),
      ...(more ? { NextToken: Buffer.from(page.at(-1)!, 'utf8').toString('base64') } : {}),
    };
  }

  function renderReceived(
    received: ReceivedMessage,
    systemNames: readonly string[],
    attributeNames: readonly string[],
  ) {
    const { message, receiptHandle } = received;
    const all = systemNames.includes('All');
    const wants = (name: string): boolean => all || systemNames.includes(name);
    const system: Record<string, string> = {};
    if (wants('SenderId')) system.SenderId = SENDER_ID;
    if (wants('SentTimestamp')) system.SentTimestamp = String(message.sentAt);
    if (wants('ApproximateReceiveCount')) system.ApproximateReceiveCount = String(message.receiveCount);
    if (wants('ApproximateFirstReceiveTimestamp')) {
      system.ApproximateFirstReceiveTimestamp = String(message.firstReceiveAt ?? message.lastReceiveAt ?? 0);
    }
    if (wants('MessageGroupId') && message.groupId !== undefined) system.MessageGroupId = message.groupId;
    const trace = message.systemAttributes.AWSTraceHeader?.StringValue;
    if (wants('AWSTraceHeader') && trace !== undefined) system.AWSTraceHeader = trace;
    if (wants('DeadLetterQueueSourceArn') && message.deadLetterSourceArn) {
      system.DeadLetterQueueSourceArn = message.deadLetterSourceArn;
    }
    const attributes: MessageAttributes = selectAttributes(message.attributes, attributeNames);
    const md5OfMessageAttributes = md5OfAttributes(attributes);
    return {
      MessageId: message.messageId,
      ReceiptHandle: receiptHandle,
      MD5OfBody: message.md5OfBody,
      Body: message.body,
      ...(Object.keys(system).length > 0 ? { Attributes: system } : {}),
      ...(md5OfMessageAttributes
        ? { MD5OfMessageAttributes: md5OfMessageAttributes, MessageAttributes: attributes }
        : {}),
    };
  }

  function batchFailure(id: string, error: unknown) {
    if (error instanceof SqsError)
      return { Id: id, SenderFault: error.senderFault, Code: error.code, Message: error.message };
    return { Id: id, SenderFault: false, Code: 'InternalError', Message: String(error) };
  }

  return {
    CreateQueue: async (input) => {
      const name = validateQueueName(input.QueueName);
      const attributes = normaliseQueueAttributes(input.Attributes, queueExists);
      const queue = store.createQueue(name, attributes, stringMap(input, 'tags'));
      return durably({ QueueUrl: store.urlOf(queue.name) });
    },

    GetQueueUrl: (input) => {
      if (typeof input.QueueName !== 'string' || input.QueueName === '')
        throw sqsErrors.missingParameter('QueueName');
      return { QueueUrl: store.urlOf(store.queueByName(input.QueueName).name) };
    },

    ListQueues: (input) => {
      const prefix = typeof input.QueueNamePrefix === 'string' ? input.QueueNamePrefix : '';
      const { urls, ...next } = pageOfNames(
        input,
        store.listQueues(prefix).map((q) => q.name),
      );
      return { ...(urls.length > 0 ? { QueueUrls: urls } : {}), ...next };
    },

    DeleteQueue: async (input) => {
      store.deleteQueue(store.queueByUrl(input.QueueUrl));
      return durably({});
    },

    GetQueueAttributes: (input) => {
      const queue = store.queueByUrl(input.QueueUrl);
      const names = stringList(input, 'AttributeNames');
      for (const name of names)
        if (name !== 'All' && !ALL_ATTRIBUTE_NAMES.has(name)) throw sqsErrors.invalidAttributeName(name);
      if (names.length === 0) return {};
      const all = store.attributesOf(queue);
      const selected = names.includes('All')
        ? all
        : Object.fromEntries(
            names.filter((name) => all[name] !== undefined).map((name) => [name, all[name]!]),
          );
      return { Attributes: selected };
    },

    SetQueueAttributes: async (input) => {
      const queue = store.queueByUrl(input.QueueUrl);
      if (input.Attributes === undefined || input.Attributes === null)
        throw sqsErrors.missingParameter('Attributes');
      store.setAttributes(queue, normaliseQueueAttributes(input.Attributes, queueExists));
      return durably({});
    },

    TagQueue: async (input) => {
      const queue = store.queueByUrl(input.QueueUrl);
      store.setTags(queue, { ...queue.tags, ...stringMap(input, 'Tags') });
      return durably({});
    },

    UntagQueue: async (input) => {
      const queue = store.queueByUrl(input.QueueUrl);
      const remove = new Set(stringList(input, 'TagKeys'));
      store.setTags(
        queue,
        Object.fromEntries(Object.entries(queue.tags).filter(([key]) => !remove.has(key))),
      );
      return durably({});
    },

    ListQueueTags: (input) => {
      const queue = store.queueByUrl(input.QueueUrl);
      return Object.keys(queue.tags).length > 0 ? { Tags: queue.tags } : {};
    },

    PurgeQueue: async (input) => {
      store.purge(store.queueByUrl(input.QueueUrl));
      return durably({});
    },

    SendMessage: async (input) => {
      const queue = store.queueByUrl(input.QueueUrl);
      const result = store.send(queue, validateSend(queue, input).send);
      await journal.durable();
      return {
        MessageId: result.messageId,
        MD5OfMessageBody: result.md5OfBody,
        ...(result.md5OfAttributes ? { MD5OfMessageAttributes: result.md5OfAttributes } : {}),
        ...(result.md5OfSystemAttributes
          ? { MD5OfMessageSystemAttributes: result.md5OfSystemAttributes }
          : {}),
      };
    },

    SendMessageBatch: async (input) => {
      const queue = store.queueByUrl(input.QueueUrl);
      // Each entry is validated once; an invalid one fails on its own, after the batch size check.
      const entries = batchEntries(input).map((entry) => {
        try {
          return { entry, ...validateSend(queue, entry) };
        } catch (error) {
          return { entry, send: undefined, error, size: invalidEntrySize(entry) };
        }
      });
      const total = entries.reduce((sum, { size }) => sum + size, 0);
      if (total > queue.maxMessageBytes) throw sqsErrors.batchRequestTooLong(queue.maxMessageBytes);
      const successful: object[] = [];
      const failed: object[] = [];
      for (const { entry, send, error } of entries) {
        if (!send) {
          failed.push(batchFailure(entry.Id, error));
          continue;
        }
        try {
          const result = store.send(queue, send);
          successful.push({
            Id: entry.Id,
            MessageId: result.messageId,
            MD5OfMessageBody: result.md5OfBody,
            ...(result.md5OfAttributes ? { MD5OfMessageAttributes: result.md5OfAttributes } : {}),
            ...(result.md5OfSystemAttributes
              ? { MD5OfMessageSystemAttributes: result.md5OfSystemAttributes }
              : {}),
          });
        } catch (error) {
          failed.push(batchFailure(entry.Id, error));
        }
      }
      await journal.durable();
      return { Successful: successful, Failed: failed };
    },

    ReceiveMessage: async (input, context: OperationContext) => {
      let queue = store.queueByUrl(input.QueueUrl);
      const maxMessages =
        optionalInteger(input, 'MaxNumberOfMessages', 1, SQS_LIMITS.receiveMaxMessages) ?? 1;
      const waitSeconds =
        optionalInteger(input, 'WaitTimeSeconds', 0, SQS_LIMITS.maxWaitSeconds) ?? queue.waitSeconds;
      const visibilityTimeoutSeconds = optionalInteger(
        input,
        'VisibilityTimeout',
        0,
        SQS_LIMITS.maxVisibilitySeconds,
      );
      const systemNames = [
        ...stringList(input, 'AttributeNames'),
        ...stringList(input, 'MessageSystemAttributeNames'),
      ];
      for (const name of systemNames)
        if (!SYSTEM_ATTRIBUTE_NAMES.has(name)) throw sqsErrors.invalidAttributeName(name);
      const attributeNames = stringList(input, 'MessageAttributeNames');
      const duplicate = (): boolean => {
        if (!faults.appliesTo('ReceiveMessage') || !faults.chance(faults.get().duplicateRate)) return false;
        faults.count('duplicated');
        return true;
      };
      const deadline = store.clock() + waitSeconds * 1000;
      let received: ReceivedMessage[] = [];
      for (;;) {
        received = store.receive(queue, {
          maxMessages,
          duplicate,
          ...(visibilityTimeoutSeconds !== undefined ? { visibilityTimeoutSeconds } : {}),
        });
        if (received.length > 0 || store.clock() >= deadline || context.signal.aborted) break;
        await waitForMessages(store, queue, deadline, context.signal);
        try {
          queue = store.queueByName(queue.name); // it may have been deleted while we waited
        } catch {
          return {};
        }
      }
      if (received.length === 0) return {};
      return { Messages: received.map((r) => renderReceived(r, systemNames, attributeNames)) };
    },

    DeleteMessage: async (input) => {
      const queue = store.queueByUrl(input.QueueUrl);
      if (input.ReceiptHandle === undefined || input.ReceiptHandle === null)
        throw sqsErrors.missingParameter('ReceiptHandle');
      store.deleteMessage(queue, input.ReceiptHandle);
      return durably({});
    },

    DeleteMessageBatch: async (input) => {
      const queue = store.queueByUrl(input.QueueUrl);
      const successful: object[] = [];
      const failed: object[] = [];
      for (const entry of batchEntries(input)) {
        try {
          store.deleteMessage(queue, entry.ReceiptHandle);
          successful.push({ Id: entry.Id });
        } catch (error) {
          failed.push(batchFailure(entry.Id, error));
        }
      }
      return durably({ Successful: successful, Failed: failed });
    },

    ChangeMessageVisibility: async (input) => {
      const queue = store.queueByUrl(input.QueueUrl);
      const seconds = requiredInteger(input, 'VisibilityTimeout', 0, SQS_LIMITS.maxVisibilitySeconds);
      store.changeVisibility(queue, input.ReceiptHandle, seconds);
      return {};
    },

    ChangeMessageVisibilityBatch: async (input) => {
      const queue = store.queueByUrl(input.QueueUrl);
      const successful: object[] = [];
      const failed: object[] = [];
      for (const entry of batchEntries(input)) {
        try {
          const seconds = requiredInteger(entry, 'VisibilityTimeout', 0, SQS_LIMITS.maxVisibilitySeconds);
          store.changeVisibility(queue, entry.ReceiptHandle, seconds);
          successful.push({ Id: entry.Id });
        } catch (error) {
          failed.push(batchFailure(entry.Id, error));
        }
      }
      return { Successful: successful, Failed: failed };
    },

    ListDeadLetterSourceQueues: (input) => {
      const queue = store.queueByUrl(input.QueueUrl);
      const { urls, ...next } = pageOfNames(
        input,
        store.deadLetterSourcesOf(queue).map((q) => q.name),
      );
      return { queueUrls: urls, ...next };
    },

    StartMessageMoveTask: (input) => ({
      TaskHandle: moveTasks.start(input.SourceArn, input.DestinationArn, input.MaxNumberOfMessagesPerSecond),
    }),

    ListMessageMoveTasks: (input) => ({ Results: moveTasks.list(input.SourceArn, input.MaxResults) }),

    CancelMessageMoveTask: (input) => ({
      ApproximateNumberOfMessagesMoved: moveTasks.cancel(input.TaskHandle),
    }),

    AddPermission: () => {
      throw sqsErrors.unsupportedOperation('AddPermission is not implemented by the local SQS stand-in.');
    },
    RemovePermission: () => {
      throw sqsErrors.unsupportedOperation('RemovePermission is not implemented by the local SQS stand-in.');
    },
  };
}
