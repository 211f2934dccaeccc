/**
 * An append-only file with group commit: writers append without waiting, and `sync()` resolves once
 * everything appended before the call is written and fdatasync'd. Concurrent callers of `sync()` share
 * one fdatasync, so a burst of a hundred sends costs a handful of disk flushes, not a hundred.
 *
 * One flusher runs at a time and is the only code that touches the file descriptor, so appends keep
 * their order on disk.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDirectory } from './sync-directory';

export interface AppendLogStats {
  /** write(2) calls (each carries every chunk appended since the previous one). */
  readonly writes: number;
  /** fdatasync(2) calls. */
  readonly syncs: number;
  /** Bytes handed to the file so far (including the file's size when it was opened). */
  readonly bytes: number;
}

export interface AppendLogOptions {
  /** 'append' keeps existing content; 'truncate' starts an empty file (compaction, new segments). */
  readonly mode: 'append' | 'truncate';
}

export class AppendLogFailedError extends Error {
  constructor(path: string, cause: unknown) {
    super(`append log ${path} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'AppendLogFailedError';
  }
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

export class AppendLog {
  private handle: FileHandle | undefined;
  private pending: Buffer[] = [];
  private waiters: Waiter[] = [];
  private flushing = false;
  private failure: Error | undefined;
  private closed = false;
  private writes = 0;
  private syncs = 0;
  /** Bytes written to the file (with its size when opened). */
  private bytes = 0;
  /** Bytes appended and not yet written (queued or being written): kept as a sum, read per append. */
  private unwrittenBytes = 0;
  private readonly opening: Promise<void>;

  /** Opens lazily: appends made before the file is open are simply written by the first flush. */
  constructor(
    readonly path: string,
    options: AppendLogOptions = { mode: 'append' },
  ) {
    this.opening = this.openFile(options.mode);
    // A failed open is reported through sync()/close(); keep it from being an unhandled rejection.
    this.opening.catch(() => undefined);
  }

  private async openFile(mode: AppendLogOptions['mode']): Promise<void> {
    try {
      this.handle = await open(this.path, mode === 'append' ? 'a' : 'w');
      const { size } = await this.handle.stat();
      this.bytes += size;
      // A new directory entry is only durable once the directory itself is synced.
      await syncDirectory(dirname(this.path));
    } catch (error) {
      this.fail(error);
    }
  }

  get stats(): AppendLogStats {
    return { writes: this.writes, syncs: this.syncs, bytes: this.size };
  }

  /** Bytes appended so far, written or not (read on every append by the SQS journal). */
  get size(): number {
    return this.bytes + this.unwrittenBytes;
  }

  /** Queues bytes for writing; they reach the file on the next flush, in append order. */
  append(data: Buffer | string): void {
    if (this.closed) throw new AppendLogFailedError(this.path, new Error('closed'));
    if (this.failure) throw this.failure;
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    this.pending.push(chunk);
    this.unwrittenBytes += chunk.length;
    this.schedule();
  }

  /** Resolves when everything appended so far is on disk (written and fdatasync'd). */
  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Flushes, syncs and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync();
    this.closed = true;
    await this.handle?.close();
  }

  /**
   * Simulates a crash: whatever was not yet handed to the kernel is dropped and nothing more is
   * synced. Data already written survives, as it would survive a killed process (not a power cut).
   */
  abandon(): void {
    this.closed = true;
    for (const chunk of this.pending) this.unwrittenBytes -= chunk.length;
    this.pending = [];
    const error = new AppendLogFailedError(this.path, new Error('abandoned'));
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    void this.opening.then(() => this.handle?.close()).catch(() => undefined);
  }

  private schedule(): void {
    if (this.flushing) return;
    this.flushing = true;
    // Let the current tick's appends join this flush before it starts.
    setImmediate(() => void this.flushLoop());
  }

  private async flushLoop(): Promise<void> {
    await this.opening;
    while (!this.failure && (this.pending.length > 0 || this.waiters.length > 0)) {
      const chunks = this.pending;
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      try {
        const handle = this.handle;
        if (!handle) throw new Error('file is not open');
        if (chunks.length > 0) {
          const written = await writeAll(handle, chunks);
          this.writes += 1;
          this.bytes += written;
          this.unwrittenBytes -= written;
        }
        if (waiters.length > 0) {
          await handle.datasync();
          this.syncs += 1;
        }
        for (const waiter of waiters) waiter.resolve();
      } catch (error) {
        this.fail(error);
        for (const waiter of waiters) waiter.reject(this.failure ?? new Error(String(error)));
      }
    }
    if (this.failure) for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure);
    this.flushing = false;
    // Appends that raced with the end of the loop.
    if (!this.failure && (this.pending.length > 0 || this.waiters.length > 0)) this.schedule();
  }

  private fail(error: unknown): void {
    if (this.closed && !this.failure) return;
    this.failure ??= new AppendLogFailedError(this.path, error);
  }
}

/** Writes the chunks in order; returns how many bytes that was. */
async function writeAll(handle: FileHandle, chunks: Buffer[]): Promise<number> {
  let buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const total = buffer.length;
  while (buffer.length > 0) {
    const { bytesWritten } = await handle.write(buffer, 0, buffer.length, null);
    buffer = buffer.subarray(bytesWritten);
  }
  return total;
}
