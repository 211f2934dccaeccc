/**
 * A stand-in whose port is taken fails to start, and leaves nothing running behind it: not the
 * server behind a fault proxy (S3, DynamoDB), not the SQS journal, not the Firehose streams.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startProxiedStandin } from '../../local/standins/faults/fault-proxy';
import { DeliveryStream } from '../../local/standins/firehose/delivery-stream';
import { startFirehoseStandin } from '../../local/standins/firehose/server';
import { Journal } from '../../local/standins/sqs/journal';
import { startSqsStandin } from '../../local/standins/sqs/server';
import { makeTempDir, removeTempDir } from '../support/temp-dir';

describe('Stand-ins: a start that fails on a taken port', () => {
  let holder: Server;
  let taken: number;
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir('standins-failed-start');
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', () => resolve()));
    taken = (holder.address() as { port: number }).port;
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await new Promise((resolve) => holder.close(resolve));
    await removeTempDir(dir);
  });

  it('stops the server behind a fault proxy', async () => {
    const stopInner = vi.fn(async () => undefined);

    const starting = startProxiedStandin({
      innerPort: 9,
      stopInner,
      port: taken,
      operationOf: () => 'Any',
      errorResponse: () => ({ status: 503, headers: {}, body: '' }),
    });

    await expect(starting).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(stopInner).toHaveBeenCalledTimes(1);
  });

  it('closes the SQS journal', async () => {
    const close = vi.spyOn(Journal.prototype, 'close');

    await expect(startSqsStandin({ dir: `${dir}/sqs`, port: taken })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('stops the Firehose delivery streams it had opened', async () => {
    // Prepare: a stream defined by an earlier run, so that the start opens it again.
    const firehoseDir = `${dir}/firehose`;
    const s3 = { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true };
    const first = await startFirehoseStandin({ dir: firehoseDir, s3 });
    await first.ensureStream({ name: 'archive', bucket: 'b' });
    await first.stop();
    const stop = vi.spyOn(DeliveryStream.prototype, 'stop');

    // Act
    const starting = startFirehoseStandin({ dir: firehoseDir, s3, port: taken });

    // Assess
    await expect(starting).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(stop).toHaveBeenCalledTimes(1);
  });
});
