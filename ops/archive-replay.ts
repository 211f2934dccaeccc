/**
 * `ops archive replay`: sends the archived events received in a time window (optionally of one
 * account) back through the event queue, e.g. after restoring the database to an earlier point.
 *
 * Safe to repeat or interrupt: the writer counts each (account_id, event_id) once, so events already
 * in PostgreSQL are skipped. Nothing is archived again (the events are in the archive already).
 * Every replayed message is recorded in the in-flight ledger first, with its original received_at,
 * as ingest records it (docs/freshness.md): `as_of` goes back to the oldest replayed event until the
 * writer has committed it, rather than claiming events it has not counted yet. Each account's messages
 * of an object are one send, and up to REPLAY_CONCURRENCY sends run at a time.
 */
import { randomUUID } from 'node:crypto';
import { SqsEventQueue } from '../lambdas/adapters/messaging/sqs-event-queue';
import { type ArchivedEvent, parseArchiveLines } from '../lambdas/core/archive-records';
import type { LedgerEntry } from '../lambdas/core/ports';
import { ledgerEntriesFor, packQueueMessages, serializeQueuedEvent } from '../lambdas/core/queue-message';
import { HOUR_MS, parseIsoInstant, utcDayOfIso } from '../lambdas/core/time-buckets';
import { writableDays } from '../lambdas/core/writer-batch';
import { describeError } from '../lambdas/shared/describe-error';
import { stageConfig } from '../lib/config/stage-config';
import { sleep } from '../local/sleep';
import {
  type ArchiveLocation,
  archiveHourFolder,
  archiveObjectKeys,
  readArchiveObject,
} from './archive-objects';
import { BoundedTasks } from './bounded-tasks';
import { type CommandOptions, type Output, text, wholeNumber } from './options';
import { endProgress, showProgress } from './progress';
import { OpsError, type OpsTarget } from './target';

export interface ReplayWindow {
  /** Events received in [from, to) (epoch ms) are replayed. */
  readonly from: number;
  readonly to: number;
  readonly accountId?: string;
}

/**
 * The hour folders that can hold events received in the window. Firehose files an object under the
 * hour its first record arrived and buffers for up to 15 minutes, so events received early in an
 * hour can sit in an object of the hour before; and ingest puts an event to Firehose up to its
 * timeout after receiving it, so one received just before `to` can open an object of the next hour.
 */
export function replayFolders(window: ReplayWindow): string[] {
  const first = Math.floor(window.from / HOUR_MS) * HOUR_MS - HOUR_MS;
  const last = Math.floor((window.to - 1) / HOUR_MS) * HOUR_MS + HOUR_MS;
  const folders: string[] = [];
  for (let hour = first; hour <= last; hour += HOUR_MS) folders.push(archiveHourFolder(hour));
  return folders;
}

export function selectForReplay(events: readonly ArchivedEvent[], window: ReplayWindow): ArchivedEvent[] {
  return events.filter((event) => {
    const receivedAt = Date.parse(event.received_at);
    return (
      receivedAt >= window.from &&
      receivedAt < window.to &&
      (window.accountId === undefined || event.account_id === window.accountId)
    );
  });
}

/** One account's replayed messages: the bodies to send and the ledger entries that go first. */
export interface ReplayMessages {
  readonly accountId: string;
  /** How many events the bodies hold. */
  events: number;
  readonly bodies: string[];
  readonly entries: LedgerEntry[];
}

/**
 * The events of one archive object as queue messages, one request's events together as ingest
 * packed them (same request_id and received_at). Keys start with `keyBase`, unique to this replay and
 * object: the ledger must see them as new messages, not as the originals it may still hold.
 */
export function replayMessages(events: readonly ArchivedEvent[], keyBase: string): ReplayMessages[] {
  const requests = new Map<string, ArchivedEvent[]>();
  for (const event of events) {
    const request = `${event.request_id}\n${event.received_at}`;
    const list = requests.get(request);
    if (list) list.push(event);
    else requests.set(request, [event]);
  }
  const byAccount = new Map<string, ReplayMessages>();
  for (const [index, list] of [...requests.values()].entries()) {
    const { account_id: accountId, request_id: requestId, received_at: receivedAt } = list[0]!;
    const packing = {
      account_id: accountId,
      request_id: requestId,
      received_at: receivedAt,
      keyBase: `${keyBase}:${index}:${requestId}`,
      replay: true,
      events: list.map((event) => serializeQueuedEvent(event)),
    };
    const bodies = packQueueMessages(packing);
    const messages = byAccount.get(accountId) ?? { accountId, events: 0, bodies: [], entries: [] };
    messages.events += list.length;
    messages.bodies.push(...bodies);
    messages.entries.push(...ledgerEntriesFor(packing, bodies));
    byAccount.set(accountId, messages);
  }
  return [...byAccount.values()];
}

/**
 * How long to wait before sending more, to hold `sent` events to `ratePerSecond` since the start
 * (`--rate`: a large replay then leaves the writers room for live traffic).
 */
export function pacingDelayMs(sent: number, ratePerSecond: number, elapsedMs: number): number {
  return Math.max(0, (sent / ratePerSecond) * 1000 - elapsedMs);
}

function instant(options: CommandOptions, name: 'from' | 'to'): number {
  const value = options.values[name];
  if (typeof value !== 'string' || value === '')
    throw new OpsError(`--${name} is required: an ISO time with its zone, such as 2026-11-20T14:00Z (UTC).`);
  // Its zone spelled out (without one the laptop's would be guessed), and a real calendar time.
  const at = parseIsoInstant(value, { requireSeconds: false });
  if (at === undefined)
    throw new OpsError(
      `--${name} "${value}" is not an ISO time with its zone: write it like 2026-11-20T14:00Z (UTC) or 2026-11-20T15:00+01:00.`,
    );
  return at;
}

/**
 * Account groups sent at a time. Each group is three round trips (ledger, queue, ledger) and an
 * object holds many accounts: one at a time, the round trips, not the reading, would set the pace.
 */
const REPLAY_CONCURRENCY = 8;

/** What stopped a replay; turned into the operator's error once every started send has ended. */
class ReplayStop extends Error {
  constructor(
    readonly what: string,
    cause: unknown,
  ) {
    super(what, { cause });
  }
}

interface ReplayTally {
  /** Of the replayed events, those timed before raw events' retention: the writer sets them aside. */
  beforeRetention: number;
  objects: number;
  archived: number;
  replayed: number;
  messages: number;
  invalid: string[];
}

export async function archiveReplay(target: OpsTarget, options: CommandOptions): Promise<Output> {
  const window: ReplayWindow = {
    from: instant(options, 'from'),
    to: instant(options, 'to'),
    ...(text(options, 'account') ? { accountId: text(options, 'account')! } : {}),
  };
  if (window.to <= window.from) throw new OpsError('--to must be after --from.');
  const archive = target.archive();
  const dryRun = options.values['dry-run'] === true;
  const rate = wholeNumber(options, 'rate', { unit: 'events per second' });
  const started = performance.now();
  const queue = new SqsEventQueue(target.sqs, target.queues.events);
  const keyBase = `replay-${randomUUID().slice(0, 8)}`;
  const tally: ReplayTally = {
    objects: 0,
    archived: 0,
    replayed: 0,
    messages: 0,
    invalid: [],
    beforeRetention: 0,
  };
  // The writer's own rule, by UTC day: the first day it stores.
  const config = stageConfig(target.stage);
  const firstKeptDay = writableDays(
    Date.now(),
    config.retention.rawEventDays,
    config.partitions.createAheadDays,
  ).first;
  const folders = replayFolders(window);
  let folder = '';
  let hour = 0;
  const progress = () =>
    showProgress(
      `${folder} (hour ${hour} of ${folders.length}): ${tally.objects} objects read, ` +
        `${tally.replayed} events ${dryRun ? 'to replay' : 'sent'}`,
    );
  const counted = (messages: ReplayMessages) => {
    tally.messages += messages.bodies.length;
    tally.replayed += messages.events;
  };
  const sends = new BoundedTasks(REPLAY_CONCURRENCY);
  let queued = 0; // events handed to a send, for --rate; tally.replayed counts those sent
  const enqueue = async (messages: ReplayMessages) => {
    if (rate !== undefined) await sleep(pacingDelayMs(queued, rate, performance.now() - started));
    queued += messages.events;
    await sends.start(async () => {
      await send(target, queue, messages).catch((error: unknown) => {
        throw new ReplayStop('Could not enqueue the replayed events', error);
      });
      counted(messages);
      progress();
    });
  };
  try {
    await sends.run(async () => {
      const entering = (next: string) => {
        folder = next;
        hour++;
        progress(); // also through hours without objects, which can be many
      };
      for await (const object of archiveObjects(archive, folders, entering)) {
        if (sends.failed) break;
        const { events, invalid } = parseArchiveLines(object.text);
        tally.objects++;
        tally.archived += events.length;
        tally.invalid.push(...invalid.map(({ line, reason }) => `${object.key} line ${line}: ${reason}`));
        const selected = selectForReplay(events, window);
        tally.beforeRetention += selected.filter(
          (event) => utcDayOfIso(event.timestamp) < firstKeptDay,
        ).length;
        for (const messages of replayMessages(selected, `${keyBase}:${tally.objects}`)) {
          if (dryRun) counted(messages);
          else await enqueue(messages);
        }
        progress();
      }
    });
  } catch (error) {
    if (!(error instanceof ReplayStop)) throw error;
    endProgress();
    // Counted once every started send has ended, so the number is what really reached the queue.
    throw new OpsError(
      `${error.what}: ${describeError(error.cause)}. ${tally.replayed} events were sent before it stopped; ` +
        'running the same replay again is safe (each event is counted once).',
    );
  }
  endProgress();
  return { json: { ...window, dryRun, ...tally }, lines: summaryLines(target, window, dryRun, tally) };
}

/** The objects of each folder in turn, read; a failure to list or read one says which. */
async function* archiveObjects(
  archive: ArchiveLocation,
  folders: readonly string[],
  entering: (folder: string) => void,
): AsyncGenerator<{ key: string; text: string }> {
  for (const folder of folders) {
    entering(folder);
    const keys = archiveObjectKeys(archive, folder);
    for (;;) {
      const next = await keys.next().catch((error: unknown) => {
        throw new ReplayStop(`Could not list s3://${archive.bucket}/${folder}`, error);
      });
      if (next.done) break;
      const key = next.value;
      const text = await readArchiveObject(archive, key).catch((error: unknown) => {
        throw new ReplayStop(`Could not read s3://${archive.bucket}/${key}`, error);
      });
      yield { key, text };
    }
  }
}

/** As ingest sends: the ledger knows a message before the queue has it (docs/freshness.md). */
async function send(target: OpsTarget, queue: SqsEventQueue, messages: ReplayMessages): Promise<void> {
  await target.ledger.markSending(messages.entries);
  await queue.send(messages.bodies, messages.accountId);
  await target.ledger.markSent(messages.entries);
}

function summaryLines(
  target: OpsTarget,
  window: ReplayWindow,
  dryRun: boolean,
  tally: ReplayTally,
): string[] {
  const scope = `received ${new Date(window.from).toISOString()} to ${new Date(window.to).toISOString()}${
    window.accountId ? ` for ${window.accountId}` : ''
  }`;
  const lines = [
    `${dryRun ? 'would replay' : 'replayed'} ${tally.replayed} events ${scope}, ` +
      `in ${tally.messages} queue messages, from ${tally.objects} archive objects (${tally.archived} events read)`,
  ];
  if (tally.invalid.length > 0) {
    lines.push(`${tally.invalid.length} archive lines are not events and were not replayed:`);
    lines.push(...tally.invalid.slice(0, 10).map((line) => `  ${line}`));
    if (tally.invalid.length > 10) lines.push(`  … and ${tally.invalid.length - 10} more (--json lists all)`);
  }
  if (tally.beforeRetention > 0) {
    lines.push(
      `${tally.beforeRetention} of them are timed more than ${stageConfig(target.stage).retention.rawEventDays} days ago, ` +
        'before raw events are kept: the writer sets them aside (skipped_events, older_than_retention), uncounted.',
    );
  }
  lines.push(
    dryRun
      ? 'Nothing was sent (--dry-run).'
      : 'The writer counts each event once: those already in PostgreSQL are skipped. as_of waits for the ' +
          'replayed messages until they are written; follow with npm run ops -- dlq status.',
  );
  return lines;
}
