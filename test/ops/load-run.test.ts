/**
 * The load runner's arguments and target, short of running Artillery: a bad option or a pipeline
 * that is not running ends it with a message, not a stack trace or a connection error.
 */
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadTarget, main } from '../../load/run';
import { localStatePath } from '../../local/local-state';
import { deadPid } from '../support/dead-pid';
import { makeTempDir, removeTempDir } from '../support/temp-dir';

// The Artillery processor is plain CommonJS, loaded by Artillery itself.
const processor = createRequire(import.meta.url)('../../load/processor.cjs') as {
  countRefusals(
    request: unknown,
    response: { statusCode: number },
    context: unknown,
    events: unknown,
    next: () => void,
  ): void;
};

describe('CLI: load', () => {
  let dir: string;
  let errors: string[];

  beforeAll(async () => {
    dir = await makeTempDir('load');
    vi.stubEnv('FIREHOSE_DIR', dir);
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    await removeTempDir(dir);
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  const capture = () => {
    errors = [];
    vi.spyOn(console, 'error').mockImplementation((...line) => void errors.push(line.join(' ')));
  };

  it('answers an unknown option with what is wrong and the usage, exit code 2', async () => {
    capture();

    expect(await main(['--bogus'])).toBe(2);
    expect(errors.join('\n')).toMatch(/Unknown option '--bogus'[\s\S]*npm run load --/);
  });

  it('refuses a rate, duration or batch it cannot run, and an unknown stage, exit code 2', async () => {
    capture();

    expect(await main(['--rate', 'abc'])).toBe(2);
    expect(await main(['--seconds', '0'])).toBe(2);
    expect(await main(['--batch', '501'])).toBe(2);
    expect(await main(['--stage', 'bogus'])).toBe(2);

    expect(errors.map((error) => error.split('\n')[0])).toEqual([
      '--rate must be a whole number from 1 to 10000 (got "abc").',
      '--seconds must be a whole number from 1 to 86400 (got "0").',
      '--batch must be a whole number from 1 to 500 (got "501").',
      'Unknown stage "bogus". Use one of: local, dev, staging, prod (e.g. cdk deploy -c stage=dev).',
    ]);
  });

  it("counts every response that is not 2xx, by status, for the run's checks", () => {
    const counted: [string, number][] = [];
    const events = { emit: (_type: string, name: string, value: number) => void counted.push([name, value]) };
    const next = vi.fn();

    for (const statusCode of [202, 200, 401, 429, 503])
      processor.countRefusals({}, { statusCode }, {}, events, next);

    expect(counted).toEqual([
      ['firehose.not_2xx', 1],
      ['firehose.status_401', 1],
      ['firehose.not_2xx', 1],
      ['firehose.status_429', 1],
      ['firehose.not_2xx', 1],
      ['firehose.status_503', 1],
    ]);
    expect(next).toHaveBeenCalledTimes(5);
  });

  it('says no local pipeline is running when local.json was left by one that has stopped', async () => {
    // Prepare
    const pid = deadPid();
    await writeFile(localStatePath(dir), JSON.stringify({ pid, endpoint: 'http://127.0.0.1:9' }));
    capture();

    // Act
    const code = await main([]);

    // Assess
    expect(code).toBe(1);
    expect(errors.join('\n')).toMatch(/^No running local pipeline \(started with npm start\?\)/);
  });

  it("takes the running pipeline's endpoint, key and account, and only on 127.0.0.1", async () => {
    // Prepare
    const write = (endpoint: string) =>
      writeFile(
        localStatePath(dir),
        JSON.stringify({ pid: process.pid, endpoint, api_key: 'fh_sk_demo', account_id: 'demo' }),
      );

    // Act
    await write('http://127.0.0.1:4000');
    const local = await loadTarget({ stage: 'local', rate: '1', seconds: '1', batch: '1' });
    await write('http://10.0.0.1:4000');
    const remote = loadTarget({ stage: 'local', rate: '1', seconds: '1', batch: '1' });

    // Assess
    expect(local).toEqual({ url: 'http://127.0.0.1:4000', key: 'fh_sk_demo', account: 'demo' });
    await expect(remote).rejects.toThrow(/not 127\.0\.0\.1/);
  });
});
