/**
 * One delivery stream at run time: accepted records go into the open segment; the segment is sealed
 * when it reaches the size limit or the interval after its first record; sealed segments are written
 * to S3 one at a time, in order, as one object each (gzip if the stream says so).
 *
 * A failing S3 write is retried with backoff. After `retrySeconds` the object goes under the error
 * output prefix instead (error type `s3-delivery-failed`), retried until it lands or the stand-in
 * stops; either way the segment stays on disk until S3 has the object.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { sleep } from '../../sleep';
import { archiveObjectKey } from './object-key';
import { Segment } from './spool';
import type { StreamDefinition } from './stream-registry';

const gzip = promisify(gzipCallback);

export interface ArchiveWriter {
  /** Writes one object; `signal` aborts the call (the stand-in is stopping). */
  put(bucket: string, key: string, body: Buffer, signal?: AbortSignal): Promise<void>;
}

export interface BufferLimits {
  readonly bytes: number;
  readonly seconds: number;
}

export interface DeliveryStreamDeps {
  readonly writer: ArchiveWriter;
  /** Overrides the stream's own buffering hints (locally: seconds, not the 300 s default). */
  readonly bufferOverride?: BufferLimits;
  readonly retrySeconds: number;
  readonly clock: () => number;
  readonly onError?: (error: unknown) => void;
}

export interface DeliveryStats {
  objects: number;
  errorObjects: number;
  failedAttempts: number;
}

const S3_DELIVERY_FAILED = 's3-delivery-failed';

export class DeliveryStream {
  private current: Segment | undefined;
  private readonly sealed: Segment[] = [];
  private timer: NodeJS.Timeout | undefined;
  private delivering: Promise<void> | undefined;
  private readonly abort = new AbortController();
  readonly stats: DeliveryStats = { objects: 0, errorObjects: 0, failedAttempts: 0 };

  constructor(
    readonly definition: StreamDefinition,
    private readonly streamDir: string,
    private nextSeq: number,
    recovered: readonly Segment[],
    private readonly deps: DeliveryStreamDeps,
  ) {
    this.sealed.push(...recovered);
    if (this.sealed.length > 0) this.kick();
  }

  get limits(): BufferLimits {
    return (
      this.deps.bufferOverride ?? {
        bytes: this.definition.sizeInMBs * 1024 * 1024,
        seconds: this.definition.intervalInSeconds,
      }
    );
  }

  /** Buffers one put's accepted records; resolves once they are on disk. */
  append(records: readonly Buffer[]): Promise<void> {
    if (!this.current) {
      this.current = Segment.create(this.streamDir, this.nextSeq, this.deps.clock());
      this.nextSeq += 1;
      this.timer = setTimeout(() => this.seal(), this.limits.seconds * 1000);
    }
    const written = this.current.append(records);
    if (this.current.bytes >= this.limits.bytes || this.limits.seconds === 0) this.seal();
    return written;
  }

  /** Closes the open segment (if any) and queues it for delivery. */
  seal(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.current) return;
    this.sealed.push(this.current);
    this.current = undefined;
    this.kick();
  }

  /** Seals and waits until every buffered record is in S3 (or `signal` gives up waiting). */
  async flush(signal?: AbortSignal): Promise<void> {
    this.seal();
    // (`delivering` never rejects.) No timer is involved: nothing is left behind to hold the process.
    while (this.delivering && !signal?.aborted) {
      await (signal ? settledOrAborted(this.delivering, signal) : this.delivering);
    }
  }

  /** Stops delivering; segments not yet in S3 stay on disk for the next start. */
  async stop(): Promise<void> {
    this.abort.abort();
    clearTimeout(this.timer);
    await this.current?.seal();
    await this.delivering?.catch(() => undefined);
  }

  /** Crash: nothing more is written or synced. */
  abandon(): void {
    this.abort.abort();
    clearTimeout(this.timer);
    this.current?.abandon();
  }

  private kick(): void {
    if (this.delivering) return;
    this.delivering = this.deliverAll()
      .catch((error: unknown) => {
        if (!this.abort.signal.aborted) this.deps.onError?.(error);
      })
      .finally(() => {
        this.delivering = undefined;
        if (this.sealed.length > 0 && !this.abort.signal.aborted) this.kick();
      });
  }

  private async deliverAll(): Promise<void> {
    while (this.sealed.length > 0 && !this.abort.signal.aborted) {
      const segment = this.sealed[0]!;
      await segment.seal();
      if (segment.bytes > 0) await this.deliver(segment);
      if (this.abort.signal.aborted) return;
      await segment.remove();
      this.sealed.shift();
    }
  }

  private async deliver(segment: Segment): Promise<void> {
    const { definition, deps } = this;
    const raw = segment.content();
    const body = definition.compression === 'GZIP' ? await gzip(raw) : raw;
    const uuid = randomUUID();
    const keyFor = (errorOutputType?: string): string =>
      archiveObjectKey({
        prefix: errorOutputType ? definition.errorOutputPrefix : definition.prefix,
        streamName: definition.name,
        firstArrivalAt: segment.firstArrivalAt,
        uuid,
        compression: definition.compression,
        ...(errorOutputType ? { errorOutputType } : {}),
      });
    const startedAt = deps.clock();
    let toErrorPrefix = false;
    for (let attempt = 1; !this.abort.signal.aborted; attempt += 1) {
      try {
        await deps.writer.put(
          definition.bucket,
          keyFor(toErrorPrefix ? S3_DELIVERY_FAILED : undefined),
          body,
          this.abort.signal,
        );
        if (toErrorPrefix) this.stats.errorObjects += 1;
        else this.stats.objects += 1;
        return;
      } catch (error) {
        this.stats.failedAttempts += 1;
        deps.onError?.(error);
        if (deps.clock() - startedAt >= deps.retrySeconds * 1000) toErrorPrefix = true;
        // Backoff: 100 ms, doubling, at most 5 s.
        await sleep(Math.min(5_000, 100 * 2 ** Math.min(attempt - 1, 6)), this.abort.signal);
      }
    }
  }
}

/** Resolves when `promise` settles or `signal` aborts, whichever comes first; leaves no listener. */
function settledOrAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    promise.then(done, done);
  });
}

export function streamDirectory(spoolDir: string, streamName: string): string {
  return join(spoolDir, streamName);
}
