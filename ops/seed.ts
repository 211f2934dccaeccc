/**
 * `ops seed`: fills a stage with realistic generated events (ops/event-generator.ts), sent through
 * the public API as clients send them: authenticated, validated, limited, queued, archived and
 * written. The accounts `acct_0000`… are created when missing (acct_0000 is the whale) and get a new
 * secret key each run, printed so their summaries can be read at once.
 *
 * Throttled requests wait for their Retry-After and 503s are retried: event_id makes a resend safe.
 * The same --seed sends the same event ids again, so a repeated seed adds nothing.
 */
import type { DynamoTenantStore } from '../lambdas/adapters/dynamodb/tenant-store';
import type { Tier } from '../lambdas/core/tiers';
import { DAY_MS } from '../lambdas/core/time-buckets';
import { stageConfig } from '../lib/config/stage-config';
import { sleep } from '../local/sleep';
import { BoundedTasks } from './bounded-tasks';
import { accountIdFor, EventGenerator, type GeneratedEvent } from './event-generator';
import { type CommandOptions, type Output, text, tier, wholeNumber } from './options';
import { endProgress, showProgress } from './progress';
import { OpsError, type OpsTarget } from './target';
import { createAccount, createKey } from './tenants';

/** Seed writes test data: never on prod. The CLI calls this before it reaches for AWS credentials. */
export function refuseProd(stage: string): void {
  if (stage === 'prod') throw new OpsError('ops seed writes test data: it refuses --stage prod.');
}

export interface SeedAccount {
  readonly account: string;
  readonly key: string;
}

/**
 * The generator's accounts, created when missing (with `tier`), each with a new secret key; the
 * keys an earlier run made with the same description are revoked, so they do not pile up. Up to
 * `concurrency` accounts are prepared at a time (each is a few DynamoDB round trips); the keys come
 * back in account order.
 */
export async function seedAccounts(
  tenants: DynamoTenantStore,
  count: number,
  tier: Tier,
  description = 'ops seed',
  concurrency = 8,
): Promise<SeedAccount[]> {
  const accounts: SeedAccount[] = [];
  let ready = 0;
  const prepare = async (index: number) => {
    const accountId = accountIdFor(index);
    if (!(await tenants.findAccount(accountId)))
      await createAccount(tenants, { accountId, name: `seed ${index}`, tier });
    const now = new Date().toISOString();
    for (const old of await tenants.listKeys(accountId)) {
      if (old.status === 'active' && old.description === description)
        await tenants.revokeKey(old.keyHash, now);
    }
    const { key } = await createKey(tenants, { accountId, kind: 'secret', description });
    accounts[index] = { account: accountId, key };
    showProgress(`${++ready} / ${count} accounts ready (a new key each)`);
  };
  const tasks = new BoundedTasks(concurrency);
  await tasks.run(async () => {
    for (let index = 0; index < count && !tasks.failed; index++) await tasks.start(() => prepare(index));
  });
  return accounts;
}

/** How many times a request answered 503 or not at all is sent again before the seed gives up. */
const ATTEMPTS = 5;
/** The generator's late events reach this far back; they must stay inside ingest's maximum age. */
const MAX_LATENESS_MS = 3 * DAY_MS;

interface SeedTally {
  sent: number;
  accepted: number;
  rejected: Record<string, number>;
  throttled: number;
  retried: number;
}

type Answer = { accepted: number; rejected: { code: string }[] };

/** Sends one batch until it is answered 202; waits out 429s, retries 503s and network errors. */
async function post(
  url: string,
  key: string,
  events: readonly GeneratedEvent[],
  tally: SeedTally,
): Promise<Answer> {
  const body = JSON.stringify({ events });
  for (let attempt = 1; ; ) {
    let response: Response | undefined;
    let failure: string;
    try {
      response = await fetch(`${url}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
      if (response.status === 202) return (await response.json()) as Answer;
      const answer = (await response.json().catch(() => ({}))) as {
        error?: { code?: string; message?: string };
      };
      failure = `${response.status} ${answer.error?.code ?? ''}: ${answer.error?.message ?? ''}`;
      if (response.status === 429) {
        tally.throttled++;
        await sleep(Number(response.headers.get('retry-after') ?? 1) * 1000);
        continue; // the limiter said when: not a failed attempt
      }
      if (response.status !== 503) throw new OpsError(`The API refused a batch: ${failure}`);
    } catch (error) {
      if (error instanceof OpsError) throw error;
      failure = (error as Error).message;
    }
    if (++attempt > ATTEMPTS)
      throw new OpsError(
        `A batch failed ${ATTEMPTS} times (${failure}); ${tally.accepted} events were accepted before it.`,
      );
    tally.retried++;
    await sleep(250 * 2 ** attempt);
  }
}

export async function seed(target: OpsTarget, options: CommandOptions): Promise<Output> {
  const config = stageConfig(target.stage);
  refuseProd(target.stage);
  const count = (name: string, fallback: number, max: number) =>
    wholeNumber(options, name, { fallback, max })!;
  const accounts = count('accounts', 5, 1000);
  const total = count('events', 10_000, 10_000_000);
  const maxDays = config.ingest.maxEventAgeDays - Math.ceil(MAX_LATENESS_MS / DAY_MS);
  const days = count('days', Math.min(7, maxDays), maxDays);
  const batch = count('batch', 250, config.ingest.maxEventsPerRequest);
  const concurrency = count('concurrency', 4, 64);
  const seedValue = count('seed', Date.now() % 2_147_483_647, 2_147_483_647);
  const accountTier = tier(text(options, 'tier'), 'enterprise');

  const url = (await target.apiUrl()).replace(/\/$/, '');
  const keys = await seedAccounts(target.tenants, accounts, accountTier, 'ops seed', concurrency);
  const keyOf = new Map(keys.map(({ account, key }) => [account, key]));
  const now = Date.now();
  const generator = new EventGenerator({
    seed: seedValue,
    accounts,
    from: now - days * DAY_MS,
    to: now,
    spreadOver: total,
    maxLatenessMs: MAX_LATENESS_MS,
  });

  const tally: SeedTally = { sent: 0, accepted: 0, rejected: {}, throttled: 0, retried: 0 };
  const perAccount = new Map<string, number>();
  const started = performance.now();
  const progress = () => {
    const rate = Math.round(tally.sent / Math.max(0.001, (performance.now() - started) / 1000));
    showProgress(
      `${tally.sent} / ${total} events sent (${rate}/s), ${tally.accepted} accepted, ${tally.throttled} throttled`,
    );
  };
  // Per-account batches go out as they fill, `concurrency` requests at a time.
  const pending = new Map<string, GeneratedEvent[]>();
  const requests = new BoundedTasks(concurrency);
  const send = async (account: string, events: GeneratedEvent[]) => {
    const answer = await post(url, keyOf.get(account)!, events, tally);
    tally.sent += events.length;
    tally.accepted += answer.accepted;
    perAccount.set(account, (perAccount.get(account) ?? 0) + answer.accepted);
    for (const { code } of answer.rejected) tally.rejected[code] = (tally.rejected[code] ?? 0) + 1;
    progress();
  };
  const dispatch = (account: string, events: GeneratedEvent[]) => requests.start(() => send(account, events));
  progress();
  try {
    await requests.run(async () => {
      for (let drawn = 0; drawn < total && !requests.failed; drawn++) {
        const event = generator.next();
        const list = pending.get(event.account_id) ?? [];
        pending.set(event.account_id, list);
        list.push(event);
        if (list.length === batch) {
          pending.delete(event.account_id);
          await dispatch(event.account_id, list);
        }
      }
      for (const [account, list] of pending) await dispatch(account, list);
    });
  } catch (failed) {
    // The same options and seed draw the same events again: those already sent are counted once.
    const again = `npm run ops -- seed --stage ${target.stage} --accounts ${accounts} --events ${total} --days ${days} --seed ${seedValue}`;
    throw failed instanceof OpsError
      ? new OpsError(`${failed.message} To finish, run the same seed again (counted once): ${again}`)
      : failed;
  } finally {
    endProgress();
  }

  const seconds = (performance.now() - started) / 1000;
  const rejected = Object.entries(tally.rejected);
  return {
    json: {
      seed: seedValue,
      url,
      days,
      ...tally,
      seconds,
      accounts: keys.map((k) => ({ ...k, accepted: perAccount.get(k.account) ?? 0 })),
    },
    lines: [
      `seeded ${tally.sent} events over the last ${days} days into ${accounts} account${accounts === 1 ? '' : 's'} on stage ${target.stage} ` +
        `in ${seconds.toFixed(1)} s (--seed ${seedValue} with the same --accounts sends the same event ids again, counted once)`,
      `  ${tally.accepted} accepted${
        rejected.length ? `, rejected: ${rejected.map(([code, n]) => `${n} ${code}`).join(', ')}` : ''
      }${tally.throttled ? `; ${tally.throttled} requests throttled and resent` : ''}` +
        ' (the generator repeats a few events, as real clients do: each is counted once)',
      ...keys.map(
        ({ account, key }) =>
          `  ${account}  ${String(perAccount.get(account) ?? 0).padStart(8)} events  key ${key}`,
      ),
      `read one: curl -H "authorization: Bearer <key>" "${url}/accounts/${keys[0]!.account}/summary?window=${
        days <= 7 ? 'last_7d' : 'last_30d'
      }"`,
    ],
  };
}
