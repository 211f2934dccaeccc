import { gunzipSync } from 'node:zlib';
import {
  CreateDeliveryStreamCommand,
  FirehoseClient,
  PutRecordBatchCommand,
  PutRecordCommand,
} from '@aws-sdk/client-firehose';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firehoseClientConfig, s3ClientConfig } from '../../local/standins/client-config';
import {
  type FirehoseStandin,
  type FirehoseStandinOptions,
  startFirehoseStandin,
} from '../../local/standins/firehose/server';
import { type S3Standin, startS3Standin } from '../../local/standins/s3/s3-standin';
import { makeTempDir, removeTempDir } from '../support/temp-dir';
import { eventually } from './support/eventually';

const KEY_LAYOUT =
  /^events\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/(?<stream>[\w.-]+)-1-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[0-9a-f-]{36}\.gz$/;

describe('Firehose stand-in delivery to S3', () => {
  let dir: string;
  let s3Standin: S3Standin;
  let s3: S3Client;
  let streamCounter = 0;
  const running: FirehoseStandin[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('standins-firehose-delivery');
    s3Standin = await startS3Standin({ dir: `${dir}/s3`, buckets: ['archive'] });
    s3 = new S3Client(s3ClientConfig(s3Standin.endpoint));
  });

  afterAll(async () => {
    await Promise.all(running.map((firehose) => firehose.stop()));
    s3.destroy();
    await s3Standin.stop();
    await removeTempDir(dir);
  });

  async function startFirehose(
    sub: string,
    options: Partial<FirehoseStandinOptions> = {},
  ): Promise<{ firehose: FirehoseStandin; client: FirehoseClient }> {
    const firehose = await startFirehoseStandin({
      dir: `${dir}/${sub}`,
      s3: s3ClientConfig(s3Standin.endpoint),
      buffer: { seconds: 3600, bytes: 8 * 1024 * 1024 },
      ...options,
    });
    running.push(firehose);
    return {
      firehose,
      client: new FirehoseClient({ ...firehoseClientConfig(firehose.endpoint), maxAttempts: 1 }),
    };
  }

  async function newStream(firehose: FirehoseStandin): Promise<string> {
    streamCounter += 1;
    const name = `stream-${streamCounter}`;
    await firehose.ensureStream({ name, bucket: 'archive' });
    return name;
  }

  async function objects(prefix: string): Promise<{ key: string; content: string }[]> {
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: 'archive', Prefix: prefix }));
    return Promise.all(
      Contents.map(async ({ Key }) => {
        const object = await s3.send(new GetObjectCommand({ Bucket: 'archive', Key: Key! }));
        const bytes = Buffer.from(await object.Body!.transformToByteArray());
        return {
          key: Key!,
          content: Key!.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8'),
        };
      }),
    );
  }

  const ofStream = (stream: string) => async () =>
    (await objects('events/')).filter((o) => KEY_LAYOUT.exec(o.key)?.groups?.stream === stream);

  const lines = (prefix: string, count: number) =>
    Array.from({ length: count }, (_, i) => `{"n":"${prefix}-${i}"}\n`);

  it('writes one gzip object per buffer under events/YYYY/MM/DD/HH/ named by the first record’s arrival', async () => {
    // Prepare
    const { firehose, client } = await startFirehose('layout');
    const stream = await newStream(firehose);
    const before = Math.floor(Date.now() / 1000) * 1000;

    // Act
    await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: stream,
        Records: lines('a', 3).map((l) => ({ Data: Buffer.from(l) })),
      }),
    );
    const after = Date.now();
    await client.send(
      new PutRecordCommand({ DeliveryStreamName: stream, Record: { Data: Buffer.from('{"n":"b"}\n') } }),
    );
    await firehose.flush();
    const written = await ofStream(stream)();

    // Assess
    expect(written).toHaveLength(1);
    const match = KEY_LAYOUT.exec(written[0]!.key)!;
    const [, y, mo, d, h, , y2, mo2, d2, h2, mi, s] = match;
    expect([y, mo, d, h]).toEqual([y2, mo2, d2, h2]);
    const stamp = Date.UTC(Number(y2), Number(mo2) - 1, Number(d2), Number(h2), Number(mi), Number(s));
    expect(stamp).toBeGreaterThanOrEqual(before);
    expect(stamp).toBeLessThanOrEqual(after);
    expect(written[0]!.content).toBe([...lines('a', 3), '{"n":"b"}\n'].join(''));
  });

  it('seals a buffer when it reaches the size limit, keeping every record exactly once and in order', async () => {
    // Prepare
    const { firehose, client } = await startFirehose('by-size', { buffer: { seconds: 3600, bytes: 200 } });
    const stream = await newStream(firehose);
    const sent = lines('s', 60); // ~13 bytes each, 6 per put: a new object every third put or so

    // Act
    for (let i = 0; i < sent.length; i += 6) {
      await client.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: stream,
          Records: sent.slice(i, i + 6).map((l) => ({ Data: Buffer.from(l) })),
        }),
      );
    }
    await firehose.flush();
    const written = await ofStream(stream)();

    // Assess: each object is a contiguous, ordered run of what was sent; together they are all of it.
    const all = sent.join('');
    const runs = written.map((o) => ({ at: all.indexOf(o.content), length: o.content.length }));
    expect(runs.every((run) => run.at >= 0)).toBe(true);
    runs.sort((a, b) => a.at - b.at);
    expect(runs.reduce((end, run) => (run.at === end ? end + run.length : -1), 0)).toBe(all.length);
    expect(written.length).toBeGreaterThan(1);
  });

  it('delivers a buffer once its interval has passed, without a flush', async () => {
    // Prepare
    const { firehose, client } = await startFirehose('by-time', {
      buffer: { seconds: 0.3, bytes: 8 * 1024 * 1024 },
    });
    const stream = await newStream(firehose);

    // Act
    await client.send(
      new PutRecordCommand({ DeliveryStreamName: stream, Record: { Data: Buffer.from('{"t":1}\n') } }),
    );
    const written = await eventually(async () => {
      const found = await ofStream(stream)();
      expect(found).toHaveLength(1);
      return found;
    }, 5_000);

    // Assess
    expect(written[0]!.content).toBe('{"t":1}\n');
  });

  it('flushes buffered records into S3 on a graceful stop', async () => {
    // Prepare
    const { firehose, client } = await startFirehose('graceful');
    const stream = await newStream(firehose);
    await client.send(
      new PutRecordCommand({ DeliveryStreamName: stream, Record: { Data: Buffer.from('{"g":1}\n') } }),
    );

    // Act
    await firehose.stop();

    // Assess
    expect((await ofStream(stream)()).map((o) => o.content)).toEqual(['{"g":1}\n']);
  });

  it('delivers records accepted before a crash when it starts again on the same directory', async () => {
    // Prepare
    const { firehose, client } = await startFirehose('crash');
    const stream = await newStream(firehose);
    await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: stream,
        Records: lines('c', 5).map((l) => ({ Data: Buffer.from(l) })),
      }),
    );

    // Act
    firehose.kill();
    const { firehose: restarted } = await startFirehose('crash');
    await restarted.flush();

    // Assess
    expect((await ofStream(stream)()).map((o) => o.content)).toEqual([lines('c', 5).join('')]);
  });

  it('stops promptly while S3 hangs, keeping the records spooled for the next start', async () => {
    // Prepare: S3 answers after 20 s; stop() may wait 300 ms for it.
    const s3HangMs = 20_000;
    const { firehose, client } = await startFirehose('stop-hung', { stopTimeoutMs: 300 });
    const stream = await newStream(firehose);
    s3Standin.faults.set({ delayMs: s3HangMs, operations: ['PutObject'] });
    await client.send(
      new PutRecordCommand({ DeliveryStreamName: stream, Record: { Data: Buffer.from('{"h":1}\n') } }),
    );
    const started = Date.now();

    // Act
    await firehose.stop();
    const stopMs = Date.now() - started;
    s3Standin.faults.reset();
    const { firehose: restarted } = await startFirehose('stop-hung');
    await restarted.flush();

    // Assess: it did not wait for S3 (well under the hang; the 30 s test timeout is above it).
    expect(stopMs).toBeLessThan(s3HangMs / 2);
    expect((await ofStream(stream)()).map((o) => o.content)).toEqual(['{"h":1}\n']);
  });

  it('writes under the error output prefix when S3 keeps failing past the retry window', async () => {
    // Prepare
    const { firehose, client } = await startFirehose('errors', { deliveryRetrySeconds: 0.2 });
    const stream = await newStream(firehose);
    s3Standin.faults.set({ errorRate: 1, operations: ['PutObject'] });
    await client.send(
      new PutRecordCommand({ DeliveryStreamName: stream, Record: { Data: Buffer.from('{"e":1}\n') } }),
    );

    // Act
    const delivering = firehose.flush();
    await eventually(
      () => expect(firehose.deliveryStats()[stream]!.failedAttempts).toBeGreaterThanOrEqual(3),
      5_000,
    );
    s3Standin.faults.reset();
    await delivering;
    const { Contents = [] } = await s3.send(
      new ListObjectsV2Command({ Bucket: 'archive', Prefix: 'errors/' }),
    );
    const keys = Contents.map((c) => c.Key!).filter((key) => key.includes(`/${stream}-1-`));

    // Assess
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(
      /^errors\/s3-delivery-failed\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/stream-\d+-1-[\d-]+-[0-9a-f-]{36}\.gz$/,
    );
    expect(await ofStream(stream)()).toEqual([]);
    expect(firehose.deliveryStats()[stream]).toMatchObject({ objects: 0, errorObjects: 1 });
  });

  it('fails the injected share of records with FailedPutCount and archives exactly the accepted ones', async () => {
    // Prepare
    const { firehose, client } = await startFirehose('failed-put');
    const stream = await newStream(firehose);
    const sent = lines('f', 40);

    // Act
    firehose.faults.set({ failedPutRate: 1 });
    const allFailed = await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: stream,
        Records: sent.slice(0, 3).map((l) => ({ Data: Buffer.from(l) })),
      }),
    );
    firehose.faults.set({ failedPutRate: 0.5, seed: 3 });
    const someFailed = await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: stream,
        Records: sent.map((l) => ({ Data: Buffer.from(l) })),
      }),
    );
    firehose.faults.reset();
    await firehose.flush();
    const written = (await ofStream(stream)()).map((o) => o.content).join('');

    // Assess
    expect(allFailed.FailedPutCount).toBe(3);
    expect(allFailed.RequestResponses).toEqual(
      Array.from({ length: 3 }, () => ({
        ErrorCode: 'ServiceUnavailableException',
        ErrorMessage: 'Slow down.',
      })),
    );
    expect(someFailed.FailedPutCount).toBeGreaterThan(5);
    expect(someFailed.FailedPutCount).toBeLessThan(35);
    const accepted = sent.filter((_, i) => someFailed.RequestResponses![i]!.RecordId !== undefined);
    expect(accepted).toHaveLength(40 - someFailed.FailedPutCount!);
    expect(written).toBe(accepted.join(''));
    expect(firehose.faults.stats().failedRecords).toBe(3 + someFailed.FailedPutCount!);
  });

  it('writes an uncompressed stream created through the API without .gz', async () => {
    // Prepare
    const { firehose, client } = await startFirehose('uncompressed');
    await client.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'plain',
        ExtendedS3DestinationConfiguration: {
          RoleARN: 'arn:aws:iam::000000000000:role/r',
          BucketARN: 'arn:aws:s3:::archive',
          Prefix: 'plain/!{timestamp:yyyy}/',
          ErrorOutputPrefix: 'plain-errors/',
          CompressionFormat: 'UNCOMPRESSED',
        },
      }),
    );

    // Act
    await client.send(
      new PutRecordCommand({ DeliveryStreamName: 'plain', Record: { Data: Buffer.from('raw\n') } }),
    );
    await firehose.flush();
    const written = await objects('plain/');

    // Assess
    expect(written.map((o) => o.content)).toEqual(['raw\n']);
    expect(written[0]!.key).toMatch(/^plain\/\d{4}\/plain-1-\d{4}(-\d{2}){5}-[0-9a-f-]{36}$/);
  });

  it('keeps streams created through the API across a restart', async () => {
    // Prepare
    const { firehose, client } = await startFirehose('restart-streams');
    const stream = await newStream(firehose);
    await firehose.stop();
    client.destroy();

    // Act
    const { firehose: restarted, client: again } = await startFirehose('restart-streams');
    await again.send(
      new PutRecordCommand({ DeliveryStreamName: stream, Record: { Data: Buffer.from('{"r":1}\n') } }),
    );
    await restarted.flush();

    // Assess
    expect((await ofStream(stream)()).map((o) => o.content)).toEqual(['{"r":1}\n']);
  });
});
