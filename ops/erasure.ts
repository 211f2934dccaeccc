/**
 * `ops tenants delete` and `ops users erase` (design promise 8): one command removes a tenant, or a
 * user's events, from every store, and leaves an audit record.
 *
 * 1. Tenant only: the account is suspended first, so its keys stop working within the authorizer
 *    cache TTL.
 * 2. PostgreSQL (lambdas/adapters/postgres/erasure.ts; on AWS through the erasure function): the
 *    tombstone, then the rows. Events received before the erasure that are still on their way
 *    (queue, DLQ, a replay) are dropped by the writer when they arrive. For a tenant the erasure
 *    covers what its cached authorizations may still admit (cache TTL + ingest timeout).
 * 3. Tenant only: its keys and its account record are deleted from DynamoDB.
 * 4. The summary cache: every cached answer of the account (they name top users), twice: now, and
 *    after the wait below, for an answer computed while the rows were being removed.
 * 5. The S3 archive, once Firehose has delivered what it was still buffering: every object under
 *    `events/` and `errors/` holding a covered line is rewritten without it (or deleted if nothing
 *    is left). The bucket is unversioned, so no old version keeps the lines.
 * 6. The audit record (`erasures` in PostgreSQL) gets what every store removed; the command prints it.
 *
 * Running the same command again finishes an interrupted erasure: the database resumes it (same id,
 * same instant) and every other step is idempotent. Erasures run one at a time (the database
 * refuses a second one while another is not completed): two rewrites of one archive object would
 * undo each other.
 */
import { userInfo } from 'node:os';
import { gzipSync } from 'node:zlib';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ErasureInProgress } from '../lambdas/adapters/postgres/erasure';
import { ARCHIVE_ERRORS_ROOT, ARCHIVE_EVENTS_ROOT } from '../lambdas/core/archive-records';
import { isPlainObject } from '../lambdas/core/queue-message';
import { describeError } from '../lambdas/shared/describe-error';
import { stageConfig } from '../lib/config/stage-config';
import { sleep } from '../local/sleep';
import { type ArchiveLocation, archiveObjectKeys, readArchiveObject } from './archive-objects';
import { BoundedTasks } from './bounded-tasks';
import { type CommandOptions, type Output, text, wholeNumber } from './options';
import { endProgress, showProgress } from './progress';
import { OpsError, type OpsTarget } from './target';

/** What an erasure covers in the archive: the account's lines, or one user's received before. */
export interface ArchiveMatch {
  readonly accountId: string;
  readonly userId?: string;
  /** Epoch ms: lines received at or after it are not covered. */
  readonly erasedBefore: number;
}

/**
 * The object's text without the lines the erasure covers. A line that cannot be read is kept
 * unless it visibly belongs to the account (and user): erasure errs on the side of removing.
 */
export function scrubArchiveText(text: string, match: ArchiveMatch): { kept: string; removed: number } {
  const account = `"account_id":${JSON.stringify(match.accountId)}`;
  const user = match.userId === undefined ? undefined : `"user_id":${JSON.stringify(match.userId)}`;
  let removed = 0;
  const kept = text.split('\n').filter((line) => {
    if (line.trim() === '' || !line.includes(account)) return line.trim() !== '';
    let covered: boolean;
    try {
      const event = JSON.parse(line) as unknown;
      covered =
        isPlainObject(event) &&
        event.account_id === match.accountId &&
        (match.userId === undefined ||
          (event.user_id === match.userId && !(Date.parse(String(event.received_at)) >= match.erasedBefore)));
    } catch {
      covered = user === undefined || line.includes(user);
    }
    if (covered) removed++;
    return !covered;
  });
  return { kept: kept.length > 0 ? `${kept.join('\n')}\n` : '', removed };
}

interface ArchiveScrub {
  objects: number;
  rewritten: number;
  deleted: number;
  lines: number;
}

/**
 * A failure once the erasure is recorded: what was done stays done, and the same command resumes it
 * (the database by the same request, every other step idempotent).
 */
function resumable(what: string, error: unknown): OpsError {
  return new OpsError(
    `${what}: ${describeError(error)}. The erasure is not complete: run the same command again; ` +
      'it resumes it and scrubs the archive again.',
  );
}

/** `work`, its failure made `resumable`. */
function resuming<T>(what: string, work: Promise<T>): Promise<T> {
  return work.catch((error: unknown) => {
    throw resumable(what, error);
  });
}

/** How many archive objects are read at once: a year of archive is ~10⁵ objects. */
const SCRUB_CONCURRENCY = 16;

export async function scrubArchive(
  archive: ArchiveLocation,
  match: ArchiveMatch,
  progress: (scrub: ArchiveScrub) => void = () => undefined,
): Promise<ArchiveScrub> {
  const scrub: ArchiveScrub = { objects: 0, rewritten: 0, deleted: 0, lines: 0 };
  const one = async (key: string) => {
    const { kept, removed } = scrubArchiveText(await readArchiveObject(archive, key), match);
    if (removed > 0) {
      await archive.s3.send(
        kept === ''
          ? new DeleteObjectCommand({ Bucket: archive.bucket, Key: key })
          : new PutObjectCommand({ Bucket: archive.bucket, Key: key, Body: gzipSync(kept) }),
      );
      scrub.lines += removed;
      if (kept === '') scrub.deleted++;
      else scrub.rewritten++;
    }
    scrub.objects++;
    progress(scrub);
  };
  const rewrites = new BoundedTasks(SCRUB_CONCURRENCY);
  await rewrites.run(async () => {
    for (const prefix of [ARCHIVE_EVENTS_ROOT, ARCHIVE_ERRORS_ROOT]) {
      try {
        for await (const key of archiveObjectKeys(archive, prefix)) {
          if (rewrites.failed) return;
          await rewrites.start(() =>
            one(key).catch((error: unknown) => {
              throw resumable(`Could not scrub s3://${archive.bucket}/${key}`, error);
            }),
          );
        }
      } catch (error) {
        throw resumable(`Could not list s3://${archive.bucket}/${prefix}`, error);
      }
    }
  });
  return scrub;
}

function operator(options: CommandOptions): string {
  const by = text(options, 'by');
  if (by) return by;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Waits until `until` (epoch ms), counting down on stderr. */
async function waitUntil(until: number, why: string): Promise<void> {
  for (let left = until - Date.now(); left > 0; left = until - Date.now()) {
    showProgress(`waiting ${Math.ceil(left / 1000)} s ${why}`);
    await sleep(Math.min(left, 1000));
  }
  endProgress();
}

/**
 * A mistyped account id must not be audited as an erasure done. An account without its record is
 * still erased when an erasure of it is incomplete: a tenant deletion cut off after its DynamoDB step.
 */
async function refuseUnknownAccount(target: OpsTarget, accountId: string): Promise<void> {
  // Erasures run one at a time, so an incomplete one is the account's newest.
  const [last] = await target.eraser.list({ accountId, limit: 1 });
  if (last && last.completedAt === null) return;
  throw new OpsError(
    `No account "${accountId}" (account ids are exact; npm run ops -- tenants show <id> checks one). Nothing was erased.` +
      (last ? ` Its last erasure, ${last.id}, completed at ${last.completedAt!.toISOString()}.` : ''),
  );
}

async function erase(
  target: OpsTarget,
  options: CommandOptions,
  accountId: string,
  userId: string | undefined,
): Promise<Output> {
  const archive = target.archive();
  const config = stageConfig(target.stage);
  const requestedBy = operator(options);
  const reason = text(options, 'reason');
  const step = (line: string) => process.stderr.write(`  ${line}\n`);

  const account = await target.tenants.findAccount(accountId);
  if (!account) await refuseUnknownAccount(target, accountId);
  if (account && userId === undefined) {
    await target.tenants.updateAccount(accountId, { status: 'suspended' });
    step(`suspended ${accountId}: its keys stop working within ${config.authorizer.cacheTtlSeconds} s`);
  }
  // A tenant's cached authorizations admit events for up to the cache TTL, each answered within the
  // ingest timeout: the erasure covers them too.
  const graceSeconds =
    userId === undefined ? config.authorizer.cacheTtlSeconds + config.ingest.timeoutSeconds : 0;
  const request = {
    accountId,
    ...(userId === undefined ? {} : { userId }),
    graceSeconds,
    requestedBy,
    ...(reason === undefined ? {} : { reason }),
  };
  // A large erasure takes several calls (one day partition per transaction): the same request
  // resumes it until it is done.
  step(
    'PostgreSQL: recording the erasure and removing the rows, one day at a time (on AWS each call takes up to 10 minutes)',
  );
  let database = await target.eraser.erase(request).catch((error: unknown) => {
    throw error instanceof ErasureInProgress ? new OpsError(error.message) : error;
  });
  const resumed = database.resumed;
  while (!database.done) {
    step(
      `PostgreSQL: erasure ${database.erasureId} under way, ${database.removed.events ?? 0} events removed so far`,
    );
    database = await resuming(
      'Could not go on removing the rows from PostgreSQL',
      target.eraser.erase(request),
    );
  }
  step(
    `PostgreSQL: erasure ${database.erasureId} ${resumed ? 'resumed (an earlier run was cut off)' : 'recorded'}, ` +
      `${database.removed.events ?? 0} events removed`,
  );
  const tenantKeys =
    userId === undefined
      ? await resuming('Could not delete the account from DynamoDB', target.tenants.deleteAccount(accountId))
      : 0;
  if (userId === undefined) step(`DynamoDB: the account and its ${tenantKeys} keys deleted`);
  const clearCache = () =>
    resuming('Could not clear the summary cache', target.summaryCache.deleteAccount(accountId));
  let cacheEntries = await clearCache();

  // Firehose delivers what it holds within its buffer interval; the database's clock says how long
  // the erasure still covers new arrivals. Both, with a margin, before the archive is read.
  const coveredFor = database.erasedBefore.getTime() - database.requestedAt.getTime();
  await waitUntil(
    Date.now() + coveredFor + (2 * config.archive.bufferIntervalSeconds + 10) * 1000,
    'for events still buffered by Firehose to reach the archive',
  );
  cacheEntries += await clearCache();
  let scrub: ArchiveScrub;
  try {
    scrub = await scrubArchive(
      archive,
      {
        accountId,
        ...(userId === undefined ? {} : { userId }),
        erasedBefore: database.erasedBefore.getTime(),
      },
      (sofar) =>
        showProgress(`archive: ${sofar.objects} objects read, ${sofar.rewritten + sofar.deleted} changed`),
    );
  } finally {
    endProgress(); // the error, if any, starts on a clean line
  }

  const others = {
    tenant_keys: tenantKeys,
    summary_cache_entries: cacheEntries,
    archive_objects_read: scrub.objects,
    archive_objects_rewritten: scrub.rewritten,
    archive_objects_deleted: scrub.deleted,
    archive_lines: scrub.lines,
  };
  await resuming('Could not complete the audit record', target.eraser.complete(database.erasureId, others));
  const removed: Record<string, number> = { ...database.removed, ...others };
  const what = userId === undefined ? `tenant ${accountId}` : `a user of ${accountId}`;
  return {
    json: {
      erasureId: database.erasureId,
      resumed,
      accountId,
      scope: userId === undefined ? 'account' : 'user',
      requestedBy,
      reason,
      erasedBefore: database.erasedBefore,
      removed,
    },
    lines: [
      `erasure ${database.erasureId}: ${what}, requested by ${requestedBy}${reason ? ` (${reason})` : ''}, ` +
        `covers events received before ${database.erasedBefore.toISOString()}`,
      `  PostgreSQL: ${removed.events ?? 0} events, ${removed.rollup_user_day ?? 0} user-day rollups` +
        `${userId === undefined ? `, ${removed.rollup_type_day ?? 0} type-day rollups` : ''}`,
      `  archive: ${scrub.lines} lines, ${scrub.rewritten} objects rewritten, ${scrub.deleted} deleted, of ${scrub.objects} read`,
      `  summary cache: ${cacheEntries} entries${userId === undefined ? `; DynamoDB: the account and ${tenantKeys} keys` : ''}`,
      `audit: SELECT * FROM erasures WHERE id = ${database.erasureId}  (the user is kept only as a SHA-256 digest)`,
      'Events of the erasure still in the queue or the DLQ are dropped by the writer when they arrive.',
    ],
  };
}

export async function tenantsDelete(target: OpsTarget, options: CommandOptions): Promise<Output> {
  const accountId = options.positionals[0] ?? text(options, 'account', true)!;
  if (options.values.confirm !== accountId) {
    throw new OpsError(
      `Deleting a tenant removes all its data, for good. Repeat its id to confirm: --confirm ${accountId}`,
    );
  }
  return erase(target, options, accountId, undefined);
}

export async function usersErase(target: OpsTarget, options: CommandOptions): Promise<Output> {
  return erase(target, options, text(options, 'account', true)!, text(options, 'user', true)!);
}

/** `ops erasures list [--account <id>] [--limit 20]`: the audit records, newest first (the proof for a requester). */
export async function erasuresList(target: OpsTarget, options: CommandOptions): Promise<Output> {
  const accountId = text(options, 'account');
  const limit = wholeNumber(options, 'limit', { fallback: 20, max: 1000 })!;
  const records = await target.eraser.list({ ...(accountId === undefined ? {} : { accountId }), limit });
  return {
    json: records,
    lines:
      records.length === 0
        ? [`no erasures${accountId ? ` of ${accountId}` : ''} on stage ${target.stage}`]
        : records.map(
            (record) =>
              `erasure ${record.id}: ${record.userSha256 ? `a user (sha256 ${record.userSha256.slice(0, 12)}…)` : 'the tenant'} ` +
              `of ${record.accountId}, by ${record.requestedBy}${record.reason ? ` (${record.reason})` : ''} ` +
              `at ${record.requestedAt.toISOString()}, ` +
              `${record.completedAt ? `completed ${record.completedAt.toISOString()}` : 'NOT COMPLETED: rerun its command'}; ` +
              `${record.removed.events ?? 0} events, ${record.removed.archive_lines ?? 0} archive lines removed`,
          ),
  };
}
