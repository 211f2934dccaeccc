/**
 * The ops side of erasure: which archive lines it removes, how it calls the deployed erasure
 * function, and what it refuses (scripted clients; against the local pipeline in
 * test/e2e/erasure.test.ts).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErasureInProgress, type ErasureRecord } from '../../lambdas/adapters/postgres/erasure';
import { archiveLine } from '../../lambdas/core/archive-records';
import { serializeQueuedEvent } from '../../lambdas/core/queue-message';
import { scrubArchive, scrubArchiveText, tenantsDelete, usersErase } from '../../ops/erasure';
import { deployedEraser, OpsError, type OpsTarget } from '../../ops/target';
import { scriptedArchive, scriptedTarget } from '../support/ops-target';

const T = Date.parse('2026-11-20T12:00:00.000Z');

function line(
  account: string,
  user: string,
  receivedAt: number,
  id = `${account}-${user}-${receivedAt}`,
): string {
  return archiveLine(
    serializeQueuedEvent({
      event_id: id,
      user_id: user,
      type: 'click',
      timestamp: new Date(T).toISOString(),
    }),
    { account_id: account, received_at: new Date(receivedAt).toISOString(), request_id: 'r' },
  );
}

describe('Function: scrubArchiveText', () => {
  const text = [
    line('acme', 'alice', T - 1000),
    line('acme', 'bob', T - 1000),
    line('acme', 'alice', T + 1000),
    line('zeta', 'alice', T - 1000),
  ].join('');

  it("removes the user's lines received before the erasure, of that account only", () => {
    const { kept, removed } = scrubArchiveText(text, { accountId: 'acme', userId: 'alice', erasedBefore: T });

    expect(removed).toBe(1);
    expect(kept).toBe(
      [line('acme', 'bob', T - 1000), line('acme', 'alice', T + 1000), line('zeta', 'alice', T - 1000)].join(
        '',
      ),
    );
  });

  it('removes every line of a deleted account, and leaves nothing when they were all its', () => {
    expect(scrubArchiveText(text, { accountId: 'acme', erasedBefore: T })).toEqual({
      kept: line('zeta', 'alice', T - 1000),
      removed: 3,
    });
    expect(scrubArchiveText(line('acme', 'bob', T), { accountId: 'acme', erasedBefore: T + 1 })).toEqual({
      kept: '',
      removed: 1,
    });
  });

  it('removes a damaged line that visibly belongs to the erased user, keeps one that does not', () => {
    const damaged = `{"account_id":"acme","user_id":"alice","event_id":\n{"account_id":"acme","user_id":"carol",\n`;

    const { kept, removed } = scrubArchiveText(damaged, {
      accountId: 'acme',
      userId: 'alice',
      erasedBefore: T,
    });

    expect(removed).toBe(1);
    expect(kept).toBe('{"account_id":"acme","user_id":"carol",\n');
  });

  it('does not take another account whose id begins with the same text', () => {
    const other = line('acme-eu', 'alice', T - 1000);
    expect(scrubArchiveText(other, { accountId: 'acme', erasedBefore: T })).toEqual({
      kept: other,
      removed: 0,
    });
  });
});

describe('Function: scrubArchive', () => {
  const s3 = mockClient(S3Client);
  afterEach(() => s3.reset());
  const archive = scriptedArchive();
  const keys = Array.from(
    { length: 40 },
    (_, i) => `events/2026/11/20/12/object-${String(i).padStart(2, '0')}`,
  );
  const match = { accountId: 'acme', userId: 'alice', erasedBefore: T + 1 };
  const bobsLine = (key: string) => line('acme', 'bob', T, key);

  /** What reached S3, in order: `get <key>`, `put <key>`, `refused <key>`. */
  let calls: string[] = [];

  /** Every object holds one of alice's lines and one of bob's: each has to be rewritten. */
  function serveObjects(): void {
    calls = [];
    s3.on(ListObjectsV2Command, { Prefix: 'events/' }).resolves({ Contents: keys.map((Key) => ({ Key })) });
    s3.on(ListObjectsV2Command, { Prefix: 'errors/' }).resolves({ Contents: [] });
    s3.on(GetObjectCommand).callsFake(({ Key }: { Key: string }) => {
      calls.push(`get ${Key}`);
      return {
        Body: {
          transformToByteArray: async () =>
            new Uint8Array(gzipSync(line('acme', 'alice', T, Key) + bobsLine(Key))),
        },
      };
    });
  }

  it("rewrites every object holding the user's lines, without them", async () => {
    serveObjects();
    s3.on(PutObjectCommand).resolves({});

    const scrub = await scrubArchive(archive, match);

    expect(scrub).toEqual({ objects: 40, rewritten: 40, deleted: 0, lines: 40 });
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
    for (const call of s3.commandCalls(PutObjectCommand)) {
      const { Key, Body } = call.args[0].input;
      expect(gunzipSync(Body as Buffer).toString()).toBe(bobsLine(String(Key)));
    }
  });

  it('stops reading at the first object it cannot rewrite, and says the command resumes it', async () => {
    // Prepare: S3 refuses the rewrite of one object
    serveObjects();
    s3.on(PutObjectCommand).callsFake(({ Key }: { Key: string }) => {
      if (Key !== keys[5]) return {};
      calls.push(`refused ${Key}`);
      throw new Error('SlowDown: reduce your request rate');
    });

    // Act
    const scrubbing = scrubArchive(archive, match);

    // Assess: the failure names the object and the next step, and the scrub stopped there. A few
    // reads may start while the refusal travels back, never the rest of the 40 objects.
    await expect(scrubbing).rejects.toThrow(OpsError);
    await expect(scrubbing).rejects.toThrow(
      `Could not scrub s3://archive/${keys[5]}: SlowDown: reduce your request rate. The erasure is not ` +
        'complete: run the same command again; it resumes it and scrubs the archive again.',
    );
    const readsAfter = calls.slice(calls.indexOf(`refused ${keys[5]}`)).filter((c) => c.startsWith('get'));
    expect(readsAfter.length).toBeLessThanOrEqual(3);
    expect(calls.filter((c) => c.startsWith('get')).length).toBeLessThan(keys.length / 2);
  });

  it('says the command resumes the erasure when the archive cannot be listed, after the running rewrites end', async () => {
    // Prepare: the events/ folder is listed; the errors/ folder cannot be
    serveObjects();
    s3.on(PutObjectCommand).resolves({});
    s3.on(ListObjectsV2Command, { Prefix: 'errors/' }).rejects(new Error('AccessDenied'));

    // Act / Assess
    await expect(scrubArchive(archive, match)).rejects.toThrow(
      'Could not list s3://archive/errors/: AccessDenied. The erasure is not complete: run the same ' +
        'command again; it resumes it and scrubs the archive again.',
    );
    // Every rewrite it started had finished: each object read was written back.
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(s3.commandCalls(GetObjectCommand).length);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(keys.length);
  });
});

describe('Function: deployedEraser', () => {
  const lambda = mockClient(LambdaClient);
  afterEach(() => lambda.reset());
  const answer = (body: unknown, error?: string) => ({
    Payload: Buffer.from(JSON.stringify(body)),
    ...(error ? { FunctionError: error } : {}),
  });

  it("invokes the stage's erasure function and reads its dates back", async () => {
    lambda.on(InvokeCommand).resolves(
      answer({
        erasureId: 7,
        requestedAt: '2026-11-20T12:00:00.000Z',
        erasedBefore: '2026-11-20T12:05:10.000Z',
        removed: { events: 3 },
      }) as never,
    );

    const result = await deployedEraser('staging', new LambdaClient({ region: 'eu-west-1' })).erase({
      accountId: 'acme',
      userId: 'alice',
      requestedBy: 'ops',
    });

    const input = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(input.FunctionName).toBe('firehose-staging-erasure');
    expect(JSON.parse(Buffer.from(input.Payload as Uint8Array).toString())).toEqual({
      action: 'erase',
      accountId: 'acme',
      userId: 'alice',
      requestedBy: 'ops',
    });
    expect(result).toEqual({
      erasureId: 7,
      requestedAt: new Date('2026-11-20T12:00:00.000Z'),
      erasedBefore: new Date('2026-11-20T12:05:10.000Z'),
      removed: { events: 3 },
    });
  });

  it('lists the audit records through the function, dates read back', async () => {
    lambda.on(InvokeCommand).resolves(
      answer([
        {
          id: 3,
          accountId: 'acme',
          userSha256: null,
          erasedBefore: '2026-11-20T12:05:10.000Z',
          requestedBy: 'ops',
          reason: null,
          requestedAt: '2026-11-20T12:00:00.000Z',
          completedAt: null,
          removed: {},
        },
      ]) as never,
    );

    const [record] = await deployedEraser('prod', new LambdaClient({ region: 'eu-west-1' })).list({
      accountId: 'acme',
    });

    const input = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(JSON.parse(Buffer.from(input.Payload as Uint8Array).toString())).toEqual({
      action: 'list',
      accountId: 'acme',
    });
    expect(record).toMatchObject({
      id: 3,
      requestedAt: new Date('2026-11-20T12:00:00.000Z'),
      completedAt: null,
    });
  });

  it('turns a failed invocation into a message that says what to do', async () => {
    lambda
      .on(InvokeCommand)
      .resolves(
        answer(
          { errorType: 'InvalidErasureRequest', errorMessage: 'accountId: too short' },
          'Unhandled',
        ) as never,
      );

    const attempt = deployedEraser('dev', new LambdaClient({ region: 'eu-west-1' })).complete(1, {});

    await expect(attempt).rejects.toBeInstanceOf(OpsError);
    await expect(attempt).rejects.toThrow(
      /firehose-dev-erasure\) failed: InvalidErasureRequest: accountId: too short\. .*running the same command again is safe/,
    );
  });

  it("passes on the adapter's own words when another erasure has not completed", async () => {
    const words = 'Erasure 4 (account zeta, …) has not completed. It may still be running: wait for it. …';
    lambda
      .on(InvokeCommand)
      .resolves(answer({ errorType: 'ErasureInProgress', errorMessage: words }, 'Unhandled') as never);

    const attempt = deployedEraser('dev', new LambdaClient({ region: 'eu-west-1' })).erase({
      accountId: 'acme',
      requestedBy: 'ops',
    });

    await expect(attempt).rejects.toEqual(new OpsError(words));
  });
});

describe('Commands: tenants delete, users erase', () => {
  // A tenant store that knows the account and nothing else.
  const existingAccount = {
    findAccount: async (accountId: string) => ({
      accountId,
      name: 'Acme',
      tier: 'standard',
      status: 'active',
    }),
  } as unknown as OpsTarget['tenants'];

  it('refuses to delete a tenant unless its id is repeated, touching nothing', async () => {
    const target = scriptedTarget(); // any store access would throw
    await expect(tenantsDelete(target, { positionals: ['acme'], values: {} })).rejects.toThrow(
      /Repeat its id to confirm: --confirm acme/,
    );
    await expect(
      tenantsDelete(target, { positionals: ['acme'], values: { confirm: 'acme-eu' } }),
    ).rejects.toThrow(/--confirm acme/);
  });

  it('asks for the account and the user of an erasure', async () => {
    const target = scriptedTarget();
    await expect(usersErase(target, { positionals: [], values: { account: 'acme' } })).rejects.toThrow(
      /--user is required/,
    );
    await expect(usersErase(target, { positionals: [], values: { user: 'alice' } })).rejects.toThrow(
      /--account is required/,
    );
  });

  it('says that the same command resumes an erasure a later step failed, naming the step', async () => {
    // Prepare: the database part is done; the summary cache cannot be reached
    const erasedAt = new Date();
    const target = scriptedTarget({
      archive: scriptedArchive,
      eraser: {
        erase: async () => ({
          erasureId: 9,
          resumed: false,
          done: true,
          requestedAt: erasedAt,
          erasedBefore: erasedAt,
          removed: { events: 2 },
        }),
        complete: () => Promise.reject(new Error('the test does not get this far')),
        list: () => Promise.reject(new Error('the test lists nothing')),
      },
      summaryCache: {
        deleteAccount: () =>
          Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })),
      } as unknown as OpsTarget['summaryCache'],
      tenants: existingAccount,
    });

    // Act / Assess
    await expect(
      usersErase(target, { positionals: [], values: { account: 'acme', user: 'alice', by: 'ops' } }),
    ).rejects.toThrow(
      'Could not clear the summary cache: ThrottlingException: Rate exceeded. The erasure is not complete: ' +
        'run the same command again; it resumes it and scrubs the archive again.',
    );
  });

  describe('an account id it does not know', () => {
    const erasures: ErasureRecord[] = [];
    const erased: string[] = [];
    const target = scriptedTarget({
      tenants: { findAccount: async () => undefined } as unknown as OpsTarget['tenants'],
      archive: scriptedArchive,
      eraser: {
        erase: async (request) => {
          erased.push(request.accountId);
          throw new Error('stop here: the erasure went ahead');
        },
        complete: () => Promise.reject(new Error('not reached')),
        list: async ({ accountId }) => erasures.filter((record) => record.accountId === accountId),
      },
    });
    const record = (completedAt: Date | null): ErasureRecord => ({
      id: 4,
      accountId: 'acme',
      userSha256: null,
      erasedBefore: new Date('2026-11-20T10:00:00Z'),
      requestedBy: 'ops',
      reason: null,
      requestedAt: new Date('2026-11-20T10:00:00Z'),
      completedAt,
      removed: {},
    });

    beforeEach(() => {
      erasures.length = 0;
      erased.length = 0;
    });

    it('is refused (a typo must not be audited as an erasure done), for a tenant and for a user', async () => {
      await expect(
        tenantsDelete(target, { positionals: ['acmee'], values: { confirm: 'acmee' } }),
      ).rejects.toThrow(/^No account "acmee" \(account ids are exact; .*\)\. Nothing was erased\.$/);
      await expect(
        usersErase(target, { positionals: [], values: { account: 'acmee', user: 'alice' } }),
      ).rejects.toBeInstanceOf(OpsError);
      expect(erased).toEqual([]);
    });

    it('says when its last erasure completed, and resumes one that did not (its record already deleted)', async () => {
      erasures.push(record(new Date('2026-11-20T10:05:00Z')));
      await expect(
        tenantsDelete(target, { positionals: ['acme'], values: { confirm: 'acme' } }),
      ).rejects.toThrow(
        /Nothing was erased\. Its last erasure, 4, completed at 2026-11-20T10:05:00\.000Z\.$/,
      );
      expect(erased).toEqual([]);

      erasures[0] = record(null);
      await expect(
        tenantsDelete(target, { positionals: ['acme'], values: { confirm: 'acme' } }),
      ).rejects.toThrow('stop here: the erasure went ahead');
      expect(erased).toEqual(['acme']);
    });
  });

  it('says another erasure not yet complete may still be running, without a stack-trace prefix', async () => {
    const target = scriptedTarget({
      tenants: existingAccount,
      archive: scriptedArchive,
      eraser: {
        erase: () =>
          Promise.reject(new ErasureInProgress('Erasure 4 (account zeta, …) has not completed. …')),
        complete: () => Promise.reject(new Error('not reached')),
        list: async () => [],
      },
    });

    await expect(
      usersErase(target, { positionals: [], values: { account: 'acme', user: 'alice' } }),
    ).rejects.toEqual(new OpsError('Erasure 4 (account zeta, …) has not completed. …'));
  });
});
