/**
 * local.json: written by the pipeline, read by ops and load. A file left by a pipeline that has
 * stopped must be recognised as such, not used to call ports nobody listens on.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LocalState,
  localStateDir,
  localStatePath,
  NoLocalPipelineError,
  readRunningLocalState,
  readSavedLocalState,
  writeLocalState,
} from '../../local/local-state';
import { deadPid } from '../support/dead-pid';
import { makeTempDir, removeTempDir } from '../support/temp-dir';

const DETAILS: Omit<LocalState, 'pid'> = {
  endpoint: 'http://127.0.0.1:1',
  account_id: 'demo',
  api_key: 'fh_sk_x',
  aws: {
    region: 'us-east-1',
    endpoints: {
      sqs: 'http://127.0.0.1:2',
      firehose: 'http://127.0.0.1:3',
      s3: 'http://127.0.0.1:4',
      dynamodb: 'http://127.0.0.1:5',
    },
  },
  tables: { tenantsTable: 't', rateLimitTable: 'r', ledgerTable: 'l', summaryCacheTable: 's' },
  queues: { events: 'q', dead_letter: 'dlq', dead_letter_arn: 'arn:dlq' },
  database_url: 'postgres://x',
};

describe('Module: local-state', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir('local-state');
  });

  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('writes the details with this process as the pipeline, and reads them back while it runs', async () => {
    // Act
    await writeLocalState(dir, DETAILS);

    // Assess
    expect(await readRunningLocalState(dir)).toEqual({ pid: process.pid, ...DETAILS });
  });

  it('says no pipeline is running when the one that wrote the file has stopped', async () => {
    // Prepare
    const pid = deadPid();
    await writeFile(localStatePath(dir), JSON.stringify({ pid, ...DETAILS }));

    // Act
    const reading = readRunningLocalState(dir);

    // Assess
    await expect(reading).rejects.toBeInstanceOf(NoLocalPipelineError);
    await expect(reading).rejects.toThrow(
      `No running local pipeline (started with npm start?): the pipeline that wrote ${localStatePath(dir)} (pid ${pid}) is no longer running.`,
    );
    // The next start still finds the saved demo key.
    expect((await readSavedLocalState(dir))?.api_key).toBe(DETAILS.api_key);
  });

  it('says no pipeline is running when there is no file, or one without a pid', async () => {
    // Prepare
    const empty = await makeTempDir('local-state-empty');
    const old = await makeTempDir('local-state-old');
    await writeFile(localStatePath(old), JSON.stringify(DETAILS));

    // Act & Assess
    try {
      await expect(readRunningLocalState(empty)).rejects.toThrow(
        /No running local pipeline \(started with npm start\?\)/,
      );
      await expect(readRunningLocalState(old)).rejects.toThrow(/pid unknown/);
      expect(await readSavedLocalState(empty)).toBeUndefined();
    } finally {
      await removeTempDir(empty);
      await removeTempDir(old);
    }
  });

  it('lives in FIREHOSE_DIR, or .firehose in the working directory', () => {
    expect(localStateDir({ FIREHOSE_DIR: '/tmp/somewhere' })).toBe('/tmp/somewhere');
    expect(localStateDir({})).toBe(join(process.cwd(), '.firehose'));
  });
});
