/**
 * Erasure in PostgreSQL (promise 8): a user's events and their share of every rollup, or a whole
 * account, are removed exactly; deliveries that were on their way cannot bring them back; writers
 * racing the erasure leave raw rows and rollups consistent; the audit record names no user.
 */
import { createHash } from 'node:crypto';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  completeErasure,
  ErasureInProgress,
  eraseFromDatabase,
} from '../../lambdas/adapters/postgres/erasure';
import { DAY_MS, HOUR_MS } from '../../lambdas/core/time-buckets';
import { createErasureHandler, InvalidErasureRequest } from '../../lambdas/handlers/erasure';
import { createObservability } from '../../lambdas/shared/observability';
import { writeEvents } from '../../lambdas/use-cases/write-events';
import { deployedEraser } from '../../ops/target';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { deliveriesFor, event, redelivered } from '../support/queue-messages';
import {
  expectStoreToHold as expectStoreState,
  readStoreState,
  type StoredEvent,
} from '../support/store-state';
import { testWriters } from '../support/writers';

const sha256 = (text: string) => createHash('sha256').update(text).digest();

describe('Adapter: eraseFromDatabase', () => {
  let db: TestDatabase;

  const { writer, end: endWriters } = testWriters(() => db.url);

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.pool.query(
      'TRUNCATE events, event_keys, rollup_user_day, rollup_type_day, committed_messages, message_failures, skipped_events, erasures',
    );
  });
  afterAll(async () => {
    await endWriters();
    await db.drop();
  });

  const expectStoreToHold = (events: readonly StoredEvent[]) => expectStoreState(db.pool, events);

  /** Events of two accounts, users and types over yesterday and today, at various hours. */
  function history(): StoredEvent[] {
    const yesterday = Math.floor(Date.now() / DAY_MS - 1) * DAY_MS;
    return Array.from({ length: 60 }, (_, i) =>
      event(
        i % 4 === 0 ? 'acct-b' : 'acct-a',
        `e${i}`,
        yesterday + (i % 30) * HOUR_MS + i * 1000,
        `user-${i % 3}`,
        i % 2 === 0 ? 'click' : 'page_view',
      ),
    );
  }

  it("removes one user's events and exactly their share of every rollup", async () => {
    // Prepare
    const events = history();
    await writeEvents(writer(), deliveriesFor(events));

    // Act
    const { removed } = await eraseFromDatabase(db.pool, {
      accountId: 'acct-a',
      userId: 'user-1',
      requestedBy: 'test',
    });

    // Assess: what remains is what the others sent, counted exactly
    const kept = events.filter((e) => !(e.account_id === 'acct-a' && e.user_id === 'user-1'));
    await expectStoreToHold(kept);
    expect(removed.events).toBe(events.length - kept.length);
    expect(removed.event_keys).toBe(removed.events);
  });

  it('spreads a removal over calls when its time runs out, each resuming after the last day done', async () => {
    // Prepare
    const events = history();
    await writeEvents(writer(), deliveriesFor(events));
    const request = { accountId: 'acct-a', userId: 'user-1', requestedBy: 'test' };

    // Act: no time at all, so each call removes one day partition
    const calls = [await eraseFromDatabase(db.pool, request, { budgetMs: 0 })];
    while (!calls.at(-1)!.done) calls.push(await eraseFromDatabase(db.pool, request, { budgetMs: 0 }));

    // Assess: one erasure, resumed by every later call, and exactly the same result
    const { rows } = await db.pool.query('SELECT count(*)::int AS days FROM firehose_event_partition_days()');
    expect(calls).toHaveLength(rows[0].days + 1);
    expect(new Set(calls.map((call) => call.erasureId)).size).toBe(1);
    expect(calls.slice(1).every((call) => call.resumed)).toBe(true);
    const kept = events.filter((e) => !(e.account_id === 'acct-a' && e.user_id === 'user-1'));
    await expectStoreToHold(kept);
    expect(calls.at(-1)!.removed.events).toBe(events.length - kept.length);
  });

  it('drops erased events that arrive later (redelivery, DLQ re-drive, replay), but not newer ones', async () => {
    // Prepare
    const events = history();
    const deliveries = deliveriesFor(events);
    await writeEvents(writer(), deliveries);
    const { erasureId, erasedBefore } = await eraseFromDatabase(db.pool, {
      accountId: 'acct-a',
      userId: 'user-1',
      requestedBy: 'test',
    });
    await completeErasure(db.pool, erasureId, {});
    await eraseFromDatabase(db.pool, { accountId: 'acct-b', requestedBy: 'test' });

    // Act: the same messages again, and a new event of the erased user received after the erasure
    const outcome = await writeEvents(writer(), redelivered(deliveries));
    const later = event('acct-a', 'after', Date.now(), 'user-1');
    await writeEvents(
      writer(),
      deliveriesFor([later], { receivedAt: new Date(erasedBefore.getTime() + 1).toISOString() }),
    );

    // Assess
    expect(outcome).toMatchObject({ failedMessageIds: [], inserted: 0 });
    const kept = events.filter((e) => e.account_id === 'acct-a' && e.user_id !== 'user-1');
    await expectStoreToHold([...kept, later]);
  });

  it('removes a whole account from every table, leaving the others untouched', async () => {
    // Prepare
    const events = history();
    await writeEvents(writer(), deliveriesFor(events));
    // An event of each account older than raw retention: the writer sets it aside in skipped_events.
    await writeEvents(
      writer(),
      deliveriesFor(
        ['acct-a', 'acct-b'].map((account) => event(account, 'too-old', Date.now() - 100 * DAY_MS)),
      ),
    );
    await db.pool.query(
      `INSERT INTO message_failures (message_id, receive_count, error_code, error, body_excerpt)
       VALUES ('m1', 1, 'malformed', 'x', '{"v":1,"account_id":"acct-b","events":[') ,
              ('m2', 1, 'malformed', 'x', '{"v":1,"account_id":"acct-a","events":[')`,
    );

    // Act
    const { removed } = await eraseFromDatabase(db.pool, {
      accountId: 'acct-b',
      requestedBy: 'test',
    });

    // Assess
    await expectStoreToHold(events.filter((e) => e.account_id === 'acct-a'));
    const leftFor = async (table: string) =>
      (await db.pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE account_id = 'acct-b'`)).rows[0].n;
    expect(await leftFor('committed_messages')).toBe(0);
    expect(await leftFor('skipped_events')).toBe(0);
    expect(
      (await db.pool.query("SELECT count(*)::int AS n FROM skipped_events WHERE account_id = 'acct-a'"))
        .rows[0].n,
    ).toBe(1);
    expect(removed).toMatchObject({
      events: 15,
      event_keys: 15,
      committed_messages: 2,
      message_failures: 1,
      skipped_events: 1,
    });
    const failures = await db.pool.query('SELECT message_id FROM message_failures');
    expect(failures.rows).toEqual([{ message_id: 'm2' }]);
  });

  it("removes the user's day rows older than raw retention whole, keeping those days' type totals", async () => {
    // Prepare: rollups of a day whose raw events retention has dropped (before the floor)
    const { rows } = await db.pool.query(
      "SELECT to_char(first_kept_day - 10, 'YYYY-MM-DD') AS day FROM event_retention",
    );
    const oldDay = rows[0].day as string;
    await db.pool.query(
      `INSERT INTO rollup_user_day (account_id, user_id, day, events, h05) VALUES
         ('acct-a', 'user-1', $1, 3, 3), ('acct-a', 'user-2', $1, 2, 2)`,
      [oldDay],
    );
    await db.pool.query(
      `INSERT INTO rollup_type_day (account_id, day, type, events, h05) VALUES ('acct-a', $1, 'click', 5, 5)`,
      [oldDay],
    );

    // Act
    await eraseFromDatabase(db.pool, {
      accountId: 'acct-a',
      userId: 'user-1',
      requestedBy: 'test',
    });

    // Assess
    const state = await readStoreState(db.pool);
    expect([...state.userDays.keys()]).toEqual([`acct-a|user-2|${oldDay}`]);
    expect(state.typeDays.get(`acct-a|${oldDay}|click`)).toMatch(/^5\|/);
  });

  it('leaves raw rows and rollups consistent while writers race the erasure', async () => {
    // Prepare: 40 batches of the user's and others' events, written by 2 writers while it erases
    const now = Date.now();
    const batches = Array.from({ length: 40 }, (_, b) =>
      deliveriesFor(
        Array.from({ length: 50 }, (_, i) =>
          event('acct-a', `b${b}-${i}`, now - (i % 20) * HOUR_MS, `user-${i % 5}`, i % 2 ? 'click' : 'buy'),
        ),
        { receivedAt: new Date(now - 1000).toISOString() },
      ),
    );
    // The user's newer events, received after the erasure: kept, and written while it runs.
    const later = Array.from({ length: 10 }, (_, b) =>
      deliveriesFor(
        Array.from({ length: 20 }, (_, i) =>
          event('acct-a', `later${b}-${i}`, now - (i % 20) * HOUR_MS, 'user-3', 'buy'),
        ),
        { receivedAt: new Date(now + 60_000).toISOString() },
      ),
    );
    batches.push(...later);
    const writers = [writer(), writer()];
    // The erasure starts once a fifth of the batches are written: mid-stream on any machine.
    let written = 0;
    let reachedFifth!: () => void;
    const fifthWritten = new Promise<void>((resolve) => {
      reachedFifth = resolve;
    });

    // Act
    const writing = Promise.all(
      writers.map(async (deps, w) => {
        for (let b = w; b < batches.length; b += writers.length) {
          await writeEvents(deps, batches[b]!);
          if (++written === batches.length / 5) reachedFifth();
        }
      }),
    );
    // A writer failing before the fifth would otherwise leave this waiting: it fails the test instead.
    await Promise.race([fifthWritten, writing]);
    await eraseFromDatabase(db.pool, {
      accountId: 'acct-a',
      userId: 'user-3',
      requestedBy: 'test',
    });
    await writing;

    // Assess: none of the user's events, and every rollup equals what the stored events make
    const state = await readStoreState(db.pool);
    const stored = [...state.events].map(([key, value]) => {
      const [account_id, event_id] = key.split('/') as [string, string];
      const [user_id, type, timestamp] = value.split('|') as [string, string, string];
      return { account_id, event_id, user_id, type, timestamp };
    });
    expect(stored.filter((e) => e.user_id === 'user-3').every((e) => e.event_id.startsWith('later'))).toBe(
      true,
    );
    expect(stored.length).toBe(40 * 40 + 10 * 20);
    await expectStoreToHold(stored);
  });

  it('cancels a removal statement at its deadline, leaving that day whole for the call that resumes it', async () => {
    // Prepare: the user's type-day rollups held by another transaction, so the removal waits on them
    const events = history();
    await writeEvents(writer(), deliveriesFor(events));
    const holder = await db.pool.connect();
    await holder.query('BEGIN');
    await holder.query("SELECT * FROM rollup_type_day WHERE account_id = 'acct-a' FOR UPDATE");
    const request = { accountId: 'acct-a', userId: 'user-1', requestedBy: 'test' };

    // Act: a deadline 300 ms away, as the erasure function sets it before its own timeout
    let cut: unknown;
    try {
      cut = await eraseFromDatabase(db.pool, request, { deadline: Date.now() + 300 }).then(
        () => new Error('not cancelled'),
        (error: unknown) => error,
      );
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }

    // Assess: cancelled (57014), nothing of that day removed; the same request then finishes it
    expect((cut as { code?: string }).code).toBe('57014');
    await expectStoreToHold(events);
    const resumed = await eraseFromDatabase(db.pool, request);
    expect(resumed).toMatchObject({ resumed: true, done: true });
    await expectStoreToHold(events.filter((e) => !(e.account_id === 'acct-a' && e.user_id === 'user-1')));
  });

  it('resumes an interrupted erasure with its own id and instant, and refuses another meanwhile', async () => {
    // Prepare: an erasure whose other stores never finished (no completeErasure)
    await writeEvents(writer(), deliveriesFor(history()));
    const first = await eraseFromDatabase(db.pool, {
      accountId: 'acct-a',
      userId: 'user-1',
      requestedBy: 'test',
    });
    const newer = event('acct-a', 'newer', Date.now(), 'user-1');
    await writeEvents(
      writer(),
      deliveriesFor([newer], { receivedAt: new Date(Date.now() + 1000).toISOString() }),
    );

    // Act
    const other = await eraseFromDatabase(db.pool, {
      accountId: 'acct-a',
      userId: 'user-2',
      requestedBy: 'test',
    }).then(
      () => new Error('not refused'),
      (error: unknown) => error,
    );
    const again = await eraseFromDatabase(db.pool, {
      accountId: 'acct-a',
      userId: 'user-1',
      requestedBy: 'test',
    });

    // Assess: another erasure waits for this one; the rerun is the same erasure, and the event
    // received after it is still there
    expect(other).toBeInstanceOf(ErasureInProgress);
    expect((other as Error).message).toContain(
      `Erasure ${first.erasureId} (account acct-a, requested by test at`,
    );
    expect(again).toMatchObject({
      erasureId: first.erasureId,
      erasedBefore: first.erasedBefore,
      resumed: true,
    });
    expect((await readStoreState(db.pool)).events.has('acct-a/newer')).toBe(true);
    await completeErasure(db.pool, first.erasureId, { archive_lines: 1 });
    const { rows } = await db.pool.query('SELECT removed FROM erasures WHERE id = $1', [first.erasureId]);
    expect(rows[0].removed).toMatchObject({ events: first.removed.events, archive_lines: 1 });
  });

  it("removes the failure records of the account that name the user, even cut off, and no other's", async () => {
    const excerpt = (account: string, user: string) =>
      `{"v":1,"message_key":"r:0","account_id":"${account}","request_id":"r","received_at":"2026-11-20T00:00:00.000Z","events":[{"event_id":"e","user_id":"${user}"`;
    await db.pool.query(
      `INSERT INTO message_failures (message_id, receive_count, error_code, error, body_excerpt) VALUES
         ('alice', 1, 'malformed', 'x', $1), ('cut', 1, 'malformed', 'x', $2),
         ('other-account', 1, 'malformed', 'x', $3), ('bob', 1, 'malformed', 'x', $4)`,
      [
        excerpt('acct-a', 'alice'),
        excerpt('acct-a', 'alice').slice(0, -3),
        excerpt('acct-b', 'alice'),
        excerpt('acct-a', 'bob'),
      ],
    );

    const { removed } = await eraseFromDatabase(db.pool, {
      accountId: 'acct-a',
      userId: 'alice',
      requestedBy: 'test',
    });

    expect(removed.message_failures).toBe(2);
    const { rows } = await db.pool.query('SELECT message_id FROM message_failures ORDER BY message_id');
    expect(rows.map((row) => row.message_id)).toEqual(['bob', 'other-account']);
  });

  it("does not write a deleted tenant's bookkeeping again when its messages arrive later", async () => {
    const deliveries = deliveriesFor([
      event('acct-b', 'e1'),
      event('acct-b', 'old', Date.now() - 200 * DAY_MS),
    ]);
    await eraseFromDatabase(db.pool, { accountId: 'acct-b', requestedBy: 'test' });

    await writeEvents(writer(), deliveries);

    for (const table of ['events', 'committed_messages', 'skipped_events']) {
      const { rows } = await db.pool.query(
        `SELECT count(*)::int AS n FROM ${table} WHERE account_id = 'acct-b'`,
      );
      expect(rows[0].n, table).toBe(0);
    }
  });

  it('keeps an audit record that proves what was erased without naming the user', async () => {
    const { erasureId, erasedBefore, requestedAt, removed } = await eraseFromDatabase(db.pool, {
      accountId: 'acct-a',
      userId: 'user-1',
      requestedBy: 'alice',
      reason: 'ticket 42',
    });
    await completeErasure(db.pool, erasureId, { archive_objects: 2 });

    const { rows } = await db.pool.query('SELECT * FROM erasures');
    expect(rows).toEqual([
      expect.objectContaining({
        id: String(erasureId),
        account_id: 'acct-a',
        user_sha256: sha256('user-1'),
        erased_before: erasedBefore,
        requested_at: requestedAt,
        requested_by: 'alice',
        reason: 'ticket 42',
        completed_at: expect.any(Date),
        removed: { ...removed, archive_objects: 2 },
      }),
    ]);
    expect(JSON.stringify(rows)).not.toContain('user-1');
  });

  describe('Handler: erasure (the deployed entry the ops CLI invokes)', () => {
    const handler = () =>
      createErasureHandler(
        () => ({ pool: db.pool }),
        createObservability('erasure', { POWERTOOLS_LOG_LEVEL: 'SILENT' }),
      );

    it('erases, then records what the other stores removed', async () => {
      const events = history();
      await writeEvents(writer(), deliveriesFor(events));
      const users = events.filter((e) => e.account_id === 'acct-a' && e.user_id === 'user-2');

      const erased = await handler()({
        action: 'erase',
        accountId: 'acct-a',
        userId: 'user-2',
        requestedBy: 'ops',
        graceSeconds: 0,
      });
      const erasureId = (erased as { erasureId: number }).erasureId;
      await handler()({ action: 'complete', erasureId, removed: { archive_lines: 4 } });

      const { rows } = await db.pool.query('SELECT removed, completed_at FROM erasures WHERE id = $1', [
        erasureId,
      ]);
      expect(rows[0].removed).toMatchObject({ events: users.length, archive_lines: 4 });
      expect(rows[0].completed_at).toBeInstanceOf(Date);
    });

    it("answers the ops CLI's deployed eraser: the same requests and answers, end to end", async () => {
      // Prepare: the CLI's Lambda client, answered by this handler as the deployed function would
      const lambda = mockClient(LambdaClient);
      lambda.on(InvokeCommand).callsFake(async ({ Payload }: { Payload: Uint8Array }) => ({
        Payload: Buffer.from(JSON.stringify(await handler()(JSON.parse(Buffer.from(Payload).toString())))),
      }));
      await writeEvents(writer(), deliveriesFor(history()));
      const eraser = deployedEraser('dev', new LambdaClient({ region: 'us-east-1' }));

      try {
        // Act
        const erased = await eraser.erase({ accountId: 'acct-a', userId: 'user-2', requestedBy: 'ops' });
        await eraser.complete(erased.erasureId, { archive_lines: 1 });
        const [record] = await eraser.list({ accountId: 'acct-a' });

        // Assess
        expect(erased.done).toBe(true);
        expect(erased.erasedBefore).toBeInstanceOf(Date);
        expect(record).toMatchObject({ id: erased.erasureId, accountId: 'acct-a', requestedBy: 'ops' });
        expect(record!.completedAt).toBeInstanceOf(Date);
        expect(record!.removed).toMatchObject({ archive_lines: 1 });
      } finally {
        lambda.restore();
      }
    });

    it('lists the audit records, newest first, of one account or all', async () => {
      const first = await eraseFromDatabase(db.pool, {
        accountId: 'acct-a',
        userId: 'u',
        requestedBy: 'ops',
      });
      await completeErasure(db.pool, first.erasureId, {});
      const second = await eraseFromDatabase(db.pool, { accountId: 'acct-b', requestedBy: 'ops' });

      const all = (await handler()({ action: 'list' })) as { id: number; userSha256: string | null }[];
      const ofA = (await handler()({ action: 'list', accountId: 'acct-a' })) as { id: number }[];

      expect(all.map((record) => record.id)).toEqual([second.erasureId, first.erasureId]);
      expect(all[1]!.userSha256).toBe(sha256('u').toString('hex'));
      expect(ofA.map((record) => record.id)).toEqual([first.erasureId]);
    });

    it.each([
      [{ action: 'erase', accountId: '', requestedBy: 'ops' }, /^accountId: /],
      [{ action: 'erase', accountId: 'a', requestedBy: 'ops', graceSeconds: -1 }, /^graceSeconds: /],
      [{ action: 'complete', erasureId: 'x', removed: {} }, /^erasureId: /],
      [{ action: 'drop everything' }, /^action: /],
    ])('refuses %j by name, changing nothing', async (request, message) => {
      const attempt = handler()(request);
      await expect(attempt).rejects.toBeInstanceOf(InvalidErasureRequest);
      await expect(attempt).rejects.toThrow(message);
      expect((await db.pool.query('SELECT count(*)::int AS n FROM erasures')).rows[0].n).toBe(0);
    });
  });
});
