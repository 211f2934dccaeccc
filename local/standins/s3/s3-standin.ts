/**
 * S3 through s3rver, on disk under `dir`, behind a fault proxy. Path-style only (`forcePathStyle`).
 * s3rver knows one access key of its own (`S3RVER`); we register `local`/`local`, the credentials
 * every local client and handler uses. s3rver checks the access key id, not SigV4 signatures.
 */
import { mkdir } from 'node:fs/promises';
import S3rver from 's3rver';
import { DUMMY_ACCOUNT } from 's3rver/lib/models/account.js';
import { LOCAL_CREDENTIALS } from '../client-config';
import { type ProxiedStandin, startProxiedStandin } from '../faults/fault-proxy';
import { LOCALHOST } from '../http/http-server';
import { s3OperationOf } from './s3-operation';

export interface S3StandinOptions {
  readonly dir: string;
  readonly port?: number;
  /** Buckets created on start (existing ones are kept, with their objects). */
  readonly buckets?: readonly string[];
}

export type S3Standin = ProxiedStandin;

let localKeyRegistered = false;

export async function startS3Standin(options: S3StandinOptions): Promise<S3Standin> {
  await mkdir(options.dir, { recursive: true });
  if (!localKeyRegistered) {
    DUMMY_ACCOUNT.createKeyPair(LOCAL_CREDENTIALS.accessKeyId, LOCAL_CREDENTIALS.secretAccessKey);
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
  return startProxiedStandin({
    innerPort: inner.port,
    stopInner: () => s3rver.close(),
    ...(options.port !== undefined ? { port: options.port } : {}),
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
