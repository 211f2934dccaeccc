/**
 * The operator commands. Each takes a resolved target and parsed options, and returns lines to print
 * (or an object with --json). See `npm run ops -- help` and the README's Operations section.
 */
import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import pg from 'pg';
import type { KeyKind, Scope } from '../lambdas/core/api-keys';
import { sleep } from '../local/sleep';
import { SQS_LIMITS } from '../local/standins/sqs/limits';
import { type CommandOptions, type Output, text, tier, wholeNumber } from './options';
import { endProgress, showProgress } from './progress';
import type { OpsTarget } from './target';
import { OpsError } from './target';
import { createAccount, createKey, revokeKey } from './tenants';

export async function tenantsCreate(target: OpsTarget, options: CommandOptions): Promise<Output> {
  const account = await createAccount(target.tenants, {
    name: text(options, 'name', true)!,
    tier: tier(text(options, 'tier')),
    ...(text(options, 'id') ? { accountId: text(options, 'id')! } : {}),
  });
  const { key, record } = await createKey(target.tenants, {
    accountId: account.accountId,
    kind: 'secret',
    description: 'created with the account',
  });
  return {
    json: { account, key, key_prefix: record.visiblePrefix },
    lines: [
      `account   ${account.accountId} (${account.name}, tier ${account.tier}) on stage ${target.stage}`,
      `secret key ${key}`,
      '           (scopes ingest + read; shown once, stored only as a hash: keep it in your secret store)',
    ],
  };
}

export async function tenantsShow(target: OpsTarget, options: CommandOptions): Promise<Output> {
  const accountId = options.positionals[0] ?? text(options, 'account', true)!;
  const account = await target.tenants.findAccount(accountId);
  if (!account) throw new OpsError(`No account "${accountId}" on stage ${target.stage}.`);
  const keys = await target.tenants.listKeys(accountId);
  return {
    json: { account, keys },
    lines: [
      `${account.accountId}  ${account.name}  tier ${account.tier}  ${account.status}  since ${account.createdAt}`,
      ...keys.map(
        (key) =>
          `  ${key.visiblePrefix}…  ${key.kind.padEnd(11)} ${key.scopes.join('+').padEnd(11)} ${key.status.padEnd(7)} ` +
          `created ${key.createdAt}${key.lastUsedAt ? `, last used ${key.lastUsedAt}` : ''}` +
          `${key.allowedOrigins.length ? `, origins ${key.allowedOrigins.join(' ')}` : ''}`,
      ),
    ],
  };
}

export async function tenantsUpdate(
  target: OpsTarget,
  options: CommandOptions,
  change: 'suspend' | 'activate' | 'tier',
): Promise<Output> {
  const accountId = options.positionals[0] ?? text(options, 'account', true)!;
  const update =
    change === 'tier'
      ? { tier: tier(options.positionals[1] ?? text(options, 'tier', true)) }
      : { status: change === 'suspend' ? ('suspended' as const) : ('active' as const) };
  await target.tenants.updateAccount(accountId, update).catch((error: Error) => {
    throw new OpsError(
      error.name === 'ConditionalCheckFailedException' ? `No account "${accountId}".` : error.message,
    );
  });
  return {
    json: { account_id: accountId, ...update },
    lines: [
      `${accountId}: ${JSON.stringify(update)} (effective for cached keys within the authorizer cache TTL)`,
    ],
  };
}

export async function keysCreate(target: OpsTarget, options: CommandOptions): Promise<Output> {
  const kind = (text(options, 'kind') ?? 'secret') as KeyKind;
  if (kind !== 'secret' && kind !== 'publishable')
    throw new OpsError('--kind must be secret or publishable.');
  const origins = ([] as string[]).concat((options.values.origin as string[] | string | undefined) ?? []);
  const scopes = text(options, 'scopes')?.split(',') as Scope[] | undefined;
  if (scopes?.some((scope) => scope !== 'ingest' && scope !== 'read'))
    throw new OpsError('--scopes is a comma list of ingest, read.');
  const { key, record } = await createKey(target.tenants, {
    accountId: text(options, 'account', true)!,
    kind,
    allowedOrigins: origins,
    ...(scopes ? { scopes } : {}),
    ...(text(options, 'description') ? { description: text(options, 'description')! } : {}),
  }).catch((error: Error) => {
    throw new OpsError(error.message);
  });
  return {
    json: { key, record },
    lines: [
      `${kind} key ${key}`,
      `  account ${record.accountId}, scopes ${record.scopes.join('+')}${origins.length ? `, origins ${origins.join(' ')}` : ''}`,
      '  shown once, stored only as a hash',
    ],
  };
}

export async function keysRevoke(target: OpsTarget, options: CommandOptions): Promise<Output> {
  const { key: revoked, alreadyRevoked } = await revokeKey(
    target.tenants,
    text(options, 'account', true)!,
    text(options, 'key', true)!,
  ).catch((error: Error) => {
    throw new OpsError(error.message);
  });
  return {
    json: { ...revoked, alreadyRevoked },
    lines: [
      alreadyRevoked
        ? `${revoked.visiblePrefix}… of ${revoked.accountId} was revoked already, at ${revoked.revokedAt ?? 'an unrecorded time'}`
        : `revoked ${revoked.visiblePrefix}… of ${revoked.accountId}; cached authorizations expire within the authorizer cache TTL`,
    ],
  };
}

async function queueDepth(target: OpsTarget, url: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await target.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

export async function dlqStatus(target: OpsTarget): Promise<Output> {
  const dlq = await queueDepth(target, target.queues.deadLetter);
  const source = await queueDepth(target, target.queues.events);
  const lines = [
    `dead-letter queue: ${dlq.visible} messages (${dlq.inFlight} in flight)`,
    `event queue:       ${source.visible} waiting, ${source.inFlight} being written`,
  ];
  let failures: unknown[] = [];
  if (target.databaseUrl) {
    const client = new pg.Client({ connectionString: target.databaseUrl });
    await client.connect();
    try {
      ({ rows: failures } = await client.query(
        `SELECT message_id, receive_count, error_code, left(error, 160) AS error, failed_at
         FROM message_failures ORDER BY failed_at DESC LIMIT 10`,
      ));
    } finally {
      await client.end();
    }
    lines.push(
      failures.length > 0
        ? 'latest failures (message_failures):'
        : 'no failures recorded (message_failures is empty)',
    );
    for (const row of failures as {
      message_id: string;
      receive_count: number;
      error_code: string;
      error: string;
      failed_at: Date;
    }[]) {
      lines.push(
        `  ${row.failed_at.toISOString()}  ${row.message_id}  attempt ${row.receive_count}  ${row.error_code}: ${row.error}`,
      );
    }
  } else {
    lines.push(
      'why messages failed: SELECT * FROM message_failures ORDER BY failed_at DESC (see docs/runbook.md)',
    );
  }
  return { json: { dlq, source, failures }, lines };
}

/**
 * Moves the DLQ's messages back to the event queue. The order of the steps keeps the freshness
 * watermark honest (docs/freshness.md): reviving the ledger's dead items makes those messages
 * pending again, so `as_of` waits for them; that must happen before the move task can hand them to
 * the writer, because a revive that came after a commit would let `as_of` pass a message still on
 * its way. So: (1) refuse, reviving nothing, while a move task is already active (SQS allows one per
 * queue, and its start would fail); (2) revive; (3) start the task. If the start still fails, the
 * revived items stay pending: they cannot be told apart from others to undo (the ledger reports a
 * count), and pending is the safe side, as `as_of` then waits rather than overstates; the error
 * says so, and a re-drive that succeeds later commits them.
 */
export async function dlqRedrive(target: OpsTarget, options: CommandOptions): Promise<Output> {
  const rate = wholeNumber(options, 'rate', { max: SQS_LIMITS.moveTaskMaxRate, unit: 'messages per second' });
  const before = await queueDepth(target, target.queues.deadLetter);
  if (before.visible === 0)
    return { json: { moved: 0 }, lines: ['the dead-letter queue is empty: nothing to re-drive'] };
  const { Results: [latest] = [] } = await target.sqs.send(
    new ListMessageMoveTasksCommand({ SourceArn: target.queues.deadLetterArn, MaxResults: 1 }),
  );
  if (latest?.Status === 'RUNNING' || latest?.Status === 'CANCELLING') {
    throw new OpsError(
      `A move task is already ${latest.Status.toLowerCase()} on the dead-letter queue ` +
        `(${latest.ApproximateNumberOfMessagesMoved ?? 0} / ${latest.ApproximateNumberOfMessagesToMove ?? '?'} moved). ` +
        'Nothing was changed: follow it with `npm run ops -- dlq status`, and re-drive again once it has ended.',
    );
  }
  const revived = await target.ledger.reviveDead(Date.now() - target.dlqRetentionDays * 86_400_000);
  let TaskHandle: string | undefined;
  try {
    ({ TaskHandle } = await target.sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: target.queues.deadLetterArn,
        ...(rate ? { MaxNumberOfMessagesPerSecond: rate } : {}),
      }),
    ));
  } catch (error) {
    throw new OpsError(
      `Could not start the move task: ${(error as Error).message}. ` +
        `${revived} ledger items were made pending again before it, so as_of waits for their messages ` +
        '(it does not overstate) until a re-drive succeeds: fix the cause and run `npm run ops -- dlq redrive` again.',
    );
  }
  const lines = [
    `re-driving ${before.visible} messages back to the event queue (task ${TaskHandle})`,
    `${revived} of them are pending again in the in-flight ledger, so as_of waits for them`,
  ];
  if (options.values.wait) {
    for (;;) {
      const { Results = [] } = await target.sqs.send(
        new ListMessageMoveTasksCommand({ SourceArn: target.queues.deadLetterArn, MaxResults: 1 }),
      );
      const task = Results[0];
      // On stderr: stdout carries the result (--json must stay parseable).
      showProgress(
        `${task?.ApproximateNumberOfMessagesMoved ?? 0} / ${task?.ApproximateNumberOfMessagesToMove ?? before.visible} moved (${task?.Status})`,
      );
      if (task?.Status !== 'RUNNING') {
        endProgress();
        lines.push(`task ${task?.Status}${task?.FailureReason ? `: ${task.FailureReason}` : ''}`);
        break;
      }
      await sleep(1000);
    }
  } else {
    lines.push('follow it with: npm run ops -- dlq status   (or add --wait)');
  }
  lines.push('Messages are counted once however often they are re-driven (event_id dedup).');
  return { json: { taskHandle: TaskHandle, messages: before.visible, revived }, lines };
}
