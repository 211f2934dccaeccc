/**
 * Reading the S3 archive from the ops CLI (replay, erasure): its objects under a prefix, and an
 * object's text (Firehose writes GZIP; an uncompressed stream's objects are plain text).
 */
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

export interface ArchiveLocation {
  readonly s3: S3Client;
  readonly bucket: string;
}

/** Every object key under `prefix`, page by page. */
export async function* archiveObjectKeys(archive: ArchiveLocation, prefix: string): AsyncGenerator<string> {
  let continuation: string | undefined;
  do {
    const page = await archive.s3.send(
      new ListObjectsV2Command({ Bucket: archive.bucket, Prefix: prefix, ContinuationToken: continuation }),
    );
    for (const { Key } of page.Contents ?? []) if (Key) yield Key;
    continuation = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (continuation);
}

export async function readArchiveObject(archive: ArchiveLocation, key: string): Promise<string> {
  const { Body } = await archive.s3.send(new GetObjectCommand({ Bucket: archive.bucket, Key: key }));
  const bytes = Buffer.from((await Body?.transformToByteArray()) ?? []);
  return (isGzip(bytes) ? gunzipSync(bytes) : bytes).toString('utf8');
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}
