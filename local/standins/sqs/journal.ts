/**
 * The SQS stand-in's durable store: `<dir>/journal.ndjson`, one JournalRecord per line.
 *
 * - Every record is appended in the order it was applied to memory. Callers that must not answer
 *   before their change is on disk (sends, deletes, queue changes) await `durable()`, which group
 *   commits: all records appended so far share one fdatasync.
 * - Opening replays the file (a torn last line from a crash is ignored) and then compacts: the
 *   current state is written as a fresh journal (`journal.ndjson.next`, fsync'd, renamed over the
 *   old one, directory fsync'd). The same happens while running once the file outgrows
 *   max(compactAtBytes, 2 × the last snapshot).
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
  /** Called if compaction fails (the journal keeps appending to the file it has). */
  readonly onError?: (error: unknown) => void;
}

export class Journal {
  private log!: AppendLog;
  private compaction: Promise<void> | undefined;
  private compactionQueued = false;
  private snapshotBytes = 0;
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
    this.log.append(`${JSON.stringify(record)}\n`);
    if (!this.compaction && !this.compactionQueued && this.log.stats.bytes > this.compactionThreshold()) {
      this.compactionQueued = true;
      setImmediate(() => {
        this.compactionQueued = false;
        this.compact();
      });
    }
  }

  /** Resolves once every record written so far is on disk. */
  durable(): Promise<void> {
    const log = this.log;
    const compaction = this.compaction;
    // Records written during a compaction go to the new file, which only counts once renamed.
    return compaction ? compaction.then(() => log.sync()) : log.sync();
  }

  get stats(): { readonly bytes: number; readonly syncs: number; readonly snapshotBytes: number } {
    return { bytes: this.log.stats.bytes, syncs: this.log.stats.syncs, snapshotBytes: this.snapshotBytes };
  }

  async close(): Promise<void> {
    await this.compaction;
    await this.log.close();
  }

  /** Crash simulation: unwritten records are lost, nothing more is synced. */
  abandon(): void {
    this.log.abandon();
  }

  private compactionThreshold(): number {
    return Math.max(this.compactAtBytes, 2 * this.snapshotBytes);
  }

  /** Swaps to a new file holding the current state; later writes follow the snapshot in it. */
  private compact(): void {
    if (this.compaction) return;
    const previous = this.log as AppendLog | undefined;
    const next = new AppendLog(this.nextPath, { mode: 'truncate' });
    let bytes = 0;
    for (const record of this.snapshot()) {
      const line = Buffer.from(`${JSON.stringify(record)}\n`);
      bytes += line.length;
      next.append(line);
    }
    this.log = next;
    this.compaction = (async () => {
      // What was acknowledged from the old file stays durable there until the rename.
      await previous?.close();
      await next.sync();
      await rename(this.nextPath, this.path);
      await syncDirectory(this.dir);
      this.snapshotBytes = bytes;
    })();
    this.compaction
      .catch((error: unknown) => this.options.onError?.(error))
      .finally(() => {
        this.compaction = undefined;
      });
  }
}
