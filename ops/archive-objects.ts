/**
 * Reading the S3 archive from the ops CLI (replay, erasure): its objects under a prefix, and an
 * object's text (Firehose writes GZIP; an uncompressed stream's objects are plain text).
 */
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { ARCHIVE_DATA_PREFIX } from '../lambdas/core/archive-records';
import { expandPrefix } from '../local/standins/firehose/object-key';

export interface ArchiveLocation {
  readonly s3: S3Client;
  readonly bucket: string;
}

/** Every object key under `prefix`, page by page. */
export async function* archiveObjectKeys(archive: ArchiveLocation, prefix: string): AsyncGenerator<string> {
  for await (const page of paginateListObjectsV2(
    { client: archive.s3 },
    { Bucket: archive.bucket, Prefix: prefix },
  )) {
    for (const { Key } of page.Contents ?? []) if (Key) yield Key;
  }
}

/**
 * The folder of the objects whose first record arrived in the UTC hour holding `at` (epoch ms), laid
 * out as the stream's data prefix says (the local stand-in expands the same prefix the same way).
 */
export function archiveHourFolder(at: number): string {
  return expandPrefix(ARCHIVE_DATA_PREFIX, at);
}

export async function readArchiveObject(archive: ArchiveLocation, key: string): Promise<string> {
  const { Body } = await archive.s3.send(new GetObjectCommand({ Bucket: archive.bucket, Key: key }));
  const bytes = Buffer.from((await Body?.transformToByteArray()) ?? []);
  return (isGzip(bytes) ? gunzipSync(bytes) : bytes).toString('utf8');
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}
