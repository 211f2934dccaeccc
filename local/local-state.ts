/**
 * `<FIREHOSE_DIR>/local.json`: how to reach the pipeline `npm start` is running (its endpoint, demo
 * account and key, stand-in endpoints, table and queue names, database). Written by the pipeline,
 * read by the ops CLI and the load runner (`--stage local`), and by the next start (to keep the demo
 * key). The file outlives the pipeline, so it names the pipeline's process: a reader that finds
 * that process gone says so instead of calling ports nobody listens on.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { TableNames } from './dynamodb-tables';
import { processIsAlive } from './process-alive';
import type { StandinEndpoints } from './standins/client-config';

const LOCAL_STATE_FILE = 'local.json';

export interface LocalState {
  /** The pipeline's process (`npm start`). */
  readonly pid: number;
  readonly endpoint: string;
  readonly account_id: string;
  readonly api_key: string;
  readonly aws: { readonly region: string; readonly endpoints: StandinEndpoints };
  readonly tables: TableNames;
  readonly queues: {
    readonly events: string;
    readonly dead_letter: string;
    readonly dead_letter_arn: string;
  };
  readonly database_url: string;
  /** The archive's bucket in the S3 stand-in (absent in files written before archive replay). */
  readonly archive_bucket?: string;
}

/** Where local state lives: FIREHOSE_DIR, or `.firehose` in the working directory. */
export function localStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.FIREHOSE_DIR ?? '.firehose');
}

export function localStatePath(dir: string): string {
  return join(dir, LOCAL_STATE_FILE);
}

/** Writes the running pipeline's details, naming this process (owner-only: it holds a secret key). */
export async function writeLocalState(dir: string, state: Omit<LocalState, 'pid'>): Promise<void> {
  const content: LocalState = { pid: process.pid, ...state };
  await writeFile(localStatePath(dir), `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
}

/** What a pipeline saved, whether or not it still runs; undefined when there is no readable file. */
export async function readSavedLocalState(dir: string): Promise<Partial<LocalState> | undefined> {
  try {
    return JSON.parse(await readFile(localStatePath(dir), 'utf8')) as Partial<LocalState>;
  } catch {
    return undefined;
  }
}

export class NoLocalPipelineError extends Error {
  constructor(detail: string) {
    super(`No running local pipeline (started with npm start?): ${detail}`);
    this.name = 'NoLocalPipelineError';
  }
}

/** The running pipeline's details; throws NoLocalPipelineError when none is running. */
export async function readRunningLocalState(dir: string = localStateDir()): Promise<LocalState> {
  const file = localStatePath(dir);
  const saved = await readSavedLocalState(dir);
  if (!saved) throw new NoLocalPipelineError(`${file} is missing or unreadable.`);
  if (saved.pid === undefined || !processIsAlive(saved.pid)) {
    throw new NoLocalPipelineError(
      `the pipeline that wrote ${file} (pid ${saved.pid ?? 'unknown'}) is no longer running.`,
    );
  }
  return saved as LocalState;
}

export class PipelineAlreadyRunningError extends Error {
  override readonly name = 'PipelineAlreadyRunningError';
}

/**
 * Refuses to start a second pipeline on a state directory whose pipeline still runs: it would stop
 * that pipeline's PostgreSQL (which it would take for one left behind) and share its journals.
 */
export async function refuseIfRunning(dir: string): Promise<void> {
  const saved = await readRunningLocalState(dir).catch((error: unknown) => {
    if (error instanceof NoLocalPipelineError) return undefined;
    throw error;
  });
  if (saved === undefined || saved.pid === process.pid) return;
  throw new PipelineAlreadyRunningError(
    `a local pipeline is already running on ${dir} (pid ${saved.pid}${saved.endpoint ? `, ${saved.endpoint}` : ''}). ` +
      `Use it, stop it first (Ctrl-C in its terminal, or kill -INT ${saved.pid}), or start another with ` +
      `FIREHOSE_DIR=<another directory> and PORT=<another port>. If none is running (the pid now belongs ` +
      `to another program), delete ${localStatePath(dir)} and start again.`,
  );
}
