import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrames, encodeFrame, recoverStream, Segment } from '../../local/standins/firehose/spool';
import { makeTempDir, removeTempDir } from '../support/temp-dir';

describe('Function: decodeFrames', () => {
  it('returns every whole frame and stops at a torn last one', () => {
    // Prepare
    const file = Buffer.concat([encodeFrame(Buffer.from('a\n')), encodeFrame(Buffer.from('b\n'))]);
    const torn = Buffer.concat([file, encodeFrame(Buffer.from('c\n')).subarray(0, 9)]);

    // Act
    const frames = decodeFrames(torn).map(String);

    // Assess
    expect(frames).toEqual(['a\n', 'b\n']);
  });

  it('stops at a frame whose checksum does not match', () => {
    // Prepare
    const good = encodeFrame(Buffer.from('good\n'));
    const bad = encodeFrame(Buffer.from('bad!\n'));
    const at = bad.length - 2;
    bad.writeUInt8(bad.readUInt8(at) ^ 0xff, at);

    // Act
    const frames = decodeFrames(Buffer.concat([good, bad, encodeFrame(Buffer.from('after\n'))])).map(String);

    // Assess
    expect(frames).toEqual(['good\n']);
  });
});

describe('Function: recoverStream', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir('standins-spool');
  });

  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('recovers written segments oldest first, with their arrival time, and continues their numbering', async () => {
    // Prepare
    const first = Segment.create(dir, 7, 1_700_000_000_000);
    await first.append([Buffer.from('x\n'), Buffer.from('y\n')]);
    await first.seal();
    const second = Segment.create(dir, 8, 1_700_000_001_000);
    await second.append([Buffer.from('z\n')]);
    await second.seal();
    await writeFile(join(dir, '000000000009-1700000002000.seg'), ''); // created, never written

    // Act
    const { segments, nextSeq } = await recoverStream(dir);

    // Assess
    expect(segments.map((s) => [s.seq, s.firstArrivalAt, s.content().toString()])).toEqual([
      [7, 1_700_000_000_000, 'x\ny\n'],
      [8, 1_700_000_001_000, 'z\n'],
    ]);
    expect(nextSeq).toBe(10);
  });
});
