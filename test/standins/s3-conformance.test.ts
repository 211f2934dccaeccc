/**
 * S3 conformance for what the project relies on (the archive layout, gzip objects, listing by
 * prefix), through @aws-sdk/client-s3. Local: s3rver behind the fault proxy. AWS: an existing bucket
 * (FIREHOSE_CONFORMANCE_BUCKET), under a prefix unique to the run, deleted afterwards.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConformanceTarget, conformanceTarget } from './support/conformance-target';
import { rejection } from './support/rejection';

describe('S3 conformance', () => {
  let target: ConformanceTarget;
  let s3: S3Client;
  let bucket: string;
  let root: string;

  beforeAll(async () => {
    target = await conformanceTarget('s3');
    s3 = new S3Client({ ...target.s3, maxAttempts: 1 });
    bucket = target.bucket();
    root = `${target.name('objects')}/`;
  });

  afterAll(async () => {
    const { Contents = [] } =
      (await s3?.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: root }))) ?? {};
    if (Contents.length > 0) {
      await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: Contents.map((c) => ({ Key: c.Key! })) },
        }),
      );
    }
    s3?.destroy();
    await target?.stop();
  });

  it('stores a gzip object and returns the same bytes and length', async () => {
    // Prepare
    const body = gzipSync('{"a":1}\n{"a":2}\n');
    const key = `${root}events/2024/05/06/07/stream-1-2024-05-06-07-08-09-uuid.gz`;

    // Act
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = Buffer.from(await object.Body!.transformToByteArray());

    // Assess
    expect(head.ContentLength).toBe(body.length);
    expect(gunzipSync(bytes).toString()).toBe('{"a":1}\n{"a":2}\n');
  });

  it('lists keys under a prefix, and the hour "folders" with a delimiter', async () => {
    // Prepare
    const keys = [
      'events/2024/05/06/07/a.gz',
      'events/2024/05/06/07/b.gz',
      'events/2024/05/06/08/c.gz',
      'errors/x.gz',
    ];
    for (const key of keys)
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${root}list/${key}`, Body: 'x' }));

    // Act
    const hour = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${root}list/events/2024/05/06/07/` }),
    );
    const hours = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${root}list/events/2024/05/06/`, Delimiter: '/' }),
    );

    // Assess
    expect(hour.Contents?.map((c) => c.Key)).toEqual([
      `${root}list/events/2024/05/06/07/a.gz`,
      `${root}list/events/2024/05/06/07/b.gz`,
    ]);
    expect(hours.CommonPrefixes?.map((p) => p.Prefix)).toEqual([
      `${root}list/events/2024/05/06/07/`,
      `${root}list/events/2024/05/06/08/`,
    ]);
  });

  it('answers NoSuchKey for a missing object and forgets a deleted one', async () => {
    // Prepare
    const key = `${root}delete/me.gz`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }));

    // Act
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    const error = await rejection(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));

    // Assess
    expect(error.name).toBe('NoSuchKey');
    expect(error.$metadata?.httpStatusCode).toBe(404);
  });

  it('deletes several keys of one prefix in one DeleteObjects call', async () => {
    // Prepare
    const keys = ['a/1.gz', 'a/2.gz', 'a/3.gz', 'b/4.gz'].map((key) => `${root}bulk/${key}`);
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }));

    // Act
    const result = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
    );
    const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${root}bulk/` }));

    // Assess
    expect(result.Deleted?.map((d) => d.Key).sort()).toEqual([...keys].sort());
    expect(result.Errors ?? []).toEqual([]);
    expect(left.KeyCount).toBe(0);
  });
});
