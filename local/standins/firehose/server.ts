/**
 * The Firehose stand-in: AWS JSON 1.1 over HTTP on 127.0.0.1. Accepted records are on disk (spool)
 * before the put is answered, buffered per stream by size and time, and delivered to S3 through the
 * real S3 client as Firehose lays the archive out (see object-key.ts).
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../client-config';
import type { FaultController } from '../faults/fault-controller';
import { startAwsJsonServer } from '../http/aws-json-server';
import { type BufferLimits, type DeliveryStats, DeliveryStream, streamDirectory } from './delivery-stream';
import { FirehoseError, firehoseErrors } from './errors';
import { createFirehoseOperations } from './operations';
import { createS3ArchiveWriter } from './s3-archive-writer';
import { recoverStream, spoolStreams } from './spool';
import { StreamRegistry } from './stream-registry';

export interface FirehoseStandinOptions {
  /** Directory for stream definitions and the spool; created if missing. */
  readonly dir: string;
  /** Where objects go: the local S3 (s3rver) client config. */
  readonly s3: S3ClientConfig;
  readonly port?: number;
  readonly region?: string;
  readonly accountId?: string;
  /** Buffering for every stream, overriding each stream's BufferingHints (unset: use the hints). */
  readonly buffer?: BufferLimits;
  /** How long a failing S3 write is retried before going under the error output prefix. Default 30 s. */
  readonly deliveryRetrySeconds?: number;
  /** How long stop() waits for buffered records to reach S3. Default 10 s. */
  readonly stopTimeoutMs?: number;
  readonly onError?: (error: unknown) => void;
}

export interface LocalStreamSpec {
  readonly name: string;
  readonly bucket: string;
  /** Default `events/` (Firehose appends `YYYY/MM/DD/HH/` when the prefix has no timestamp expression). */
  readonly prefix?: string;
  /** Default `errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/`. */
  readonly errorOutputPrefix?: string;
  /** Default GZIP. */
  readonly compression?: 'GZIP' | 'UNCOMPRESSED';
}

export interface FirehoseStandin {
  readonly endpoint: string;
  readonly port: number;
  readonly faults: FaultController;
  readonly region: string;
  readonly accountId: string;
  /** Creates the delivery stream unless it exists (as CreateDeliveryStream would, DirectPut to S3). */
  ensureStream(spec: LocalStreamSpec): Promise<void>;
  /** Seals every stream's buffer now and waits until all of it is in S3. */
  flush(): Promise<void>;
  /** Per stream: objects written, objects written under the error prefix, failed S3 attempts. */
  deliveryStats(): Readonly<Record<string, Readonly<DeliveryStats>>>;
  /** Flushes (up to stopTimeoutMs), then closes; whatever is not in S3 stays spooled for next start. */
  stop(): Promise<void>;
  /** Crash: sockets destroyed, nothing flushed (accepted records remain in the spool on disk). */
  kill(): void;
}

const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

export async function startFirehoseStandin(options: FirehoseStandinOptions): Promise<FirehoseStandin> {
  const region = options.region ?? LOCAL_REGION;
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const spoolDir = join(options.dir, 'spool');
  await mkdir(spoolDir, { recursive: true });
  const registry = await StreamRegistry.open(options.dir, region, accountId);
  const writer = createS3ArchiveWriter(options.s3);
  const streams = new Map<string, DeliveryStream>();

  const openStream = async (name: string): Promise<void> => {
    const dir = streamDirectory(spoolDir, name);
    const { segments, nextSeq } = await recoverStream(dir);
    streams.set(
      name,
      new DeliveryStream(registry.get(name), dir, nextSeq, segments, {
        writer,
        retrySeconds: options.deliveryRetrySeconds ?? 30,
        clock: Date.now,
        ...(options.buffer ? { bufferOverride: options.buffer } : {}),
        ...(options.onError ? { onError: options.onError } : {}),
      }),
    );
  };
  for (const name of registry.names()) await openStream(name);
  for (const orphan of await spoolStreams(spoolDir)) {
    if (!streams.has(orphan))
      options.onError?.(new Error(`spool of unknown stream ${orphan} left in ${spoolDir}`));
  }

  const server = await startAwsJsonServer(
    (faults) => ({
      targetPrefix: 'Firehose_20150804',
      jsonVersion: '1.1',
      maxBodyBytes: MAX_REQUEST_BYTES,
      operations: createFirehoseOperations({
        registry,
        faults,
        clock: Date.now,
        stream: (name) => streams.get(name)!,
        createStream: openStream,
        deleteStream: async (name) => {
          const stream = streams.get(name);
          await stream?.flush();
          await stream?.stop();
          streams.delete(name);
          await registry.delete(name);
          await rm(streamDirectory(spoolDir, name), { recursive: true, force: true });
        },
      }),
      errorFor: (error) => {
        if (error instanceof FirehoseError) return error.toWire();
        options.onError?.(error);
        return firehoseErrors.internal().toWire();
      },
      injectedError: (kind) =>
        (kind === 'down'
          ? firehoseErrors.unavailable()
          : kind === 'throttle'
            ? firehoseErrors.slowDown()
            : firehoseErrors.internal()
        ).toWire(),
      protocolError: (kind, message) => {
        if (kind === 'too-large')
          return new FirehoseError('RequestEntityTooLargeException', message, 413).toWire();
        return new FirehoseError(
          kind === 'serialization' ? 'SerializationException' : 'UnknownOperationException',
          message,
        ).toWire();
      },
    }),
    options.port,
  ).catch(async (error: unknown) => {
    // A start that failed (its port taken) leaves no stream timers or S3 client behind.
    await Promise.all([...streams.values()].map((stream) => stream.stop()));
    writer.destroy();
    throw error;
  });

  let stopped = false;
  return {
    endpoint: server.endpoint,
    port: server.port,
    faults: server.faults,
    region,
    accountId,
    async ensureStream(spec) {
      if (streams.has(spec.name)) return;
      await registry.create(
        {
          DeliveryStreamName: spec.name,
          DeliveryStreamType: 'DirectPut',
          ExtendedS3DestinationConfiguration: {
            RoleARN: `arn:aws:iam::${accountId}:role/firehose-local`,
            BucketARN: `arn:aws:s3:::${spec.bucket}`,
            Prefix: spec.prefix ?? 'events/',
            ...(spec.errorOutputPrefix ? { ErrorOutputPrefix: spec.errorOutputPrefix } : {}),
            CompressionFormat: spec.compression ?? 'GZIP',
          },
        },
        Date.now(),
      );
      await openStream(spec.name);
    },
    async flush() {
      await Promise.all([...streams.values()].map((stream) => stream.flush()));
    },
    deliveryStats: () =>
      Object.fromEntries([...streams].map(([name, stream]) => [name, { ...stream.stats }])),
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      const deadline = AbortSignal.timeout(options.stopTimeoutMs ?? 10_000);
      await Promise.all([...streams.values()].map((stream) => stream.flush(deadline)));
      await Promise.all([...streams.values()].map((stream) => stream.stop()));
      writer.destroy();
    },
    kill() {
      if (stopped) return;
      stopped = true;
      server.kill();
      for (const stream of streams.values()) stream.abandon();
      writer.destroy();
    },
  };
}
