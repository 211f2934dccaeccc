import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRateLimiter } from '../../lambdas/adapters/dynamodb/rate-limiter';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';

const limits = { requestsPerSecond: 10, eventsPerSecond: 500, burstSeconds: 2 };

describe('Adapter: DynamoRateLimiter', () => {
  let dynamo: TestDynamo;
  let clock = 1_000_000;
  const limiter = () => new DynamoRateLimiter(dynamo.documents, dynamo.names.rateLimitTable, () => clock);

  beforeAll(async () => {
    dynamo = await startTestDynamo();
  });
  afterEach(() => dynamo.standin.faults.reset());
  afterAll(async () => {
    await dynamo.stop();
  });

  it('shares one budget between instances and recovers at the sustained rate', async () => {
    const [a, b] = [limiter(), limiter()];
    const results: boolean[] = [];
    for (let i = 0; i < 8; i++)
      results.push(
        (await (i % 2 ? a : b).consume('acct-shared', { requests: 1, events: 200 }, limits)).allowed,
      );
    expect(results).toEqual([true, true, true, true, true, false, false, false]);
    clock += 400;
    expect((await limiter().consume('acct-shared', { requests: 1, events: 200 }, limits)).allowed).toBe(true);
  });

  it('refuses, rather than admits, when the account item is throttled', async () => {
    dynamo.standin.faults.set({ throttleRate: 1 });
    const admission = await limiter().consume('acct-hot', { requests: 1, events: 1 }, limits);
    expect(admission).toMatchObject({ allowed: false, retryAfterMs: 1000 });
  });

  it('throws (so ingest fails open) only when the store is unreachable', async () => {
    dynamo.standin.faults.set({ down: true });
    await expect(limiter().consume('acct-down', { requests: 1, events: 1 }, limits)).rejects.toThrow();
  });

  it('remembers a refusal until its retry time, without asking DynamoDB again', async () => {
    const instance = limiter();
    for (let i = 0; i < 5; i++) await instance.consume('acct-noisy', { requests: 1, events: 200 }, limits);
    const refused = await instance.consume('acct-noisy', { requests: 1, events: 200 }, limits);
    expect(refused.allowed).toBe(false);
    dynamo.standin.faults.set({ down: true });
    const again = await instance.consume('acct-noisy', { requests: 1, events: 200 }, limits);
    expect(again).toMatchObject({ allowed: false });
    dynamo.standin.faults.reset();
    clock += 1_000;
    expect((await instance.consume('acct-noisy', { requests: 1, events: 200 }, limits)).allowed).toBe(true);
  });

  it('still admits a smaller request that fits after a larger one was refused', async () => {
    const instance = limiter();
    // 4 x 200 events and 1 x 150 events: the TAT is 1.9 s ahead, 0.1 s of the 2 s burst is left.
    for (let i = 0; i < 4; i++) await instance.consume('acct-mixed', { requests: 1, events: 200 }, limits);
    expect((await instance.consume('acct-mixed', { requests: 1, events: 150 }, limits)).allowed).toBe(true);

    const large = await instance.consume('acct-mixed', { requests: 1, events: 200 }, limits);
    const small = await instance.consume('acct-mixed', { requests: 1, events: 1 }, limits);

    expect(large).toMatchObject({ allowed: false, dimension: 'events', retryAfterMs: 300 });
    expect(small.allowed).toBe(true);
  });

  it('makes one DynamoDB call per admitted request, for an idle account as for a busy one', async () => {
    let calls = 0;
    const counted = new Proxy(dynamo.documents, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return (...args: Parameters<typeof target.send>) => {
          calls++;
          return target.send(...args);
        };
      },
    });
    const instance = new DynamoRateLimiter(counted, dynamo.names.rateLimitTable, () => clock);
    const one = { requests: 1, events: 1 };

    await instance.consume('acct-calls', one, limits); // new account
    clock += 10_000;
    await instance.consume('acct-calls', one, limits); // idle again
    await instance.consume('acct-calls', one, limits); // busy (TAT ahead of now)

    expect(calls).toBe(3);
  });
});
