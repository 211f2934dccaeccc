/**
 * The SQS journal's compaction when the disk says no: a failed rename (or directory fsync) must
 * leave a journal that still holds every record written, before and after the failure.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { JOURNAL_FILE, Journal, readJournal } from '../../local/standins/sqs/journal';
import type { JournalRecord } from '../../local/standins/sqs/journal-records';
import { makeTempDir, removeTempDir } from '../support/temp-dir';
import { waitFor } from '../support/wait';

/** Faults armed by the tests: how many of the next calls fail. */
const injected = vi.hoisted(() => ({
  renames: 0,
  directorySyncsAfterRename: 0,
  renamed: false,
  /** Directory fsyncs that succeeded. */
  directorySyncs: 0,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    rename: async (from: string, to: string) => {
      if (injected.renames > 0 && String(from).endsWith('.next')) {
        injected.renames -= 1;
        throw Object.assign(new Error(`EIO: injected failure, rename '${from}'`), { code: 'EIO' });
      }
      await actual.rename(from, to);
      injected.renamed = true;
    },
  };
});

vi.mock('../../local/standins/storage/sync-directory', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../local/standins/storage/sync-directory')>();
  return {
    ...actual,
    syncDirectory: async (path: string) => {
      // Only the fsync that makes a compaction's rename durable (the new file's own open comes first).
      if (injected.directorySyncsAfterRename > 0 && injected.renamed) {
        injected.directorySyncsAfterRename -= 1;
        throw Object.assign(new Error(`EIO: injected failure, fsync '${path}'`), { code: 'EIO' });
      }
      await actual.syncDirectory(path);
      injected.directorySyncs += 1;
    },
  };
});

const put = (n: number): JournalRecord => ({
  op: 'put',
  queue: 'events',
  message: {
    key: `m${n}`,
    messageId: `m${n}`,
    body: `body ${n}`,
    attributes: {},
    systemAttributes: {},
    sentAt: n,
    receiveCount: 0,
    visibleAt: n,
  },
});
const remove = (n: number): JournalRecord => ({ op: 'delete', queue: 'events', key: `m${n}` });

/** The live messages a list of records leaves (what a restart rebuilds). */
function replay(records: readonly JournalRecord[]): string[] {
  const live = new Set<string>();
  for (const record of records) {
    if (record.op === 'put') live.add(record.message.key);
    else if (record.op === 'delete') live.delete(record.key);
  }
  return [...live].sort();
}

/** A journal over a tiny store of live messages: its snapshot is one `put` per live message. */
async function openJournal(dir: string, compactAtBytes: number) {
  const live = new Map<string, JournalRecord>();
  const errors: unknown[] = [];
  const journal = await Journal.open(dir, () => [...live.values()], {
    compactAtBytes,
    onError: (error) => errors.push(error),
  });
  const write = (record: JournalRecord) => {
    if (record.op === 'put') live.set(record.message.key, record);
    else if (record.op === 'delete') live.delete(record.key);
    journal.write(record);
  };
  return { journal, write, live: () => [...live.keys()].sort(), errors };
}

/** Waits for the compaction a write queued to report its (injected) failure. */
const failureReported = (errors: unknown[]) =>
  waitFor('the compaction to report its failure', async () => errors.length === 1);

describe('Class: Journal (compaction failures)', () => {
  let root: string;

  beforeAll(async () => {
    root = await makeTempDir('standins-sqs-journal');
  });

  afterAll(async () => {
    await removeTempDir(root);
  });

  it('keeps writing to the journal itself when a compaction cannot rename its file, and compacts later', async () => {
    // Prepare: sends and deletes enough to ask for a compaction, whose rename fails.
    const dir = join(root, 'rename');
    const { journal, write, live, errors } = await openJournal(dir, 1_000);
    injected.renames = 1;
    for (let n = 1; n <= 8; n += 1) {
      write(put(n));
      write(remove(n));
    }
    await journal.durable();
    await failureReported(errors);

    // Act: a message sent after the failed compaction, answered once durable.
    write(put(100));
    await journal.durable();
    const afterFailure = replay(await readJournal(dir));
    // Enough traffic for the next compaction, which succeeds.
    for (let n = 200; n < 220; n += 1) {
      write(put(n));
      write(remove(n));
    }
    await journal.durable();
    await waitFor('a compaction', async () => journal.stats.snapshotBytes > 0);
    await journal.close();

    // Assess
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/injected failure, rename/);
    expect(afterFailure).toEqual(['m100']);
    expect(replay(await readJournal(dir))).toEqual(live());
    expect(journal.stats.snapshotBytes).toBeGreaterThan(0);
  });

  it('survives a failed directory fsync after the rename, syncing the directory again before the next answer', async () => {
    // Prepare
    const dir = join(root, 'fsync');
    const { journal, write, live, errors } = await openJournal(dir, 1);
    injected.renamed = false;
    injected.directorySyncsAfterRename = 1;

    // Act: the compaction's rename lands, its directory fsync fails; then one more write.
    write(put(1));
    await failureReported(errors);
    const syncsAfterFailure = injected.directorySyncs;
    write(put(2));
    await journal.durable();
    const syncsForTheAnswer = injected.directorySyncs - syncsAfterFailure;
    await journal.close();
    injected.renamed = false;

    // Assess
    expect(errors.map(String)).toEqual([expect.stringMatching(/injected failure, fsync/)]);
    expect(syncsForTheAnswer).toBe(1);
    expect(replay(await readJournal(dir))).toEqual(live());
    expect((await readFile(join(dir, JOURNAL_FILE), 'utf8')).trim().split('\n')).toHaveLength(2);
  });
});
