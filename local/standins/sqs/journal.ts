/**
 * The SQS stand-in's durable store: `<dir>/journal.ndjson`, one JournalRecord per line.
 *
 * - Every record is appended in the order it was applied to memory. Callers that must not answer
 *   before their change is on disk (sends, deletes, queue changes) await `durable()`, which group
 *   commits: all records appended so far share one fdatasync.
 * - Opening replays the file (a torn last line from a crash is ignored) and then compacts: the
 *   current state is written as a fresh journal (`journal.ndjson.next`, fsync'd, renamed over the
 *   old one, directory fsync'd). The same happens while running once the file outgrows
 *   max(compactAtBytes, 2 × the last snapshot). Until the rename, the old file stays the journal and
 *   gets every record; a compaction that fails leaves it so (and is tried again later).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AppendLog } from '../storage/append-log';
import { syncDirectory } from '../storage/sync-directory';
import type { JournalRecord } from './journal-records';

export const JOURNAL_FILE = 'journal.ndjson';
const DEFAULT_COMPACT_AT_BYTES = 64 * 1024 * 1024;

export class CorruptJournalError extends Error {
  constructor(path: string, line: number) {
    super(`${path}: line ${line} is not a valid journal record (only a torn last line is tolerated)`);
    this.name = 'CorruptJournalError';
  }
}

/** Reads every complete record; a torn final line (crash mid-append) is dropped, anything else throws. */
export async function readJournal(dir: string): Promise<JournalRecord[]> {
  const path = join(dir, JOURNAL_FILE);
  if (!existsSync(path)) return [];
  const text = await readFile(path, 'utf8');
  const lines = text.split('\n');
  const records: JournalRecord[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    // What follows the last newline is empty, or an append the crash cut short: not a record.
    if (index === lines.length - 1) break;
    const line = lines[index]!;
    if (line === '') continue;
    try {
      records.push(JSON.parse(line) as JournalRecord);
    } catch {
      throw new CorruptJournalError(path, index + 1);
    }
  }
  return records;
}

export interface JournalOptions {
  readonly compactAtBytes?: number;
  /** Called if a compaction fails (the journal carries on with the file it has, which is whole). */
  readonly onError?: (error: unknown) => void;
}

export class Journal {
  /** The journal itself: the file a restart replays, holding every record written. */
  private log!: AppendLog;
  /** While a compaction runs: the file that replaces `log` once renamed over it. */
  private next: AppendLog | undefined;
  private compaction: Promise<void> | undefined;
  private compactionQueued = false;
  private closed = false;
  /** A compaction renamed its file but the directory fsync failed: retried before the next sync. */
  private directoryUnsynced = false;
  private snapshotBytes = 0;
  /** After a failed compaction, the size at which to try again (not on every write). */
  private retryCompactionAtBytes = 0;
  private readonly path: string;
  private readonly nextPath: string;
  private readonly compactAtBytes: number;

  private constructor(
    private readonly dir: string,
    private readonly snapshot: () => Iterable<JournalRecord>,
    private readonly options: JournalOptions,
  ) {
    this.path = join(dir, JOURNAL_FILE);
    this.nextPath = `${this.path}.next`;
    this.compactAtBytes = options.compactAtBytes ?? DEFAULT_COMPACT_AT_BYTES;
  }

  /** Opens the journal in `dir`, writing `snapshot()` (the replayed state) as its new content. */
  static async open(
    dir: string,
    snapshot: () => Iterable<JournalRecord>,
    options: JournalOptions = {},
  ): Promise<Journal> {
    await mkdir(dir, { recursive: true });
    // A leftover .next is a compaction that crashed before its rename: the journal itself is whole.
    await rm(join(dir, `${JOURNAL_FILE}.next`), { force: true });
    const journal = new Journal(dir, snapshot, options);
    journal.compact();
    await journal.compaction;
    return journal;
  }

  write(record: JournalRecord): void {
    const line = Buffer.from(`${JSON.stringify(record)}\n`);
    this.log.append(line);
    if (this.next) {
      try {
        this.next.append(line);
      } catch {
        // The next file has failed: its compaction fails too, and `log` has the record.
      }
    }
    if (!this.compaction && !this.compactionQueued && this.log.size > this.compactionThreshold()) {
      this.compactionQueued = true;
      setImmediate(() => {
        this.compactionQueued = false;
        this.compact();
      });
    }
  }

  /** Resolves once every record written so far is on disk, in the file a restart replays. */
  durable(): Promise<void> {
    const compaction = this.compaction;
    // During a compaction records go to both files; which one is the journal is settled by the
    // rename, so wait for it (its failure is not ours: `log` then is still the journal).
    return compaction ? compaction.catch(() => undefined).then(() => this.syncLog()) : this.syncLog();
  }

  get stats(): { readonly bytes: number; readonly syncs: number; readonly snapshotBytes: number } {
    return { bytes: this.log.stats.bytes, syncs: this.log.stats.syncs, snapshotBytes: this.snapshotBytes };
  }

  async close(): Promise<void> {
    this.closed = true; // a compaction queued by the last writes does not start any more
    await this.compaction?.catch(() => undefined);
    await this.log.close();
  }

  /** Crash simulation: unwritten records are lost, nothing more is synced. */
  abandon(): void {
    this.closed = true;
    this.log.abandon();
    this.next?.abandon();
  }

  private async syncLog(): Promise<void> {
    if (this.directoryUnsynced) {
      await syncDirectory(this.dir);
      this.directoryUnsynced = false;
    }
    await this.log.sync();
  }

  private compactionThreshold(): number {
    return Math.max(this.compactAtBytes, 2 * this.snapshotBytes, this.retryCompactionAtBytes);
  }

  /**
   * Writes the current state to a new file and renames it over the journal. Until the rename has
   * succeeded the journal stays the file of record and keeps getting every record; the new file
   * gets them too, after its snapshot. A failure before the rename leaves the journal as it was.
   */
  private compact(): void {
    if (this.compaction || this.closed) return;
    const next = new AppendLog(this.nextPath, { mode: 'truncate' });
    let bytes = 0;
    for (const record of this.snapshot()) {
      const line = Buffer.from(`${JSON.stringify(record)}\n`);
      bytes += line.length;
      next.append(line);
    }
    this.next = next;
    this.compaction = (async () => {
      try {
        await next.sync();
        await rename(this.nextPath, this.path);
      } catch (error) {
        this.next = undefined;
        next.abandon();
        await rm(this.nextPath, { force: true }).catch(() => undefined);
        // (At open there is no journal to carry on with: open fails.)
        this.retryCompactionAtBytes = (this.log as AppendLog | undefined)?.stats.bytes ?? 0;
        this.retryCompactionAtBytes += this.compactAtBytes;
        throw error;
      }
      // Renamed: the new file is the journal. Records written from here on go to it alone.
      const previous = this.log as AppendLog | undefined;
      this.log = next;
      this.next = undefined;
      this.snapshotBytes = bytes;
      this.retryCompactionAtBytes = 0;
      await previous?.close().catch(() => undefined);
      try {
        await syncDirectory(this.dir);
      } catch (error) {
        this.directoryUnsynced = true;
        throw error;
      }
    })();
    this.compaction
      .catch((error: unknown) => this.options.onError?.(error))
      .finally(() => {
        this.compaction = undefined;
      });
  }
}
