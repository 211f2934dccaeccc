/** The Firehose operations in the shapes of the AWS JSON 1.1 protocol (`Firehose_20150804.<Op>`). */
import { randomBytes } from 'node:crypto';
import type { FaultController } from '../faults/fault-controller';
import type { JsonObject, JsonOperation } from '../http/aws-json-server';
import type { DeliveryStream } from './delivery-stream';
import { FIREHOSE_LIMITS, firehoseErrors } from './errors';
import { describeStream, type StreamRegistry } from './stream-registry';

export interface FirehoseOperationDeps {
  readonly registry: StreamRegistry;
  readonly faults: FaultController;
  readonly clock: () => number;
  stream(name: string): DeliveryStream;
  createStream(name: string): Promise<void>;
  deleteStream(name: string): Promise<void>;
}

const recordId = (): string => randomBytes(48).toString('base64');

/** Decodes the records of a put, enforcing the per-record and per-call limits. */
function decodeRecords(records: unknown, field: string): Buffer[] {
  if (!Array.isArray(records) || records.length === 0) {
    throw firehoseErrors.validation([
      `Value '${JSON.stringify(records ?? null)}' at '${field}' failed to satisfy constraint: Member must have length greater than or equal to 1`,
    ]);
  }
  if (records.length > FIREHOSE_LIMITS.batchRecords) {
    throw firehoseErrors.validation([
      `Value at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${FIREHOSE_LIMITS.batchRecords}`,
    ]);
  }
  const violations: string[] = [];
  const decoded = records.map((record, index) => {
    const data = (record as JsonObject | null)?.Data;
    if (typeof data !== 'string') {
      violations.push(
        `Value null at '${field}.${index + 1}.member.data' failed to satisfy constraint: Member must not be null`,
      );
      return Buffer.alloc(0);
    }
    const bytes = Buffer.from(data, 'base64');
    if (bytes.length > FIREHOSE_LIMITS.recordBytes)
      violations.push(firehoseErrors.recordTooLarge(index, bytes.length));
    return bytes;
  });
  if (violations.length > 0) throw firehoseErrors.validation(violations);
  const total = decoded.reduce((sum, bytes) => sum + bytes.length, 0);
  if (total > FIREHOSE_LIMITS.batchBytes) throw firehoseErrors.batchTooLarge();
  return decoded;
}

export function createFirehoseOperations(deps: FirehoseOperationDeps): Record<string, JsonOperation> {
  const { registry, faults } = deps;

  const failsRecord = (operation: string): boolean => {
    if (!faults.appliesTo(operation) || !faults.chance(faults.get().failedPutRate)) return false;
    faults.count('failedRecords');
    return true;
  };

  return {
    CreateDeliveryStream: async (input) => {
      const stream = await registry.create(input, deps.clock());
      await deps.createStream(stream.name);
      return { DeliveryStreamARN: stream.arn };
    },

    DeleteDeliveryStream: async (input) => {
      const name = registry.get(input.DeliveryStreamName).name;
      await deps.deleteStream(name);
      return {};
    },

    DescribeDeliveryStream: (input) => ({
      DeliveryStreamDescription: describeStream(registry.get(input.DeliveryStreamName)),
    }),

    ListDeliveryStreams: (input) => {
      const limit = input.Limit ?? 10;
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 10_000) {
        throw firehoseErrors.validation([
          `Value '${String(limit)}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 10000`,
        ]);
      }
      if (input.DeliveryStreamType !== undefined && input.DeliveryStreamType !== 'DirectPut') {
        return { DeliveryStreamNames: [], HasMoreDeliveryStreams: false };
      }
      const after =
        typeof input.ExclusiveStartDeliveryStreamName === 'string'
          ? input.ExclusiveStartDeliveryStreamName
          : '';
      const names = registry.names().filter((name) => name > after);
      return { DeliveryStreamNames: names.slice(0, limit), HasMoreDeliveryStreams: names.length > limit };
    },

    PutRecord: async (input) => {
      const [data] = decodeRecords(input.Record === undefined ? undefined : [input.Record], 'record');
      const stream = deps.stream(registry.get(input.DeliveryStreamName).name);
      if (failsRecord('PutRecord')) throw firehoseErrors.slowDown();
      await stream.append([data!]);
      return { RecordId: recordId(), Encrypted: false };
    },

    PutRecordBatch: async (input) => {
      const records = decodeRecords(input.Records, 'records');
      const stream = deps.stream(registry.get(input.DeliveryStreamName).name);
      const accepted: Buffer[] = [];
      const responses = records.map((data) => {
        if (failsRecord('PutRecordBatch')) {
          return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' };
        }
        accepted.push(data);
        return { RecordId: recordId() };
      });
      if (accepted.length > 0) await stream.append(accepted);
      return {
        FailedPutCount: records.length - accepted.length,
        Encrypted: false,
        RequestResponses: responses,
      };
    },
  };
}
