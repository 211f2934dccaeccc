/**
 * The whole local pipeline through HTTP: several accounts with duplicates, retries and invalid
 * events are counted exactly; a restart loses nothing; a poison message reaches the DLQ after
 * maxReceiveCount and a move task brings messages back.
 *
 * The tests share one pipeline and run in order (each adds to what the accounts hold), but each
 * also passes alone (`-t`): counts compare with what was accepted so far, and DLQ depths with the
 * depth the test started from.
 */
import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageConfigs } from '../../lib/config/stage-config';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline';
import { createAccount, createKey } from '../../ops/tenants';
import { getSummary, postEvents } from '../support/http-client';
import { makeTempDir, removeTempDir } from '../support/temp-dir';
import { waitFor } from '../support/wait';

/** Redeliveries after a second: the poison test waits for five of them. */
const VISIBILITY_SECONDS = 1;
const config = { ...stageConfigs.local, writer: { ...stageConfigs.local.writer, timeoutSeconds: 5 } };
/** Every accepted event is counted within this long of its 202 (the stated freshness bound). */
const FRESHNESS_BOUND_MS = 15_000;

interface Sent {
  event_id: string;
  user_id: string;
  type: string;
  timestamp: number;
}

describe('Local pipeline end to end', () => {
  let dir: string;
  let pipeline: LocalPipeline;
  let sqs: SQSClient;
  const accounts: { id: string; key: string }[] = [];
  const accepted = new Map<string, Map<string, Sent>>();

  async function start() {
    pipeline = await startLocalPipeline({
      dir,
      port: 0,
      config,
      visibilityTimeoutSeconds: VISIBILITY_SECONDS,
    });
    sqs = new SQSClient(pipeline.standins.clients.sqs);
  }

  function expected(account: string) {
    const events = [...(accepted.get(account)?.values() ?? [])];
    const totals: Record<string, number> = {};
    const users = new Map<string, number>();
    for (const event of events) {
      totals[event.type] = (totals[event.type] ?? 0) + 1;
      users.set(event.user_id, (users.get(event.user_id) ?? 0) + 1);
    }
    const top = [...users]
      .map(([user_id, n]) => ({ user_id, events: n }))
      .sort((a, b) => b.events - a.events || (a.user_id < b.user_id ? -1 : 1))
      .slice(0, 10);
    return { totals, total: events.length, top_users: top };
  }

  async function expectCounted(account: { id: string; key: string }) {
    const want = expected(account.id);
    const summary = await waitFor(
      `${account.id} to count ${want.total} events`,
      async () => {
        const { body } = await getSummary(pipeline.endpoint, account.key, account.id, { window: 'last_24h' });
        return body.total === want.total ? body : undefined;
      },
      { timeoutMs: FRESHNESS_BOUND_MS },
    );
    expect({ totals: summary.totals, total: summary.total, top_users: summary.top_users }).toEqual(want);
  }

  beforeAll(async () => {
    dir = await makeTempDir('e2e');
    await start();
    for (const [name, tier] of [
      ['e2e-a', 'standard'],
      ['e2e-b', 'free'],
      ['e2e-c', 'enterprise'],
    ] as const) {
      await createAccount(pipeline.tenants, { accountId: name, name, tier });
      const { key } = await createKey(pipeline.tenants, { accountId: name, kind: 'secret' });
      accounts.push({ id: name, key });
      accepted.set(name, new Map());
    }
  }, 60_000);

  afterAll(async () => {
    await pipeline?.stop();
    await removeTempDir(dir);
  });

  it('counts the distinct valid events of several accounts exactly, through duplicates, retries and invalid events', async () => {
    const now = Date.now();
    for (const [a, account] of accounts.entries()) {
      for (let request = 0; request < 6; request++) {
        const make = (n: number) => ({
          event_id: `e${n}`,
          user_id: `u${(n * (a + 3)) % 17}`,
          type: ['view', 'click', 'buy'][n % 3]!,
          timestamp: now - n * 1000,
        });
        const events: unknown[] = [];
        for (let i = 0; i < 40; i++) events.push(make(request * 40 + i));
        // A duplicate inside the request, two invalid events, and the last event of the previous
        // request again (as a client resending it would): accepted by ingest, counted once.
        events.push({ ...(events[0] as object) });
        events.push(
          { event_id: 'bad-type', user_id: 'u', type: 'no spaces', timestamp: now },
          { event_id: 'old', user_id: 'u', type: 't', timestamp: now - 40 * 86_400_000 },
        );
        if (request > 0) events.push(make(request * 40 - 1));
        const response = await postEvents(pipeline.endpoint, account.key, events);
        expect(response.status).toBe(202);
        expect(response.body.rejected.map((r: { code: string }) => r.code)).toEqual([
          'duplicate_in_batch',
          'invalid_format',
          'timestamp_too_old',
        ]);
        // The client retries the same request (as after a timeout): nothing may be counted twice.
        if (request % 2 === 0)
          expect((await postEvents(pipeline.endpoint, account.key, events)).status).toBe(202);
        for (const event of events as Sent[]) {
          const seen = accepted.get(account.id)!;
          if (event.type.includes(' ') || event.timestamp < now - 30 * 86_400_000 || seen.has(event.event_id))
            continue;
          seen.set(event.event_id, event);
        }
      }
    }
    for (const account of accounts) await expectCounted(account);
    const { status } = await getSummary(pipeline.endpoint, accounts[0]!.key, accounts[1]!.id);
    expect(status).toBe(403);
  }, 60_000);

  it('keeps every count across a restart, including events accepted just before the stop', async () => {
    const account = accounts[0]!;
    const last = [...Array(25)].map((_, i) => ({
      event_id: `late-${i}`,
      user_id: 'u-late',
      type: 'view',
      timestamp: Date.now(),
    }));
    expect((await postEvents(pipeline.endpoint, account.key, last)).status).toBe(202);
    for (const event of last) accepted.get(account.id)!.set(event.event_id, event);

    await pipeline.stop();
    await start();

    for (const each of accounts) await expectCounted(each);
    expect(pipeline.demo).toBeDefined();
  }, 60_000);

  it('sends a poison message to the DLQ after maxReceiveCount without blocking the others', async () => {
    const good = accounts[2]!;
    const before = await dlqDepth();
    await sqs.send(
      new SendMessageCommand({ QueueUrl: pipeline.queues.events, MessageBody: '{"v":1,"oops":true}' }),
    );
    const events = [...Array(10)].map((_, i) => ({
      event_id: `after-poison-${i}`,
      user_id: 'u',
      type: 'view',
      timestamp: Date.now(),
    }));
    expect((await postEvents(pipeline.endpoint, good.key, events)).status).toBe(202);
    for (const event of events) accepted.get(good.id)!.set(event.event_id, event);
    await expectCounted(good);

    await waitFor('the poison message in the DLQ', async () => (await dlqDepth()) === before + 1, {
      timeoutMs: 30_000,
    });
    const { rows } = await pipeline.pool.query(
      "SELECT count(*)::int AS n FROM message_failures WHERE error_code = 'malformed_message'",
    );
    expect(rows[0].n).toBe(config.queue.maxReceiveCount);
  }, 60_000);

  it('brings DLQ messages back with a move task: events that failed during a database outage are counted once it is over', async () => {
    const account = accounts[1]!;
    const before = await dlqDepth();
    await pipeline.database.pause();
    const events = [...Array(30)].map((_, i) => ({
      event_id: `outage-${i}`,
      user_id: `u${i % 4}`,
      type: 'click',
      timestamp: Date.now(),
    }));
    // Ingest keeps answering 202 while PostgreSQL is down.
    expect((await postEvents(pipeline.endpoint, account.key, events)).status).toBe(202);
    for (const event of events) accepted.get(account.id)!.set(event.event_id, event);
    // With a 1 s visibility timeout the outage outlasts maxReceiveCount attempts: to the DLQ.
    await waitFor('the failed message in the DLQ', async () => (await dlqDepth()) > before, {
      timeoutMs: 30_000,
    });
    await pipeline.database.restart();

    const { TaskHandle } = await sqs.send(
      new StartMessageMoveTaskCommand({ SourceArn: pipeline.queues.deadLetterArn }),
    );
    expect(TaskHandle).toBeDefined();
    await waitFor('the move task to finish', async () => {
      const { Results = [] } = await sqs.send(
        new ListMessageMoveTasksCommand({ SourceArn: pipeline.queues.deadLetterArn }),
      );
      return Results[0]?.Status === 'COMPLETED';
    });
    await expectCounted(account);
    // Whatever was in the DLQ before went back too; the poison message earlier in this file is on
    // its way to the DLQ again. The outage's message is gone for good: it was written.
    await waitFor(
      'the DLQ back to what it held before the outage',
      async () => (await dlqDepth()) === before,
      {
        timeoutMs: 30_000,
      },
    );
  }, 90_000);

  async function dlqDepth(): Promise<number> {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: pipeline.queues.deadLetter,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  }
});
