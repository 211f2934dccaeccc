import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppendLog } from '../../local/standins/storage/append-log';
import { makeTempDir, removeTempDir } from '../support/temp-dir';

describe('Class: AppendLog', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir('standins-append-log');
  });

  afterAll(async () => {
    await removeTempDir(dir);
  });

  describe('Method: sync', () => {
    it('lets many concurrent writers share a few fdatasyncs (group commit)', async () => {
      // Prepare
      const log = new AppendLog(join(dir, 'group.log'));

      // Act: 200 writers each append and wait for durability, all at once.
      await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          log.append(`record ${i}\n`);
          await log.sync();
        }),
      );
      await log.close();

      // Assess
      const lines = (await readFile(join(dir, 'group.log'), 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(200);
      expect(log.stats.syncs).toBeGreaterThanOrEqual(1);
      expect(log.stats.syncs).toBeLessThan(20);
    });

    it('keeps appends in the order they were made', async () => {
      // Prepare
      const log = new AppendLog(join(dir, 'order.log'));

      // Act
      for (let i = 0; i < 1_000; i += 1) log.append(`${i}\n`);
      await log.close();

      // Assess
      const lines = (await readFile(join(dir, 'order.log'), 'utf8')).trim().split('\n').map(Number);
      expect(lines).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
    });
  });

  describe('Method: abandon', () => {
    it('loses what was not yet written and rejects waiting syncs, as a crash would', async () => {
      // Prepare
      const path = join(dir, 'crash.log');
      const log = new AppendLog(path);
      log.append('kept\n');
      await log.sync();

      // Act
      log.append('lost\n');
      const waiting = log.sync();
      log.abandon();

      // Assess
      await expect(waiting).rejects.toThrow('abandoned');
      expect(await readFile(path, 'utf8')).toBe('kept\n');
    });
  });

  describe('Getter: stats', () => {
    it('counts the bytes handed to it, written or not, from the size of the file it opened', async () => {
      // Prepare: a file with 4 bytes already in it.
      const path = join(dir, 'stats.log');
      const first = new AppendLog(path);
      first.append('one\n');
      await first.close();
      const log = new AppendLog(path);
      await log.sync();

      // Act
      log.append('two\n');
      log.append(Buffer.from('three\n'));
      const beforeWrite = log.stats.bytes;
      await log.sync();
      const afterWrite = log.stats.bytes;
      log.append('lost\n');
      log.abandon();
      const afterCrash = log.stats.bytes;

      // Assess
      expect([beforeWrite, afterWrite, afterCrash]).toEqual([14, 14, 14]);
      expect(await readFile(path, 'utf8')).toBe('one\ntwo\nthree\n');
    });
  });

  describe('Constructor: mode', () => {
    it('appends to an existing file, or truncates it when asked', async () => {
      // Prepare
      const path = join(dir, 'modes.log');
      const first = new AppendLog(path);
      first.append('one\n');
      await first.close();

      // Act
      const appending = new AppendLog(path, { mode: 'append' });
      appending.append('two\n');
      await appending.close();
      const afterAppend = await readFile(path, 'utf8');
      const truncating = new AppendLog(path, { mode: 'truncate' });
      truncating.append('three\n');
      await truncating.close();

      // Assess
      expect(afterAppend).toBe('one\ntwo\n');
      expect(await readFile(path, 'utf8')).toBe('three\n');
    });
  });
});
