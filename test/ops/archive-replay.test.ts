/**
 * `ops archive replay`: which hours it reads, which events it picks, how it packs them, and what it
 * does when S3, SQS or the ledger fails part-way (scripted clients; the end-to-end replay against
 * the local pipeline is in test/e2e/archive-replay.test.ts).
 */
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, type SendMessageBatchCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import type { DynamoMessageLedger } from '../../lambdas/adapters/dynamodb/message-ledger';
import { type ArchivedEvent, archiveLine, parseArchiveLines } from '../../lambdas/core/archive-records';
import type { LedgerEntry } from '../../lambdas/core/ports';
import {
  MAX_QUEUE_MESSAGE_BYTES,
  parseQueueMessage,
  serializeQueuedEvent,
} from '../../lambdas/core/queue-message';
import { addDays } from '../../lambdas/core/time-buckets';
import {
  archiveReplay,
  pacingDelayMs,
  replayFolders,
  replayMessages,
  selectForReplay,
} from '../../ops/archive-replay';
import { OpsError, type OpsTarget } from '../../ops/target';
import { scriptedArchive, scriptedTarget } from '../support/ops-target';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-20T14:00:00.000Z');

function archived(index: number, overrides: Partial<ArchivedEvent> = {}): ArchivedEvent {
  return {
    account_id: 'acme',
    request_id: `req-${Math.floor(index / 3)}`,
    received_at: new Date(T0 + Math.floor(index / 3) * 60_000).toISOString(),
    event_id: `e${index}`,
    user_id: `u${index % 4}`,
    type: 'click',
    timestamp: new Date(T0 - index * 1000).toISOString(),
    metadata: { page: `/p/${index}` },
    ...overrides,
  };
}

/** The message keys of one SendMessageBatch call. */
function queuedKeys(input: SendMessageBatchCommandInput): string {
  return (input.Entries ?? []).map((entry) => parseQueueMessage(entry.MessageBody!).message_key).join(',');
}

/** An archive object's text, as ingest writes the lines. */
function objectText(events: readonly ArchivedEvent[]): string {
  return events
    .map(({ account_id, received_at, request_id, ...event }) =>
      archiveLine(serializeQueuedEvent(event), { account_id, received_at, request_id }),
    )
    .join('');
}

describe('Function: replayFolders', () => {
  it('reads from the hour before the window (Firehose buffers) to the hour after it (late puts)', () => {
    expect(replayFolders({ from: T0 + 30 * 60_000, to: T0 + 2 * HOUR })).toEqual([
      'events/2026/11/20/13/',
      'events/2026/11/20/14/',
      'events/2026/11/20/15/',
      'events/2026/11/20/16/',
    ]);
    expect(
      replayFolders({ from: Date.parse('2026-12-31T23:10:00Z'), to: Date.parse('2027-01-01T00:10:00Z') }),
    ).toEqual([
      'events/2026/12/31/22/',
      'events/2026/12/31/23/',
      'events/2027/01/01/00/',
      'events/2027/01/01/01/',
    ]);
  });
});

describe('Function: pacingDelayMs', () => {
  it('waits just long enough to hold the events sent to the rate since the start', () => {
    expect(pacingDelayMs(500, 1000, 200)).toBe(300);
    expect(pacingDelayMs(500, 1000, 500)).toBe(0);
    expect(pacingDelayMs(500, 1000, 900)).toBe(0);
  });
});

describe('Function: selectForReplay', () => {
  it('keeps the events received inside [from, to), of the account asked for', () => {
    const events = [
      archived(0, { received_at: new Date(T0 - 1).toISOString() }),
      archived(1, { received_at: new Date(T0).toISOString() }),
      archived(2, { received_at: new Date(T0 + HOUR - 1).toISOString(), account_id: 'other' }),
      archived(3, { received_at: new Date(T0 + HOUR).toISOString() }),
    ];

    expect(selectForReplay(events, { from: T0, to: T0 + HOUR }).map((e) => e.event_id)).toEqual(['e1', 'e2']);
    expect(
      selectForReplay(events, { from: T0, to: T0 + HOUR, accountId: 'other' }).map((e) => e.event_id),
    ).toEqual(['e2']);
  });
});

describe('Function: replayMessages', () => {
  it('packs each request as ingest did, under new keys, with the original received_at', () => {
    // Prepare: three requests of one account, one of another
    const events = [...Array.from({ length: 9 }, (_, i) => archived(i)), archived(9, { account_id: 'zeta' })];

    // Act
    const messages = replayMessages(events, 'replay-1:1');

    // Assess
    expect(messages.map((m) => m.accountId)).toEqual(['acme', 'zeta']);
    const acme = messages[0]!.bodies.map(parseQueueMessage);
    expect(acme.map((m) => [m.request_id, m.received_at, m.events.map((e) => e.event_id)])).toEqual([
      ['req-0', events[0]!.received_at, ['e0', 'e1', 'e2']],
      ['req-1', events[3]!.received_at, ['e3', 'e4', 'e5']],
      ['req-2', events[6]!.received_at, ['e6', 'e7', 'e8']],
    ]);
    expect(acme[0]!.events[0]).toEqual({
      event_id: 'e0',
      user_id: 'u0',
      type: 'click',
      timestamp: events[0]!.timestamp,
      metadata: { page: '/p/0' },
    });
    const keys = messages.flatMap((m) => m.entries.map((entry) => entry.messageKey));
    expect(new Set(keys).size).toBe(4);
    expect(keys.every((key) => key.startsWith('replay-1:1:'))).toBe(true);
    expect(messages[0]!.entries[1]).toEqual({
      messageKey: acme[1]!.message_key,
      accountId: 'acme',
      receivedAt: events[3]!.received_at,
    });
  });

  it('splits a large request under the queue message limit', () => {
    const big = { blob: 'x'.repeat(15_000) };
    const events = Array.from({ length: 40 }, (_, i) =>
      archived(i, { request_id: 'r', received_at: new Date(T0).toISOString(), metadata: big }),
    );

    const [messages] = replayMessages(events, 'k');

    expect(messages!.bodies.length).toBeGreaterThan(1);
    expect(messages!.bodies.every((body) => Buffer.byteLength(body) <= MAX_QUEUE_MESSAGE_BYTES)).toBe(true);
    expect(messages!.bodies.flatMap((body) => parseQueueMessage(body).events.map((e) => e.event_id))).toEqual(
      events.map((e) => e.event_id),
    );
  });
});

describe('Function: parseArchiveLines', () => {
  it('reports damaged lines by number and keeps the others', () => {
    const good = objectText([archived(0)]);
    const text = `${good}{"truncated":\n${good.replace('"user_id":"u0"', '"user_id":""')}\n${good}`;

    const { events, invalid } = parseArchiveLines(text);

    expect(events.map((e) => e.event_id)).toEqual(['e0', 'e0']);
    expect(invalid).toEqual([
      { line: 2, reason: 'not JSON' },
      { line: 3, reason: expect.stringMatching(/^user_id: /) },
    ]);
  });
});

describe('Function: archiveReplay', () => {
  const s3 = mockClient(S3Client);
  const sqs = mockClient(SQSClient);
  let steps: string[];
  let target: OpsTarget;
  const events = Array.from({ length: 6 }, (_, i) => archived(i));

  // The part of the SDK's stream the replay reads.
  const body = (text: string) => ({ transformToByteArray: async () => new Uint8Array(gzipSync(text)) });

  beforeEach(() => {
    // The events' days are fixed: "now" is the day after, so raw retention always covers them.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0 + 86_400_000);
    s3.reset();
    sqs.reset();
    steps = [];
    const keysOf = (entries: readonly LedgerEntry[]) => entries.map((entry) => entry.messageKey).join(',');
    const ledger = {
      markSending: async (entries: LedgerEntry[]) => void steps.push(`sending ${keysOf(entries)}`),
      markSent: async (entries: LedgerEntry[]) => void steps.push(`sent ${keysOf(entries)}`),
    } as unknown as DynamoMessageLedger;
    target = scriptedTarget({
      ledger,
      archive: scriptedArchive,
    });
    s3.on(ListObjectsV2Command).resolves({});
    s3.on(ListObjectsV2Command, { Prefix: 'events/2026/11/20/14/' }).resolves({
      Contents: [{ Key: 'events/2026/11/20/14/a.gz' }, { Key: 'events/2026/11/20/14/b.gz' }],
    });
    s3.on(GetObjectCommand, { Key: 'events/2026/11/20/14/a.gz' }).callsFake(() => ({
      Body: body(objectText(events.slice(0, 3))) as never,
    }));
    s3.on(GetObjectCommand, { Key: 'events/2026/11/20/14/b.gz' }).callsFake(() => ({
      Body: body(objectText(events.slice(3))) as never,
    }));
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      steps.push(`queue ${queuedKeys(input)}`);
      return { Successful: [], Failed: [] };
    });
    vi.spyOn(process.stderr, 'write').mockReturnValue(true);
  });

  afterEach(() => {
    s3.reset();
    sqs.reset();
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  const run = (values: Record<string, string | boolean> = {}) =>
    archiveReplay(target, {
      positionals: [],
      values: { from: '2026-11-20T14:00Z', to: '2026-11-20T15:00Z', ...values },
    });

  it('records each message in the ledger before it is queued, and confirms it after', async () => {
    // Act
    const output = await run();

    // Assess: one request per object, each one message, each in the ledger before the queue has it
    const keys = [...new Set(steps.map((step) => step.split(' ')[1]))];
    expect(keys).toHaveLength(2);
    for (const key of keys)
      expect(steps.filter((step) => step.endsWith(` ${key}`))).toEqual([
        `sending ${key}`,
        `queue ${key}`,
        `sent ${key}`,
      ]);
    expect(output.json).toMatchObject({
      objects: 2,
      archived: 6,
      replayed: 6,
      messages: 2,
      invalid: [],
      beforeRetention: 0,
    });
    const sent = sqs.commandCalls(SendMessageBatchCommand).flatMap((call) => call.args[0].input.Entries!);
    expect(sent.map((entry) => entry.MessageGroupId)).toEqual(['acme', 'acme']);
    expect(
      sent.flatMap((entry) => parseQueueMessage(entry.MessageBody!).events.map((e) => e.event_id)),
    ).toEqual(events.map((e) => e.event_id));
    expect(s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.Prefix)).toEqual([
      'events/2026/11/20/13/',
      'events/2026/11/20/14/',
      'events/2026/11/20/15/',
    ]);
  });

  it('says how many replayed events the writer will set aside as older than raw retention', async () => {
    const old = events
      .slice(0, 3)
      .map((e) => ({ ...e, timestamp: new Date(Date.now() - 100 * 86_400_000).toISOString() }));
    s3.on(GetObjectCommand, { Key: 'events/2026/11/20/14/a.gz' }).callsFake(() => ({
      Body: body(objectText(old)) as never,
    }));

    const output = await run({ 'dry-run': true });

    expect(output.json).toMatchObject({ replayed: 6, beforeRetention: 3 });
    expect(output.lines).toContain(
      '3 of them are timed more than 90 days ago, before raw events are kept: the writer sets them aside (skipped_events, older_than_retention), uncounted.',
    );
  });

  it('counts as before retention what the writer sets aside, by UTC day as the writer decides', async () => {
    // Prepare: one event on the last day before the first kept day, less than 90 x 24 h ago
    // whenever the test runs before 23:59 UTC.
    const today = new Date().toISOString().slice(0, 10);
    const edge = { ...events[0]!, timestamp: `${addDays(today, -90)}T23:59:00.000Z` };
    s3.on(GetObjectCommand, { Key: 'events/2026/11/20/14/a.gz' }).callsFake(() => ({
      Body: body(objectText([edge, ...events.slice(1, 3)])) as never,
    }));

    const output = await run({ 'dry-run': true });

    expect(output.json).toMatchObject({ replayed: 6, beforeRetention: 1 });
  });

  it('shows its progress in a terminal from the first hour, one without objects included', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => written.push(String(chunk)) > 0);
    const wasTTY = process.stderr.isTTY;
    process.stderr.isTTY = true;
    onTestFinished(() => {
      process.stderr.isTTY = wasTTY;
    });

    await run({ 'dry-run': true });

    const lines = written
      .join('')
      .split('\r\u001b[2K')
      .map((line) => line.trim());
    expect(lines).toContain('events/2026/11/20/13/ (hour 1 of 3): 0 objects read, 0 events to replay');
    expect(lines).toContain('events/2026/11/20/14/ (hour 2 of 3): 2 objects read, 6 events to replay');
    expect(lines).toContain('events/2026/11/20/15/ (hour 3 of 3): 2 objects read, 6 events to replay');
  });

  it('sends nothing with --dry-run, and says what it would replay', async () => {
    const output = await run({ 'dry-run': true });

    expect(steps).toEqual([]);
    expect(output.lines[0]).toMatch(/^would replay 6 events received 2026-11-20T14:00:00.000Z/);
    expect(output.lines.at(-1)).toBe('Nothing was sent (--dry-run).');
  });

  it('stops at an object it cannot read, says how much was sent, and that a rerun is safe', async () => {
    s3.on(GetObjectCommand, { Key: 'events/2026/11/20/14/b.gz' }).rejects(
      Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }),
    );

    const replay = run();

    await expect(replay).rejects.toBeInstanceOf(OpsError);
    await expect(replay).rejects.toThrow(
      /Could not read s3:\/\/archive\/events\/2026\/11\/20\/14\/b\.gz: AccessDenied: Access Denied\. 3 events were sent before it stopped; running the same replay again is safe/,
    );
  });

  it('stops when the queue refuses, after the ledger knows the message (as_of waits, never overstates)', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));

    await expect(run()).rejects.toThrow(/Could not enqueue the replayed events: .*0 events were sent/);
    expect(steps.length).toBeGreaterThan(0);
    expect(new Set(steps.map((step) => step.split(' ')[0]))).toEqual(new Set(['sending']));
  });

  describe('many account groups', () => {
    // 20 objects in the hour, each one request of 3 events: 20 sends.
    const many = Array.from({ length: 60 }, (_, i) => archived(i));
    const objectKeys = many
      .filter((_, i) => i % 3 === 0)
      .map((_, i) => `events/2026/11/20/14/${String(i).padStart(2, '0')}.gz`);

    beforeEach(() => {
      s3.on(ListObjectsV2Command, { Prefix: 'events/2026/11/20/14/' }).resolves({
        Contents: objectKeys.map((Key) => ({ Key })),
      });
      for (const [i, Key] of objectKeys.entries())
        s3.on(GetObjectCommand, { Key }).callsFake(() => ({
          Body: body(objectText(many.slice(3 * i, 3 * i + 3))) as never,
        }));
    });

    it('sends up to 8 of them at a time, and returns once every send has ended', async () => {
      let inFlight = 0;
      let mostInFlight = 0;
      sqs.on(SendMessageBatchCommand).callsFake(async (input: SendMessageBatchCommandInput) => {
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        steps.push(`queue ${queuedKeys(input)}`);
        return { Successful: [], Failed: [] };
      });

      const output = await run();

      expect(mostInFlight).toBe(8);
      expect(output.json).toMatchObject({ objects: 20, replayed: 60, messages: 20 });
      expect(steps.filter((step) => step.startsWith('sent '))).toHaveLength(20);
    });

    it('after a refused send starts no more, waits for those under way, and counts only what was sent', async () => {
      let calls = 0;
      sqs.on(SendMessageBatchCommand).callsFake(async (input: SendMessageBatchCommandInput) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (++calls === 3)
          return { Failed: [{ Id: '0', Code: 'InvalidParameterValue', SenderFault: true, Message: 'bad' }] };
        steps.push(`queue ${queuedKeys(input)}`);
        return { Successful: [], Failed: [] };
      });

      const error = await run().catch((caught: unknown) => caught);

      const sent = steps.filter((step) => step.startsWith('sent ')).length;
      expect(error).toBeInstanceOf(OpsError);
      expect((error as Error).message).toMatch(
        new RegExp(
          `^Could not enqueue the replayed events: .*SQS refused a message.*\\. ${3 * sent} events were sent before it stopped`,
        ),
      );
      // The sends already under way when the third was refused all ended; none started after.
      expect(sent).toBeGreaterThanOrEqual(2);
      expect(steps.filter((step) => step.startsWith('sending '))).toHaveLength(sent + 1);
      expect(sent + 1).toBeLessThan(20);
    });
  });

  it('refuses a window it cannot read before touching anything', async () => {
    await expect(run({ from: 'yesterday' })).rejects.toThrow(/--from "yesterday" is not an ISO time/);
    // Without a zone Date.parse would read the laptop's local time: refused, not guessed.
    await expect(run({ from: '2026-11-20T14:00' })).rejects.toThrow(
      /with its zone: write it like 2026-11-20T14:00Z/,
    );
    // A day that does not exist is refused, not rolled over into March as Date.parse would.
    await expect(run({ from: '2026-02-30T00:00Z' })).rejects.toThrow(
      /--from "2026-02-30T00:00Z" is not an ISO time/,
    );
    await expect(run({ to: '2026-11-20T13:00Z' })).rejects.toThrow(/--to must be after --from/);
    await expect(archiveReplay(target, { positionals: [], values: {} })).rejects.toThrow(
      /--from is required/,
    );
    await expect(run({ rate: '0' })).rejects.toThrow(/--rate must be a whole number of events per second/);
    expect(s3.calls()).toHaveLength(0);
  });
});
