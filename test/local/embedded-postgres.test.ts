/**
 * The stale-server check of the embedded PostgreSQL: a postmaster.pid left behind names a process
 * number that, after a crash or a reboot, may belong to anything. Only a PostgreSQL serving this
 * data directory is stopped; nothing else is signalled.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, stopStaleServer } from '../../local/embedded-postgres';
import { makeTempDir, removeTempDir } from '../support/temp-dir';

/** A process that idles; `argv0` names it (`postgres` makes it look like a server), `args` follow. */
async function idleProcess(argv0: string, args: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)', '--', ...args], {
    argv0,
    stdio: 'ignore',
  });
  await new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return child;
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));

describe('Function: stopStaleServer', () => {
  let root: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    root = await makeTempDir('stale-pg');
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await exited(child);
    }
  });

  afterAll(async () => {
    await removeTempDir(root);
  });

  async function dataDirLockedBy(name: string, child: ChildProcess): Promise<string> {
    const dataDir = join(root, name);
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'postmaster.pid'), `${child.pid}\n${dataDir}\n`);
    return dataDir;
  }

  it('does not signal a live process that is not PostgreSQL, and removes its stale lock', async () => {
    // Prepare: the pid in the lock file now belongs to some other program.
    const other = await idleProcess('some-editor');
    children.push(other);
    const dataDir = await dataDirLockedBy('reused-pid', other);

    // Act
    await stopStaleServer(dataDir);

    // Assess
    expect(other.exitCode).toBeNull();
    expect(other.signalCode).toBeNull();
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
  });

  it('does not signal a PostgreSQL of another data directory, nor touch the lock', async () => {
    // Prepare
    const foreign = await idleProcess('postgres', ['-D', join(root, 'somewhere-else')]);
    children.push(foreign);
    const dataDir = await dataDirLockedBy('foreign-server', foreign);

    // Act
    await stopStaleServer(dataDir);

    // Assess
    expect(foreign.exitCode).toBeNull();
    expect(foreign.signalCode).toBeNull();
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(true);
  });

  it('stops a PostgreSQL left running on this data directory', async () => {
    // Prepare: "postgres -D <dataDir>", as the embedded server is started.
    const dataDir = join(root, 'left running');
    const stale = await idleProcess('postgres', ['-D', dataDir, '-p', '5432']);
    children.push(stale);
    await dataDirLockedBy('left running', stale);

    // Act
    await stopStaleServer(dataDir);

    // Assess
    await exited(stale);
    expect(stale.signalCode).toBe('SIGINT');
  });
});

describe('Function: startEmbeddedPostgres', () => {
  it('starts when a setting sends the server log away from stderr (readiness is probed, not read from the log)', async () => {
    // Prepare: logging_collector writes the log to files in the data directory, so the "ready"
    // line never reaches us.
    const lines: string[] = [];
    const server = await startEmbeddedPostgres({
      dataDir: join(tmpdir(), `firehose-pg-collector-${process.pid}`),
      persistent: false,
      settings: { logging_collector: 'on', log_directory: 'log' },
      onLog: (line) => lines.push(line),
    });
    try {
      // Act
      const client = new pg.Client({ connectionString: server.adminUrl });
      await client.connect();
      const { rows } = await client.query<{ logging_collector: string }>('SHOW logging_collector');
      await client.end();

      // Assert: it is up, with the setting applied, though its log never said so.
      expect(rows[0]!.logging_collector).toBe('on');
      expect(lines.join('')).not.toContain('ready to accept connections');
    } finally {
      await server.stop();
    }
  });

  it('gives up with the log and what to do when the server never accepts a connection', async () => {
    // Prepare: no TCP listener, and the log goes to files, so nothing ever says it is up.
    const dataDir = join(tmpdir(), `firehose-pg-unreachable-${process.pid}`);
    try {
      // Act
      const starting = startEmbeddedPostgres({
        dataDir,
        persistent: false,
        startTimeoutMs: 2_000,
        settings: { listen_addresses: '', logging_collector: 'on', log_directory: 'log' },
      });

      // Assert
      await expect(starting).rejects.toThrow(
        /did not accept connections within 2 s .*Check the settings you passed/s,
      );
      // The throw-away data directory is gone with the failed start.
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await removeTempDir(dataDir);
    }
  });
});
