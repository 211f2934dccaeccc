/**
 * `ops archive replay` against the local pipeline: events answered 202 are archived by the Firehose
 * stand-in into the S3 stand-in; after an account's rows are lost from PostgreSQL, a replay of the
 * archive brings back exactly what was there, and replaying again changes nothing.
 */
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveLine } from '../../lambdas/core/archive-records';
import { serializeQueuedEvent } from '../../lambdas/core/queue-message';
import type { LocalPipeline } from '../../local/pipeline';
import { archiveHourFolder } from '../../ops/archive-objects';
import { createAccount, createKey } from '../../ops/tenants';
import { postEvents } from '../support/http-client';
import { archivedEvents, startTestPipeline, type TestPipeline } from '../support/local-pipeline';
import { ops } from '../support/ops-cli';
import { readStoreState } from '../support/store-state';
import { waitFor } from '../support/wait';

const ACCOUNT = 'replayco';

describe('Operation: archive replay (local pipeline)', () => {
  let test: TestPipeline;
  let pipeline: LocalPipeline;
  let key: string;

  beforeAll(async () => {
    test = await startTestPipeline('archive-replay');
    ({ pipeline } = test);
    await createAccount(pipeline.tenants, { accountId: ACCOUNT, name: 'Replay Co', tier: 'enterprise' });
    ({ key } = await createKey(pipeline.tenants, { accountId: ACCOUNT, kind: 'secret' }));
  }, 60_000);
  afterAll(async () => {
    await test?.stop();
  });

  const archivedEventIds = async () =>
    (await archivedEvents(test.archive)).map((event) => `${event.account_id}/${event.event_id}`);

  const committedMessages = async () =>
    Number((await pipeline.pool.query('SELECT count(*) FROM committed_messages')).rows[0].count);

  /** Runs a replay and waits until the writer has committed every message it sent. */
  async function replay(...args: string[]) {
    const before = await committedMessages();
    const result = await ops('archive', 'replay', ...args, '--json');
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    const output = JSON.parse(result.out);
    await waitFor('the replayed messages to be written', async () => {
      return (await committedMessages()) >= before + output.messages;
    });
    return output;
  }

  it('restores an account lost from PostgreSQL, and a second replay counts nothing twice', async () => {
    // Prepare: three requests of one account (one event sent twice) and one of the demo account
    const from = new Date(Date.now() - 1000).toISOString();
    const at = Date.now();
    const requests = [0, 1, 2].map((request) =>
      Array.from({ length: 10 }, (_, i) => ({
        event_id: request === 2 && i === 0 ? 'r0-e0' : `r${request}-e${i}`,
        user_id: `user-${(request + i) % 4}`,
        type: i % 3 === 0 ? 'purchase' : 'page_view',
        timestamp: at - i * 60_000,
        metadata: { request, i },
      })),
    );
    for (const events of requests)
      expect((await postEvents(pipeline.endpoint, key, events)).status).toBe(202);
    const demo = Array.from({ length: 5 }, (_, i) => ({
      event_id: `demo-${i}`,
      user_id: 'd',
      type: 'click',
      timestamp: at,
    }));
    expect((await postEvents(pipeline.endpoint, pipeline.demo!.apiKey, demo)).status).toBe(202);
    await waitFor(
      'all 34 distinct events to be written',
      async () => (await readStoreState(pipeline.pool)).events.size === 34,
    );
    await waitFor(
      'the 35 accepted events to be archived',
      async () => (await archivedEventIds()).length === 35,
    );
    const written = await readStoreState(pipeline.pool);

    // Act 1: the account's rows are lost (as after restoring an older snapshot), then replayed
    for (const table of ['events', 'event_keys', 'rollup_user_day', 'rollup_type_day'])
      await pipeline.pool.query(`DELETE FROM ${table} WHERE account_id = $1`, [ACCOUNT]);
    expect((await readStoreState(pipeline.pool)).events.size).toBe(5);
    const to = new Date(Date.now() + 1000).toISOString();
    const first = await replay('--from', from, '--to', to);

    // Assess 1: every row and rollup is back, the demo account's unchanged
    expect(first).toMatchObject({ replayed: 35, invalid: [] });
    expect(await readStoreState(pipeline.pool)).toEqual(written);

    // Act 2 + Assess 2: the same replay again is a no-op on the counts
    const second = await replay('--from', from, '--to', to);
    expect(second.replayed).toBe(35);
    expect(await readStoreState(pipeline.pool)).toEqual(written);
  });

  it('sends nothing on --dry-run', async () => {
    const before = await committedMessages();
    const window = [
      '--from',
      new Date(Date.now() - 3_600_000).toISOString(),
      '--to',
      new Date().toISOString(),
    ];

    // Every archived event was received within the last hour, in this file's earlier tests or none.
    const archived = (await archivedEventIds()).length;

    const result = await ops('archive', 'replay', ...window, '--dry-run');

    expect(result.code).toBe(0);
    expect(result.out).toMatch(new RegExp(`^would replay ${archived} events received `));
    // Nothing to wait for: show that nothing arrives within a few writer polls.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await committedMessages()).toBe(before);
  });

  it('reports a damaged archive line and still replays the good lines beside it', async () => {
    // Prepare: an object holding one garbled line and one event never sent through the API
    const receivedAt = new Date(Date.now() - 500).toISOString();
    const line = archiveLine(
      serializeQueuedEvent({
        event_id: 'only-in-archive',
        user_id: 'u',
        type: 'signup',
        timestamp: receivedAt,
      }),
      { account_id: ACCOUNT, received_at: receivedAt, request_id: 'restored-request' },
    );
    const objectKey = `${archiveHourFolder(Date.now())}manual-damaged.gz`;
    await test.archive.s3.send(
      new PutObjectCommand({
        Bucket: test.archive.bucket,
        Key: objectKey,
        Body: gzipSync(`{"event_id": "cut off\n${line}`),
      }),
    );

    // Act
    const output = await replay(
      '--from',
      receivedAt,
      '--to',
      new Date(Date.parse(receivedAt) + 1).toISOString(),
      '--account',
      ACCOUNT,
    );

    // Assess
    expect(output).toMatchObject({ replayed: 1, messages: 1, invalid: [`${objectKey} line 1: not JSON`] });
    expect((await readStoreState(pipeline.pool)).events.get(`${ACCOUNT}/only-in-archive`)).toBe(
      `u|signup|${receivedAt}`,
    );
  });
});
