/**
 * DynamoDB through dynalite (LevelDB on disk under `dir`, or in memory), behind a fault proxy.
 * dynalite implements neither UpdateTimeToLive nor TransactWriteItems/TransactGetItems, and never
 * expires items: code must filter expired items on read (it must on AWS too, TTL deletion lags).
 * Global secondary indexes work (HASH or HASH+RANGE, S/N/B keys, any projection); see
 * docs/local-standins.md.
 */

import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { FaultController } from '../faults/fault-controller';
import { startFaultProxy } from '../faults/fault-proxy';
import { LOCALHOST } from '../http/http-server';

export interface DynamoDbStandinOptions {
  /** LevelDB directory; unset keeps everything in memory. */
  readonly dir?: string;
  readonly port?: number;
  /** Tables created on start when missing (ACTIVE at once: CREATING lasts 0 ms locally). */
  readonly tables?: readonly CreateTableCommandInput[];
}

export interface DynamoDbStandin {
  readonly endpoint: string;
  readonly port: number;
  readonly faults: FaultController;
  stop(): Promise<void>;
}

const PREFIX = 'com.amazonaws.dynamodb.v20120810#';

export async function startDynamoDbStandin(options: DynamoDbStandinOptions = {}): Promise<DynamoDbStandin> {
  if (options.dir) await mkdir(options.dir, { recursive: true });
  const server: Server = dynalite({
    ...(options.dir ? { path: options.dir } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOCALHOST, () => resolve());
  });
  const address = server.address();
  const innerPort = typeof address === 'object' && address ? address.port : 0;
  const faults = new FaultController();
  const proxy = await startFaultProxy({
    target: { host: LOCALHOST, port: innerPort },
    ...(options.port !== undefined ? { port: options.port } : {}),
    faults,
    operationOf: (request) =>
      String(request.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '',
    errorResponse: (kind) => {
      const [status, type, message] =
        kind === 'throttle'
          ? [
              400,
              'ProvisionedThroughputExceededException',
              'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
            ]
          : kind === 'error'
            ? [500, 'InternalServerError', 'Internal server error']
            : [503, 'ServiceUnavailable', 'Service unavailable'];
      return {
        status,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: JSON.stringify({ __type: `${PREFIX}${type}`, message }),
      };
    },
  });

  if (options.tables?.length) {
    const client = new DynamoDBClient({
      endpoint: `http://${LOCALHOST}:${innerPort}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      for (const table of options.tables) {
        try {
          await client.send(new CreateTableCommand(table));
        } catch (error) {
          if (!(error instanceof ResourceInUseException)) throw error;
        }
      }
    } finally {
      client.destroy();
    }
  }

  return {
    endpoint: proxy.endpoint,
    port: proxy.port,
    faults,
    async stop() {
      await proxy.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
