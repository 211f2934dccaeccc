/**
 * `ops seed` against the local pipeline: generated events go through the API and are each stored
 * once; throttling (a real limiter on a free-tier account) and a failing queue (the SQS stand-in's
 * fault hook) are waited out; a refused account stops the seed with a message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../lambdas/core/api-keys';
import type { LocalPipeline } from '../../local/pipeline';
import { accountIdFor, EventGenerator } from '../../ops/event-generator';
import { seed, seedAccounts } from '../../ops/seed';
import { getSummary } from '../support/http-client';
import { startTestPipeline, type TestPipeline } from '../support/local-pipeline';
import { ops } from '../support/ops-cli';
import { scriptedTarget } from '../support/ops-target';
import { waitFor } from '../support/wait';

describe('Operation: seed (local pipeline)', () => {
  let test: TestPipeline;
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    test = await startTestPipeline('seed');
    ({ pipeline } = test);
  }, 60_000);
  afterAll(async () => {
    await test?.stop();
  });

  /** The distinct `account/event_id` a seed sends: the generator is deterministic for a seed. */
  function expectedEvents(seed: number, accounts: number, events: number): Set<string> {
    const generator = new EventGenerator({ seed, accounts });
    return new Set(generator.batch(events).map((event) => `${event.account_id}/${event.event_id}`));
  }

  async function storedEvents(seed: number): Promise<Set<string>> {
    const { rows } = await pipeline.pool.query(
      `SELECT account_id || '/' || event_id AS id FROM events WHERE event_id LIKE $1`,
      [`evt\\_${seed.toString(36)}\\_%`],
    );
    return new Set(rows.map((row) => row.id as string));
  }

  async function seedRun(...args: string[]) {
    const result = await ops('seed', ...args, '--json');
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    return JSON.parse(result.out);
  }

  it('sends generated events through the API, each stored and counted once', async () => {
    // Act
    const output = await seedRun(
      '--accounts',
      '3',
      '--events',
      '1500',
      '--days',
      '2',
      '--seed',
      '11',
      '--batch',
      '100',
    );

    // Assess: every event answered; only the generator's in-batch repeats refused
    expect(output.sent).toBe(1500);
    expect(Object.keys(output.rejected).every((code) => code === 'duplicate_in_batch')).toBe(true);
    expect(output.accepted + (output.rejected.duplicate_in_batch ?? 0)).toBe(1500);
    const expected = expectedEvents(11, 3, 1500);
    await waitFor(
      'every seeded event to be written',
      async () => (await storedEvents(11)).size === expected.size,
    );
    expect(await storedEvents(11)).toEqual(expected);

    // The printed key reads its account's summary: the whale's total is its distinct events
    const whale = output.accounts.find((account: { account: string }) => account.account === 'acct_0000');
    const whaleEvents = [...expected].filter((id) => id.startsWith('acct_0000/')).length;
    await waitFor('the whale summary to count every event', async () => {
      const summary = await getSummary(pipeline.endpoint, whale.key, 'acct_0000', { window: 'last_7d' });
      return summary.status === 200 && summary.body.total === whaleEvents;
    });
  });

  it('waits out the limiter when the tier is too small, and loses nothing', async () => {
    // Prepare: a free-tier account (10 requests/s, 500 events/s, 2 s of burst)
    expect((await ops('tenants', 'tier', 'acct_0000', 'free')).code).toBe(0);

    // Act: 30 requests, 8 at a time, more than the burst allows
    const output = await seedRun(
      '--accounts',
      '1',
      '--events',
      '3000',
      '--batch',
      '100',
      '--concurrency',
      '8',
      '--seed',
      '12',
    );

    // Assess
    expect(output.throttled).toBeGreaterThan(0);
    // The first test's key of acct_0000 was revoked: seed keys do not pile up
    const seedKeys = (await pipeline.tenants.listKeys('acct_0000')).filter(
      (k) => k.description === 'ops seed',
    );
    expect(seedKeys.map((k) => k.status).sort()).toEqual(['active', 'revoked']);
    const expected = expectedEvents(12, 1, 3000);
    await waitFor(
      'every seeded event to be written',
      async () => (await storedEvents(12)).size === expected.size,
    );
    expect(await storedEvents(12)).toEqual(expected);
    expect((await ops('tenants', 'tier', 'acct_0000', 'enterprise')).code).toBe(0);
  });

  it('resends a batch the API could not enqueue (503) once the queue is back', async () => {
    // Prepare: every SendMessageBatch fails, so ingest answers 503
    const faults = `${pipeline.standins.endpoints.sqs}/__faults`;
    await fetch(faults, {
      method: 'POST',
      body: JSON.stringify({ errorRate: 1, operations: ['SendMessageBatch'] }),
    });

    // Act: one request; heal the queue once it has been answered 503 (ingest makes 3 attempts of 3
    // SDK tries each before it answers 503, so 9 failed sends mean at least one 503)
    const run = seedRun('--accounts', '1', '--events', '100', '--batch', '100', '--seed', '13');
    await waitFor('ingest to answer 503', async () => {
      const { stats } = (await (await fetch(faults)).json()) as { stats: { errored: number } };
      return stats.errored >= 9;
    });
    await fetch(faults, { method: 'DELETE' });
    const output = await run;

    // Assess
    expect(output.retried).toBeGreaterThan(0);
    const expected = expectedEvents(13, 1, 100);
    await waitFor(
      'every seeded event to be written',
      async () => (await storedEvents(13)).size === expected.size,
    );
    expect(await storedEvents(13)).toEqual(expected);
  });

  it('stops with the reason when the API refuses an account', async () => {
    expect((await ops('tenants', 'suspend', 'acct_0001')).code).toBe(0);

    const result = await ops('seed', '--accounts', '2', '--events', '400', '--seed', '14');

    expect(result.code).toBe(1);
    expect(result.err).toMatch(/The API refused a batch: 401 unauthorized/);
    expect(result.err).toMatch(
      /To finish, run the same seed again \(counted once\): npm run ops -- seed --stage local --accounts 2 --events 400 --days 7 --seed 14$/,
    );
    await ops('tenants', 'activate', 'acct_0001');
  });

  it('prepares many accounts at once and returns their keys in account order', async () => {
    // Act: run twice, so the second run also revokes the first run's keys
    await seedAccounts(pipeline.tenants, 12, 'enterprise', 'order test', 4);
    const keys = await seedAccounts(pipeline.tenants, 12, 'enterprise', 'order test', 4);

    // Assess: acct_0000…acct_0011 in order, each with exactly one active key of this run
    expect(keys.map((k) => k.account)).toEqual(Array.from({ length: 12 }, (_, i) => accountIdFor(i)));
    for (const { account, key } of keys) {
      const mine = (await pipeline.tenants.listKeys(account)).filter((k) => k.description === 'order test');
      expect(mine.map((k) => k.status).sort()).toEqual(['active', 'revoked']);
      expect(mine.find((k) => k.status === 'active')!.keyHash).toBe(hashApiKey(key));
    }
  });

  it('refuses options it cannot honour before creating anything', async () => {
    const keysBefore = await pipeline.tenants.listKeys('acct_0000');

    const days = await ops('seed', '--days', '40');
    expect(days.code).toBe(1);
    expect(days.err).toMatch(/--days must be a whole number from 1 to 27/);
    expect((await ops('seed', '--tier', 'gold')).err).toMatch(/--tier must be free, standard or enterprise/);
    // Any store access of the prod target would throw.
    await expect(seed(scriptedTarget({ stage: 'prod' }), { positionals: [], values: {} })).rejects.toThrow(
      /refuses --stage prod/,
    );

    expect(await pipeline.tenants.listKeys('acct_0000')).toEqual(keysBefore);
  });
});
