/**
 * One delivery stream with a writer of our own (no S3): what flush() leaves behind once it is done.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ArchiveWriter, DeliveryStream } from '../../local/standins/firehose/delivery-stream';
import type { StreamDefinition } from '../../local/standins/firehose/stream-registry';
import { makeTempDir, removeTempDir } from '../support/temp-dir';

const definition: StreamDefinition = {
  name: 'unit',
  arn: 'arn:aws:firehose:us-east-1:000000000000:deliverystream/unit',
  createdAt: 0,
  roleArn: 'arn:aws:iam::000000000000:role/r',
  bucketArn: 'arn:aws:s3:::archive',
  bucket: 'archive',
  prefix: 'events/',
  errorOutputPrefix: 'errors/',
  sizeInMBs: 5,
  intervalInSeconds: 300,
  compression: 'UNCOMPRESSED',
};

describe('Class: DeliveryStream', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir('standins-delivery-stream');
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  afterAll(async () => {
    await removeTempDir(dir);
  });

  it.each([
    ['without a signal', undefined],
    ['with a signal', new AbortController().signal],
  ])('leaves no timer behind after a flush %s (nothing keeps the process alive)', async (_, signal) => {
    // Prepare: only timers are faked, so file I/O runs as usual and every timer can be counted.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const objects: string[] = [];
    const writer: ArchiveWriter = {
      put: async (_bucket, _key, body) => void objects.push(body.toString('utf8')),
    };
    const streamDir = join(dir, signal ? 'with-signal' : 'without-signal');
    await mkdir(streamDir, { recursive: true });
    const stream = new DeliveryStream(definition, streamDir, 0, [], {
      writer,
      retrySeconds: 30,
      clock: Date.now,
    });
    await stream.append([Buffer.from('{"n":1}\n')]);

    // Act
    await stream.flush(signal);

    // Assess
    expect(objects).toEqual(['{"n":1}\n']);
    expect(vi.getTimerCount()).toBe(0);
    await stream.stop();
  });

  it('stops waiting when its signal aborts, while a delivery hangs', async () => {
    // Prepare
    const writer: ArchiveWriter = {
      put: (_bucket, _key, _body, signal) =>
        new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')))),
    };
    await mkdir(join(dir, 'hanging'), { recursive: true });
    const stream = new DeliveryStream(definition, join(dir, 'hanging'), 0, [], {
      writer,
      retrySeconds: 30,
      clock: Date.now,
    });
    await stream.append([Buffer.from('{"n":2}\n')]);
    const giveUp = new AbortController();

    // Act
    const flushing = stream.flush(giveUp.signal);
    giveUp.abort();

    // Assess
    await expect(flushing).resolves.toBeUndefined();
    await stream.stop();
  });
});
