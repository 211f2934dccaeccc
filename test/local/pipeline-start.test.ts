/**
 * Giving up a start half-way (Ctrl-C during `npm start`): what was already started is stopped, the
 * embedded PostgreSQL above all (it runs in its own process group, out of reach of the terminal).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPipeline } from '../../local/pipeline';
import { processIsAlive } from '../../local/process-alive';
import { makeTempDir, removeTempDir } from '../support/temp-dir';

describe('Function: startLocalPipeline (given up)', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir('start-abort');
  });

  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('stops PostgreSQL and the stand-ins it had started when its signal aborts', async () => {
    // Prepare: give up as soon as PostgreSQL is up and the stand-ins are starting.
    const starting = new AbortController();
    let postgresPid: number | undefined;
    const log = (line: string) => {
      if (!line.startsWith('starting SQS')) return;
      postgresPid = Number(readFileSync(join(dir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
      starting.abort(new Error('SIGINT during start'));
    };

    // Act
    const start = startLocalPipeline({ dir, port: 0, log, signal: starting.signal });

    // Assess
    await expect(start).rejects.toThrow('SIGINT during start');
    expect(postgresPid).toBeGreaterThan(0);
    expect(processIsAlive(postgresPid!)).toBe(false);
    expect(existsSync(join(dir, 'postgres', 'postmaster.pid'))).toBe(false);
    expect(existsSync(join(dir, 'local.json'))).toBe(false);
  }, 120_000);

  it('starts nothing when its signal has already aborted', async () => {
    const other = join(dir, 'never');

    await expect(startLocalPipeline({ dir: other, signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(existsSync(other)).toBe(false);
  });

  it('refuses a directory whose pipeline still runs, before touching its PostgreSQL', async () => {
    // Prepare: local.json naming a live process (this test run's parent) as its pipeline
    const busy = join(dir, 'busy');
    await mkdir(busy);
    await writeFile(
      join(busy, 'local.json'),
      JSON.stringify({ pid: process.ppid, endpoint: 'http://127.0.0.1:4000' }),
    );

    // Act
    const start = startLocalPipeline({ dir: busy, port: 0 });

    // Assess
    await expect(start).rejects.toThrow(
      new RegExp(
        `already running on ${busy} \\(pid ${process.ppid}, http://127.0.0.1:4000\\)\\. Use it, stop it first`,
      ),
    );
    expect(existsSync(join(busy, 'postgres'))).toBe(false);
  });

  it('npm start: a Ctrl-C while starting stops what has started, and exits', async () => {
    // Prepare
    const stateDir = join(dir, 'npm-start');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, '../../local/start.ts')],
      {
        env: { ...process.env, FIREHOSE_DIR: stateDir, PORT: '0', NODE_NO_WARNINGS: '1' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const output: string[] = [];
    let postgresPid: number | undefined;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (line.includes('starting SQS') && postgresPid === undefined) {
        postgresPid = Number(
          readFileSync(join(stateDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0],
        );
        // Act: the terminal's Ctrl-C, while the stand-ins start.
        child.kill('SIGINT');
      }
    });

    // Assess
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(postgresPid).toBeGreaterThan(0);
    expect(code).toBe(130);
    expect(output.join('\n')).toMatch(/SIGINT: stopping what has started so far[\s\S]*stopped\./);
    expect(processIsAlive(postgresPid!)).toBe(false);
    expect(existsSync(join(stateDir, 'postgres', 'postmaster.pid'))).toBe(false);
  }, 120_000);
});
