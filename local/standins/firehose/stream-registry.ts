/**
 * Delivery stream definitions: created from CreateDeliveryStream input (DirectPut into S3 only),
 * described back in DescribeDeliveryStream's shape, and kept in `<dir>/streams.json` (replaced
 * atomically and fsync'd before CreateDeliveryStream answers).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JsonObject } from '../http/aws-json-server';
import { writeFileDurably } from '../storage/sync-directory';
import { FIREHOSE_LIMITS, firehoseErrors } from './errors';

export interface StreamDefinition {
  readonly name: string;
  readonly arn: string;
  readonly createdAt: number;
  readonly roleArn: string;
  readonly bucketArn: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly errorOutputPrefix: string;
  readonly sizeInMBs: number;
  readonly intervalInSeconds: number;
  readonly compression: 'GZIP' | 'UNCOMPRESSED';
}

/** What the stand-in writes when a stream names no error output prefix. */
const DEFAULT_ERROR_OUTPUT_PREFIX = 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/';

const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;
const FILE = 'streams.json';

export class StreamRegistry {
  private readonly streams = new Map<string, StreamDefinition>();

  private constructor(
    private readonly dir: string,
    readonly region: string,
    readonly accountId: string,
  ) {}

  static async open(dir: string, region: string, accountId: string): Promise<StreamRegistry> {
    const registry = new StreamRegistry(dir, region, accountId);
    const path = join(dir, FILE);
    if (existsSync(path)) {
      for (const stream of JSON.parse(await readFile(path, 'utf8')) as StreamDefinition[]) {
        registry.streams.set(stream.name, stream);
      }
    }
    return registry;
  }

  get(name: unknown): StreamDefinition {
    const stream = typeof name === 'string' ? this.streams.get(name) : undefined;
    if (!stream) throw firehoseErrors.resourceNotFound(String(name ?? ''), this.accountId);
    return stream;
  }

  names(): string[] {
    return [...this.streams.keys()].sort();
  }

  async create(input: JsonObject, now: number): Promise<StreamDefinition> {
    const stream = this.definitionFrom(input, now);
    if (this.streams.has(stream.name)) throw firehoseErrors.resourceInUse(stream.name, this.accountId);
    this.streams.set(stream.name, stream);
    await this.save();
    return stream;
  }

  async delete(name: string): Promise<void> {
    this.get(name);
    this.streams.delete(name);
    await this.save();
  }

  private async save(): Promise<void> {
    await writeFileDurably(join(this.dir, FILE), JSON.stringify([...this.streams.values()], null, 2));
  }

  private definitionFrom(input: JsonObject, now: number): StreamDefinition {
    const name = input.DeliveryStreamName;
    if (typeof name !== 'string' || !STREAM_NAME.test(name)) {
      throw firehoseErrors.validation([
        `Value '${String(name)}' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and have length at most ${FIREHOSE_LIMITS.streamNameLength}`,
      ]);
    }
    const type = input.DeliveryStreamType ?? 'DirectPut';
    if (type !== 'DirectPut') {
      throw firehoseErrors.invalidArgument(
        `DeliveryStreamType ${String(type)} is not implemented by the local Firehose stand-in.`,
      );
    }
    const destination = (input.ExtendedS3DestinationConfiguration ?? input.S3DestinationConfiguration) as
      | JsonObject
      | undefined;
    if (!destination) {
      throw firehoseErrors.invalidArgument(
        'The local Firehose stand-in delivers to S3 only: give ExtendedS3DestinationConfiguration.',
      );
    }
    const bucketArn = destination.BucketARN;
    if (typeof bucketArn !== 'string' || !bucketArn.startsWith('arn:aws:s3:::') || bucketArn.length <= 13) {
      throw firehoseErrors.invalidArgument(`Invalid BucketARN: ${String(bucketArn)}`);
    }
    const compression = destination.CompressionFormat ?? 'UNCOMPRESSED';
    if (compression !== 'GZIP' && compression !== 'UNCOMPRESSED') {
      throw firehoseErrors.invalidArgument(
        `CompressionFormat ${String(compression)} is not implemented locally (use GZIP or UNCOMPRESSED).`,
      );
    }
    const hints = (destination.BufferingHints ?? {}) as JsonObject;
    const sizeInMBs = hints.SizeInMBs ?? 5;
    const intervalInSeconds = hints.IntervalInSeconds ?? 300;
    if (typeof sizeInMBs !== 'number' || !Number.isInteger(sizeInMBs) || sizeInMBs < 1 || sizeInMBs > 128) {
      throw firehoseErrors.validation([
        `Value '${String(sizeInMBs)}' at 'bufferingHints.sizeInMBs' failed to satisfy constraint: Member must have value between 1 and 128`,
      ]);
    }
    if (
      typeof intervalInSeconds !== 'number' ||
      !Number.isInteger(intervalInSeconds) ||
      intervalInSeconds < 0 ||
      intervalInSeconds > 900
    ) {
      throw firehoseErrors.validation([
        `Value '${String(intervalInSeconds)}' at 'bufferingHints.intervalInSeconds' failed to satisfy constraint: Member must have value between 0 and 900`,
      ]);
    }
    const prefix = typeof destination.Prefix === 'string' ? destination.Prefix : '';
    const errorOutputPrefix =
      typeof destination.ErrorOutputPrefix === 'string' && destination.ErrorOutputPrefix !== ''
        ? destination.ErrorOutputPrefix
        : DEFAULT_ERROR_OUTPUT_PREFIX;
    return {
      name,
      arn: `arn:aws:firehose:${this.region}:${this.accountId}:deliverystream/${name}`,
      createdAt: now,
      roleArn: typeof destination.RoleARN === 'string' ? destination.RoleARN : '',
      bucketArn,
      bucket: bucketArn.slice('arn:aws:s3:::'.length),
      prefix,
      errorOutputPrefix,
      sizeInMBs,
      intervalInSeconds,
      compression,
    };
  }
}

/** DescribeDeliveryStream's DeliveryStreamDescription. */
export function describeStream(stream: StreamDefinition): JsonObject {
  return {
    DeliveryStreamName: stream.name,
    DeliveryStreamARN: stream.arn,
    DeliveryStreamStatus: 'ACTIVE',
    DeliveryStreamType: 'DirectPut',
    DeliveryStreamEncryptionConfiguration: { Status: 'DISABLED' },
    VersionId: '1',
    CreateTimestamp: stream.createdAt / 1000,
    Source: { DirectPutSourceDescription: {} },
    Destinations: [
      {
        DestinationId: 'destinationId-000000000001',
        ExtendedS3DestinationDescription: {
          RoleARN: stream.roleArn,
          BucketARN: stream.bucketArn,
          Prefix: stream.prefix,
          ErrorOutputPrefix: stream.errorOutputPrefix,
          BufferingHints: { SizeInMBs: stream.sizeInMBs, IntervalInSeconds: stream.intervalInSeconds },
          CompressionFormat: stream.compression,
          EncryptionConfiguration: { NoEncryptionConfig: 'NoEncryption' },
          S3BackupMode: 'Disabled',
        },
      },
    ],
    HasMoreDestinations: false,
  };
}
