/**
 * Durable enqueue to the event queue: SendMessageBatch (≤ 10 entries and ≤ 1 MiB per call), every
 * message with MessageGroupId = account (fair delivery across tenants on a standard queue). Failed
 * entries are retried; if any message still cannot be sent, the whole call fails, so ingest answers
 * 503 instead of a 202 it cannot honour.
 */
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { EventQueue } from '../../core/ports';
import { sizeBatches } from '../../core/size-batches';
import { describeError } from '../../shared/describe-error';

export class EnqueueError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EnqueueError';
  }
}

const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 1024 * 1024;
const ATTEMPTS = 3;

export class SqsEventQueue implements EventQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(bodies: readonly string[], groupId: string): Promise<void> {
    await Promise.all(
      sizeBatches(bodies, Buffer.byteLength, { maxEntries: MAX_ENTRIES, maxBytes: MAX_BATCH_BYTES }).map(
        (batch) => this.sendBatch(batch, groupId),
      ),
    );
  }

  private async sendBatch(bodies: readonly string[], groupId: string): Promise<void> {
    let entries: SendMessageBatchRequestEntry[] = bodies.map((body, index) => ({
      Id: String(index),
      MessageBody: body,
      MessageGroupId: groupId,
    }));
    let lastError = 'unknown';
    for (let attempt = 0; attempt < ATTEMPTS && entries.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
      let failedIds: Set<string>;
      try {
        const { Failed = [] } = await this.client.send(
          new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }),
        );
        const permanent = Failed.find((failure) => failure.SenderFault);
        if (permanent)
          throw new EnqueueError(`SQS refused a message: ${permanent.Code} ${permanent.Message ?? ''}`);
        failedIds = new Set(Failed.map((failure) => failure.Id ?? ''));
        lastError = Failed[0] ? `${Failed[0].Code}: ${Failed[0].Message ?? ''}` : lastError;
      } catch (error) {
        if (error instanceof EnqueueError) throw error;
        lastError = describeError(error);
        continue;
      }
      entries = entries.filter((entry) => failedIds.has(entry.Id!));
    }
    if (entries.length > 0) {
      throw new EnqueueError(`${entries.length} of ${bodies.length} messages not enqueued (${lastError})`);
    }
  }
}
