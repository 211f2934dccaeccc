/** Writes archive objects through the real S3 client, as Firehose writes to the bucket. */
import { PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ArchiveWriter } from './delivery-stream';

export interface S3ArchiveWriter extends ArchiveWriter {
  destroy(): void;
}

export function createS3ArchiveWriter(config: S3ClientConfig): S3ArchiveWriter {
  // One attempt per call: the delivery loop owns retries, backoff and the error prefix. A bounded
  // request time, so a hung S3 call cannot hold delivery (or stop()) up for long.
  const client = new S3Client({
    ...config,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 2_000, requestTimeout: 30_000 }),
  });
  return {
    async put(bucket, key, body, signal) {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: 'application/octet-stream',
        }),
        signal ? { abortSignal: signal } : {},
      );
    },
    destroy: () => client.destroy(),
  };
}
