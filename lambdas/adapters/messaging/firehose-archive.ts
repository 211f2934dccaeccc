/**
 * Archive to Kinesis Data Firehose: PutRecordBatch (≤ 500 records and ≤ 4 MiB per call), retrying
 * only the records Firehose reports as failed (FailedPutCount > 0). If some still fail, the call
 * fails and ingest answers 503: every 202 means the events are in the queue and the archive stream.
 */
import { type FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import type { EventArchive } from '../../core/ports';
import { sizeBatches } from '../../core/size-batches';
import { describeError } from '../../shared/describe-error';
import { EnqueueError } from './sqs-event-queue';

const MAX_RECORDS = 500;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
const ATTEMPTS = 3;

export class FirehoseArchive implements EventArchive {
  constructor(
    private readonly client: FirehoseClient,
    private readonly streamName: string,
  ) {}

  async put(records: readonly string[]): Promise<void> {
    const batches = sizeBatches(
      records.map((record) => Buffer.from(record)),
      (data) => data.length,
      { maxEntries: MAX_RECORDS, maxBytes: MAX_BATCH_BYTES },
    );
    await Promise.all(batches.map((batch) => this.putBatch(batch)));
  }

  private async putBatch(records: readonly Buffer[]): Promise<void> {
    let pending = [...records];
    let lastError = 'unknown';
    for (let attempt = 0; attempt < ATTEMPTS && pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
      try {
        const { FailedPutCount = 0, RequestResponses = [] } = await this.client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: this.streamName,
            Records: pending.map((Data) => ({ Data })),
          }),
        );
        if (FailedPutCount === 0) return;
        const failed = RequestResponses.map((response, index) => (response.ErrorCode ? index : -1)).filter(
          (i) => i >= 0,
        );
        lastError = `${RequestResponses[failed[0]!]?.ErrorCode}: ${RequestResponses[failed[0]!]?.ErrorMessage ?? ''}`;
        pending = failed.map((index) => pending[index]!);
      } catch (error) {
        lastError = describeError(error);
      }
    }
    if (pending.length > 0) {
      throw new EnqueueError(
        `${pending.length} of ${records.length} archive records not accepted (${lastError})`,
      );
    }
  }
}
