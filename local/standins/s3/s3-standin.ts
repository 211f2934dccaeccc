/**
 * S3 through s3rver, on disk under `dir`, behind a fault proxy. Path-style only (`forcePathStyle`),
 * and s3rver knows one access key, `S3RVER`/`S3RVER`; we also register `local`/`local` so processes
 * that use the same local credentials for every service can reach it. s3rver does not verify SigV4
 * signatures, only the access key id.
 */
import { mkdir } from 'node:fs/promises';
import S3rver from 's3rver';
import { DUMMY_ACCOUNT } from 's3rver/lib/models/account.js';
import { FaultController } from '../faults/fault-controller';
import { startFaultProxy } from '../faults/fault-proxy';
import { LOCALHOST } from '../http/http-server';
import { s3OperationOf } from './s3-operation';

export interface S3StandinOptions {
  readonly dir: string;
  readonly port?: number;
  /** Buckets created on start (existing ones are kept, with their objects). */
  readonly buckets?: readonly string[];
}

export interface S3Standin {
  readonly endpoint: string;
  readonly port: number;
  readonly faults: FaultController;
  stop(): Promise<void>;
}

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

let localKeyRegistered = false;

export async function startS3Standin(options: S3StandinOptions): Promise<S3Standin> {
  await mkdir(options.dir, { recursive: true });
  if (!localKeyRegistered) {
    DUMMY_ACCOUNT.createKeyPair('local', 'local');
    localKeyRegistered = true;
  }
  const s3rver = new S3rver({
    address: LOCALHOST,
    port: 0,
    silent: true,
    directory: options.dir,
    vhostBuckets: false,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  serialiseDeletes(s3rver);
  const inner = await s3rver.run();
  const faults = new FaultController();
  const proxy = await startFaultProxy({
    target: { host: LOCALHOST, port: inner.port },
    ...(options.port !== undefined ? { port: options.port } : {}),
    faults,
    operationOf: s3OperationOf,
    errorResponse: (kind) => {
      const [status, code, message] =
        kind === 'throttle'
          ? [503, 'SlowDown', 'Please reduce your request rate.']
          : kind === 'error'
            ? [500, 'InternalError', 'We encountered an internal error. Please try again.']
            : [503, 'ServiceUnavailable', 'Service is unable to handle request.'];
      return {
        status,
        headers: { 'content-type': 'application/xml' },
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>0000000000000000</RequestId></Error>`,
      };
    },
  });
  return {
    endpoint: proxy.endpoint,
    port: proxy.port,
    faults,
    async stop() {
      await proxy.close();
      await s3rver.close();
    },
  };
}

/**
 * s3rver deletes the keys of one DeleteObjects call concurrently and then removes emptied
 * directories, so two keys in one "folder" race (ENOENT, answered 500). Deleting one key at a time,
 * and treating an already removed directory as removed, gives S3's behaviour.
 */
function serialiseDeletes(s3rver: S3rver): void {
  const { store } = s3rver;
  const deleteObject = store.deleteObject.bind(store);
  let previous: Promise<unknown> = Promise.resolve();
  store.deleteObject = (bucket, key) => {
    const current = previous.then(() =>
      deleteObject(bucket, key).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      }),
    );
    previous = current.catch(() => undefined);
    return current;
  };
}
