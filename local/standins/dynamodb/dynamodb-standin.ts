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
import { dynamoDbClientConfig } from '../client-config';
import { type ProxiedStandin, startProxiedStandin } from '../faults/fault-proxy';
import { LOCALHOST } from '../http/http-server';

export interface DynamoDbStandinOptions {
  /** LevelDB directory; unset keeps everything in memory. */
  readonly dir?: string;
  readonly port?: number;
  /** Tables created on start when missing (ACTIVE at once: CREATING lasts 0 ms locally). */
  readonly tables?: readonly CreateTableCommandInput[];
}

export type DynamoDbStandin = ProxiedStandin;

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
  const stopServer = () => new Promise<void>((resolve) => server.close(() => resolve()));
  const address = server.address();
  const innerPort = typeof address === 'object' && address ? address.port : 0;
  try {
    // Straight to dynalite: the tables exist before any client can reach the proxy.
    await createTables(`http://${LOCALHOST}:${innerPort}`, options.tables ?? []);
  } catch (error) {
    await stopServer();
    throw error;
  }
  return startProxiedStandin({
    innerPort,
    stopInner: stopServer,
    ...(options.port !== undefined ? { port: options.port } : {}),
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
}

async function createTables(endpoint: string, tables: readonly CreateTableCommandInput[]): Promise<void> {
  if (tables.length === 0) return;
  const client = new DynamoDBClient(dynamoDbClientConfig(endpoint));
  try {
    for (const table of tables) {
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
