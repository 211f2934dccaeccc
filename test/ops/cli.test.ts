/**
 * The ops CLI against a running local pipeline (--stage local), as an operator would use it.
 */
import { writeFile } from 'node:fs/promises';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { localStatePath } from '../../local/local-state';
import type { LocalPipeline } from '../../local/pipeline';
import { deadPid } from '../support/dead-pid';
import { getSummary, postEvents } from '../support/http-client';
import { startTestPipeline, type TestPipeline } from '../support/local-pipeline';
import { ops } from '../support/ops-cli';
import { makeTempDir, removeTempDir } from '../support/temp-dir';
import { waitFor } from '../support/wait';

describe('CLI: ops', () => {
  let test: TestPipeline;
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    test = await startTestPipeline('ops');
    ({ pipeline } = test);
  }, 60_000);
  afterAll(async () => {
    await test?.stop();
  });

  it('creates a tenant whose key can send and read at once', async () => {
    const created = await ops(
      'tenants',
      'create',
      '--name',
      'Acme',
      '--tier',
      'enterprise',
      '--id',
      'acme',
      '--json',
    );
    expect(created.code).toBe(0);
    const { account, key } = JSON.parse(created.out);
    expect(account).toMatchObject({ accountId: 'acme', tier: 'enterprise', status: 'active' });

    const sent = await postEvents(pipeline.endpoint, key, [
      { event_id: 'a1', user_id: 'u', type: 'signup', timestamp: Date.now() },
    ]);
    expect(sent.status).toBe(202);
    await waitFor(
      'the event to be counted',
      async () => (await getSummary(pipeline.endpoint, key, 'acme')).body.total === 1,
    );
  });

  it('creates a publishable key for an origin, lists it, and revokes it', async () => {
    await ops('tenants', 'create', '--name', 'Shop', '--id', 'shop');
    const created = await ops(
      'keys',
      'create',
      '--account',
      'shop',
      '--kind',
      'publishable',
      '--origin',
      'https://shop.example',
      '--json',
    );
    const { key, record } = JSON.parse(created.out);
    expect(record).toMatchObject({
      kind: 'publishable',
      scopes: ['ingest'],
      allowedOrigins: ['https://shop.example'],
    });

    const shown = await ops('tenants', 'show', 'shop');
    expect(shown.out).toContain(`${record.visiblePrefix}…  publishable`);

    // Revoked by the prefix as listed ("…" included); a second revoke keeps the first time
    const revoke = () =>
      ops('keys', 'revoke', '--account', 'shop', '--key', `${record.visiblePrefix}…`, '--json');
    const first = JSON.parse((await revoke()).out);
    expect(first).toMatchObject({ status: 'revoked', alreadyRevoked: false });
    pipeline.api.clearAuthorizerCache();
    expect((await postEvents(pipeline.endpoint, key, [])).status).toBe(401);
    const again = JSON.parse((await revoke()).out);
    expect(again).toMatchObject({ status: 'revoked', alreadyRevoked: true, revokedAt: first.revokedAt });
  });

  it('refuses a key revocation it cannot match, never echoing a full key', async () => {
    await ops('tenants', 'create', '--name', 'Mall', '--id', 'mall');
    const other = JSON.parse((await ops('keys', 'create', '--account', 'acme', '--json')).out);

    const wrongAccount = await ops('keys', 'revoke', '--account', 'mall', '--key', other.key);
    expect(wrongAccount.code).toBe(1);
    expect(wrongAccount.err).toContain(`No key starting "${other.record.visiblePrefix}…" on account mall`);
    expect(wrongAccount.err).not.toContain(other.key);
    expect((await ops('keys', 'revoke', '--account', 'nope', '--key', 'fh_sk_x')).err).toMatch(
      /No account "nope"/,
    );
    expect(
      (await ops('keys', 'create', '--account', 'mall', '--kind', 'publishable', '--scopes', 'read')).err,
    ).toMatch(/Publishable keys can only ingest/);
  });

  it('suspends an account', async () => {
    const { key } = JSON.parse(
      (await ops('tenants', 'create', '--name', 'Gone', '--id', 'gone', '--json')).out,
    );
    expect((await ops('tenants', 'suspend', 'gone')).code).toBe(0);
    pipeline.api.clearAuthorizerCache();
    expect((await postEvents(pipeline.endpoint, key, [])).status).toBe(401);
  });

  it('reports the DLQ and re-drives it', async () => {
    const sqs = new SQSClient(pipeline.standins.clients.sqs);
    await sqs.send(new SendMessageCommand({ QueueUrl: pipeline.queues.deadLetter, MessageBody: 'parked' }));
    const before = (await ops('dlq', 'status')).out;
    expect(before).toMatch(/dead-letter queue: 1 messages/);
    expect(before).toMatch(/no failures recorded/);

    const redrive = await ops('dlq', 'redrive', '--wait');

    expect(redrive.code).toBe(0);
    expect(redrive.out).toMatch(/task COMPLETED/);
    expect((await ops('dlq', 'status')).out).toMatch(/dead-letter queue: 0 messages/);
    // Back on the event queue, the writer refuses the body and records why.
    const after = await waitFor('the writer to record the failure', async () => {
      const { out } = await ops('dlq', 'status');
      return out.includes('malformed_message') && out;
    });
    expect(after).toMatch(/latest failures \(message_failures\):\n .* attempt 1 {2}malformed_message: /);
  });

  it('explains what to do when something is wrong', async () => {
    expect((await ops('keys', 'create', '--account', 'nobody')).err).toMatch(/No account "nobody"/);
    expect((await ops('tenants', 'create', '--name', 'x', '--tier', 'gold')).err).toMatch(/--tier must be/);
    const unknown = await ops('tenants', 'explode');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/Unknown command/);
    const help = await ops('help');
    expect(help.out).toMatch(/dlq redrive/);
    expect(help.code).toBe(0);
  });
});

describe('CLI: ops (without a running pipeline)', () => {
  it('refuses words and options a command does not use, before acting, exit code 2', async () => {
    const extraWord = await ops('tenants', 'tier', 'demo', 'free', 'enterprise');
    const unusedOption = await ops('tenants', 'suspend', 'demo', '--tier', 'free');
    const afterSeed = await ops('seed', 'now');

    expect([extraWord.code, unusedOption.code, afterSeed.code]).toEqual([2, 2, 2]);
    expect(extraWord.err).toMatch(/^"tenants tier" does not take "enterprise"\. See npm run ops -- help\./);
    expect(unusedOption.err).toMatch(/^"tenants suspend" does not use --tier\./);
    expect(afterSeed.err).toMatch(/^"seed" does not take "now"\./);
  });

  it('refuses to seed prod before reaching for AWS credentials', async () => {
    const result = await ops('seed', '--stage', 'prod');

    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^ops seed writes test data: it refuses --stage prod\./);
  });

  it('answers an unknown option with what is wrong and the usage, exit code 2', async () => {
    // Act
    const result = await ops('tenants', 'show', 'acme', '--bogus');

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/Unknown option '--bogus'/);
    expect(result.err).toMatch(/dlq redrive/);
  });

  it('says no local pipeline is running when local.json was left by one that has stopped', async () => {
    // Prepare: local.json naming a process that has ended.
    const staleDir = await makeTempDir('ops-stale');
    const pid = deadPid();
    await writeFile(
      localStatePath(staleDir),
      JSON.stringify({
        pid,
        aws: { endpoints: { sqs: 'http://127.0.0.1:9', dynamodb: 'http://127.0.0.1:9' } },
      }),
    );
    vi.stubEnv('FIREHOSE_DIR', staleDir);

    // Act
    let result: Awaited<ReturnType<typeof ops>>;
    try {
      result = await ops('tenants', 'show', 'acme');
    } finally {
      vi.unstubAllEnvs();
      await removeTempDir(staleDir);
    }

    // Assess
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^No running local pipeline \(started with npm start\?\)/);
  });

  it('asks for a restart when local.json predates the archive bucket, before touching anything', async () => {
    // Prepare: local.json of a running pipeline (this process) written before archive_bucket existed;
    // every endpoint is closed, so any request would fail differently.
    const oldDir = await makeTempDir('ops-old-state');
    const closed = 'http://127.0.0.1:9';
    await writeFile(
      localStatePath(oldDir),
      JSON.stringify({
        pid: process.pid,
        endpoint: closed,
        account_id: 'demo',
        api_key: 'k',
        aws: {
          region: 'us-east-1',
          endpoints: { sqs: closed, dynamodb: closed, s3: closed, firehose: closed },
        },
        tables: { tenantsTable: 't', rateLimitsTable: 'r', ledgerTable: 'l', summaryCacheTable: 's' },
        queues: {
          events: `${closed}/q`,
          dead_letter: `${closed}/d`,
          dead_letter_arn: 'arn:aws:sqs:us-east-1:0:d',
        },
        database_url: 'postgres://127.0.0.1:9/none',
      }),
    );
    vi.stubEnv('FIREHOSE_DIR', oldDir);

    // Act
    let replay: Awaited<ReturnType<typeof ops>>;
    let erase: Awaited<ReturnType<typeof ops>>;
    try {
      replay = await ops('archive', 'replay', '--from', '2026-11-20T00:00Z', '--to', '2026-11-20T01:00Z');
      erase = await ops('users', 'erase', '--account', 'acme', '--user', 'alice');
    } finally {
      vi.unstubAllEnvs();
      await removeTempDir(oldDir);
    }

    // Assess
    for (const result of [replay, erase]) {
      expect(result.code).toBe(1);
      expect(result.err).toMatch(/did not record its archive bucket .*: restart npm start\./);
    }
  });
});
