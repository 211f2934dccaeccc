/**
 * Promise 8 against the local pipeline: a user's erasure and a tenant's deletion reach PostgreSQL,
 * the rollups, the summary cache, DynamoDB and the S3 archive, and leave an audit record; nothing of
 * the others changes.
 */

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../local/pipeline';
import { tenantsDelete, usersErase } from '../../ops/erasure';
import { resolveTarget } from '../../ops/target';
import { createAccount, createKey } from '../../ops/tenants';
import { getSummary, postEvents } from '../support/http-client';
import { archivedEvents, startTestPipeline, type TestPipeline } from '../support/local-pipeline';
import { ops } from '../support/ops-cli';
import { event } from '../support/queue-messages';
import { expectedStoreState, readStoreState, type StoredEvent } from '../support/store-state';
import { waitFor } from '../support/wait';

describe('Operation: erasure (local pipeline)', () => {
  let test: TestPipeline;
  let pipeline: LocalPipeline;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    test = await startTestPipeline('erasure');
    ({ pipeline } = test);
    for (const account of ['keepco', 'goneco']) {
      await createAccount(pipeline.tenants, { accountId: account, name: account, tier: 'enterprise' });
      keys[account] = (await createKey(pipeline.tenants, { accountId: account, kind: 'secret' })).key;
    }
  }, 60_000);
  afterAll(async () => {
    await test?.stop();
  });

  const archived = () => archivedEvents(test.archive);

  it("erases a user and deletes a tenant from every store, auditing both, the others' data intact", async () => {
    // Prepare: two users of keepco, one of goneco; a summary of keepco cached with alice on top
    const now = Date.now();
    const sent = (account: string, user: string, count: number): StoredEvent[] =>
      Array.from({ length: count }, (_, i) =>
        event(account, `${user}-${i}`, now - i * 3_600_000, user, i % 2 ? 'click' : 'page_view'),
      );
    const alice = sent('keepco', 'alice', 6);
    const bob = sent('keepco', 'bob', 4);
    const gone = sent('goneco', 'carol', 5);
    for (const [account, events] of [
      ['keepco', [...alice, ...bob]],
      ['goneco', gone],
    ] as const) {
      const body = events.map(({ account_id: _, ...event }) => event);
      expect((await postEvents(pipeline.endpoint, keys[account]!, body)).status).toBe(202);
    }
    await waitFor(
      'the events to be written',
      async () => (await readStoreState(pipeline.pool)).events.size === 15,
    );
    await waitFor('the events to be archived', async () => (await archived()).length === 15, {
      timeoutMs: 30_000,
    });
    const before = await getSummary(pipeline.endpoint, keys.keepco!, 'keepco', { window: 'last_7d' });
    expect(before.body.top_users[0]).toEqual({ user_id: 'alice', events: 6 });

    // Act: one after the other (erasures run one at a time; each waits for Firehose's buffer)
    const target = await resolveTarget('local');
    const erased = await usersErase(target, {
      positionals: [],
      values: { account: 'keepco', user: 'alice', reason: 'ticket 7', by: 'tester' },
    });
    const deleted = await tenantsDelete(target, {
      positionals: ['goneco'],
      values: { confirm: 'goneco', by: 'tester' },
    });

    // Assess: PostgreSQL holds exactly bob's events and rollups
    const state = await readStoreState(pipeline.pool);
    const expected = expectedStoreState(bob);
    expect(state.events).toEqual(expected.events);
    expect(state.userDays).toEqual(expected.userDays);
    expect(state.typeDays).toEqual(expected.typeDays);
    // the archive keeps only bob's lines
    expect((await archived()).map((e) => `${e.account_id}/${e.user_id}`).sort()).toEqual(
      Array.from({ length: 4 }, () => 'keepco/bob'),
    );
    // the summary (its cache purged) no longer names alice
    const after = await getSummary(pipeline.endpoint, keys.keepco!, 'keepco', { window: 'last_7d' });
    expect(after.body).toMatchObject({ total: 4, top_users: [{ user_id: 'bob', events: 4 }] });
    // the tenant is gone from DynamoDB: no account, and its key no longer opens anything
    expect(await pipeline.tenants.findAccount('goneco')).toBeUndefined();
    await waitFor('the deleted key to stop working (authorizer cache TTL)', async () => {
      const answer = await postEvents(pipeline.endpoint, keys.goneco!, [
        { event_id: 'late', user_id: 'u', type: 't', timestamp: Date.now() },
      ]);
      return answer.status === 401;
    });
    // what was removed, as printed and as audited
    expect(erased.json).toMatchObject({ scope: 'user', removed: { events: 6, archive_lines: 6 } });
    expect(deleted.json).toMatchObject({
      scope: 'account',
      removed: { events: 5, archive_lines: 5, tenant_keys: 1 },
    });
    expect(erased.lines[0]).toMatch(/^erasure \d+: a user of keepco, requested by tester \(ticket 7\)/);
    const { rows } = await pipeline.pool.query(
      'SELECT account_id, requested_by, completed_at, removed FROM erasures ORDER BY account_id',
    );
    expect(rows).toEqual([
      expect.objectContaining({ account_id: 'goneco', completed_at: expect.any(Date) }),
      expect.objectContaining({
        account_id: 'keepco',
        requested_by: 'tester',
        removed: expect.objectContaining({ archive_lines: 6 }),
      }),
    ]);

    // A new event of the erased user, after the erasure, is new data and counts
    expect(
      (
        await postEvents(pipeline.endpoint, keys.keepco!, [
          { event_id: 'new', user_id: 'alice', type: 'click', timestamp: Date.now() },
        ])
      ).status,
    ).toBe(202);
    await waitFor('the new event to be written', async () =>
      (await readStoreState(pipeline.pool)).events.has('keepco/new'),
    );
  }, 120_000);

  it('lists the audit records from the command line, newest first', async () => {
    const listed = await ops('erasures', 'list', '--json');
    expect(listed.code).toBe(0);
    const records = JSON.parse(listed.out);
    expect(records.map((r: { accountId: string }) => r.accountId)).toEqual(['goneco', 'keepco']);
    expect(records[1]).toMatchObject({
      userSha256: createHash('sha256').update('alice').digest('hex'),
      requestedBy: 'tester',
      reason: 'ticket 7',
      removed: expect.objectContaining({ events: 6, archive_lines: 6 }),
    });
    expect(records.every((r: { completedAt: string | null }) => r.completedAt !== null)).toBe(true);
    expect(JSON.parse((await ops('erasures', 'list', '--limit', '1', '--json')).out)).toHaveLength(1);
    const text = await ops('erasures', 'list', '--account', 'keepco');
    expect(text.out).toMatch(
      /^erasure \d+: a user \(sha256 [0-9a-f]{12}…\) of keepco, by tester \(ticket 7\) at .*, completed .*; 6 events, 6 archive lines removed$/,
    );
  });

  it('refuses a tenant deletion without --confirm, from the command line', async () => {
    const result = await ops('tenants', 'delete', 'keepco');
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/Repeat its id to confirm: --confirm keepco/);
    expect(await pipeline.tenants.findAccount('keepco')).toBeDefined();
  });
});
