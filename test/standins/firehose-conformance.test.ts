/**
 * Firehose conformance: observable API behaviour (shapes, errors, limits) through
 * @aws-sdk/client-firehose. Runs against the local stand-in by default; FIREHOSE_CONFORMANCE_TARGET=aws
 * runs the same checks against a real, temporary delivery stream (docs/local-standins.md).
 */
import {
  CreateDeliveryStreamCommand,
  DeleteDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  FirehoseClient,
  ListDeliveryStreamsCommand,
  PutRecordBatchCommand,
  PutRecordCommand,
} from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConformanceTarget, conformanceTarget } from './support/conformance-target';
import { eventually } from './support/eventually';
import { rejection } from './support/rejection';

describe('Firehose conformance', () => {
  let target: ConformanceTarget;
  let firehose: FirehoseClient;
  let stream: string;

  const record = (text: string) => ({ Data: Buffer.from(text) });

  beforeAll(async () => {
    target = await conformanceTarget('firehose');
    firehose = new FirehoseClient({ ...target.firehose, maxAttempts: 1 });
    stream = target.name('stream');
    const destination = target.firehoseDestination();
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: stream,
        DeliveryStreamType: 'DirectPut',
        ExtendedS3DestinationConfiguration: {
          RoleARN: destination.roleArn,
          BucketARN: destination.bucketArn,
          Prefix: `conformance/${stream}/`,
          ErrorOutputPrefix: `conformance-errors/${stream}/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/`,
          CompressionFormat: 'GZIP',
          BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 5 },
        },
      }),
    );
    await eventually(
      async () => {
        const { DeliveryStreamDescription } = await firehose.send(
          new DescribeDeliveryStreamCommand({ DeliveryStreamName: stream }),
        );
        expect(DeliveryStreamDescription?.DeliveryStreamStatus).toBe('ACTIVE');
      },
      target.activationTimeoutMs,
      2_000,
    );
  }, 15 * 60_000);

  afterAll(async () => {
    if (stream) {
      await firehose
        ?.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: stream, AllowForceDelete: true }))
        .catch(() => undefined);
    }
    firehose?.destroy();
    await target?.stop();
  });

  describe('delivery streams', () => {
    it('describes an active DirectPut stream with its S3 destination', async () => {
      // Act
      const { DeliveryStreamDescription: description } = await firehose.send(
        new DescribeDeliveryStreamCommand({ DeliveryStreamName: stream }),
      );

      // Assess
      expect(description).toMatchObject({
        DeliveryStreamName: stream,
        DeliveryStreamStatus: 'ACTIVE',
        DeliveryStreamType: 'DirectPut',
        HasMoreDestinations: false,
      });
      expect(description?.DeliveryStreamARN).toMatch(
        new RegExp(`^arn:aws:firehose:${target.region}:\\d{12}:deliverystream/${stream}$`),
      );
      expect(description?.CreateTimestamp).toBeInstanceOf(Date);
      expect(description?.Destinations?.[0]?.ExtendedS3DestinationDescription).toMatchObject({
        BucketARN: target.firehoseDestination().bucketArn,
        Prefix: `conformance/${stream}/`,
        CompressionFormat: 'GZIP',
        BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 5 },
      });
    });

    it('lists the stream', async () => {
      // Act
      const listed = await firehose.send(new ListDeliveryStreamsCommand({ Limit: 10_000 }));

      // Assess
      expect(listed.DeliveryStreamNames).toContain(stream);
      expect(typeof listed.HasMoreDeliveryStreams).toBe('boolean');
    });

    it('answers ResourceNotFoundException for an unknown stream', async () => {
      // Act
      const describe = await rejection(
        firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: target.name('missing') })),
      );
      const put = await rejection(
        firehose.send(
          new PutRecordCommand({ DeliveryStreamName: target.name('missing'), Record: record('x\n') }),
        ),
      );

      // Assess
      expect(describe.name).toBe('ResourceNotFoundException');
      expect(put.name).toBe('ResourceNotFoundException');
    });

    it('refuses to create a stream whose name is taken', async () => {
      // Prepare
      const destination = target.firehoseDestination();

      // Act
      const error = await rejection(
        firehose.send(
          new CreateDeliveryStreamCommand({
            DeliveryStreamName: stream,
            ExtendedS3DestinationConfiguration: {
              RoleARN: destination.roleArn,
              BucketARN: destination.bucketArn,
            },
          }),
        ),
      );

      // Assess
      expect(error.name).toBe('ResourceInUseException');
    });
  });

  describe('putting records', () => {
    it('answers PutRecord with a RecordId', async () => {
      // Act
      const result = await firehose.send(
        new PutRecordCommand({ DeliveryStreamName: stream, Record: record('{"a":1}\n') }),
      );

      // Assess
      expect(result.RecordId).toEqual(expect.any(String));
      expect(result.RecordId!.length).toBeGreaterThan(20);
      expect(result.Encrypted).toBe(false);
    });

    it('answers PutRecordBatch with one response per record and FailedPutCount 0', async () => {
      // Act
      const result = await firehose.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: stream,
          Records: [record('{"a":1}\n'), record('{"a":2}\n'), record('{"a":3}\n')],
        }),
      );

      // Assess
      expect(result.FailedPutCount).toBe(0);
      expect(result.RequestResponses).toHaveLength(3);
      expect(result.RequestResponses?.every((r) => typeof r.RecordId === 'string' && !r.ErrorCode)).toBe(
        true,
      );
    });

    it('accepts a record of exactly 1,000 KiB and rejects one byte more', async () => {
      // Act
      const atLimit = await firehose.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: stream,
          Records: [{ Data: Buffer.alloc(1_024_000, 97) }],
        }),
      );
      const over = await rejection(
        firehose.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: stream,
            Records: [{ Data: Buffer.alloc(1_024_001, 97) }],
          }),
        ),
      );

      // Assess
      expect(atLimit.FailedPutCount).toBe(0);
      expect(over.name).toBe('ValidationException');
      expect(over.message).toContain('Member must have length less than or equal to 1024000');
    });

    it('rejects more than 500 records, and none', async () => {
      // Act
      const tooMany = await rejection(
        firehose.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: stream,
            Records: Array.from({ length: 501 }, () => record('x\n')),
          }),
        ),
      );
      const none = await rejection(
        firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: stream, Records: [] })),
      );

      // Assess
      expect(tooMany.name).toBe('ValidationException');
      expect(tooMany.message).toContain('Member must have length less than or equal to 500');
      expect(none.name).toBe('ValidationException');
    });

    it('rejects a batch of more than 4 MiB in total', async () => {
      // Act: five records within the per-record limit, 5,000,000 bytes together.
      const error = await rejection(
        firehose.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: stream,
            Records: Array.from({ length: 5 }, () => ({ Data: Buffer.alloc(1_000_000, 98) })),
          }),
        ),
      );

      // Assess
      expect(error.name).toBe('InvalidArgumentException');
      expect(error.message).toContain('4 MB');
    });
  });
});
