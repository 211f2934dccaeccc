import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTenantStore } from '../../lambdas/adapters/dynamodb/tenant-store';
import { generateApiKey, hashApiKey } from '../../lambdas/core/api-keys';
import { decodeAuthContext } from '../../lambdas/core/tenants';
import { createAuthorizerHandler, wholeApiArn } from '../../lambdas/handlers/authorizer';
import { createObservability } from '../../lambdas/shared/observability';
import { createAccount, createKey, revokeKey } from '../../ops/tenants';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { silentLog as silent } from '../support/logs';

const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/events';

function authorizerEvent(authorization?: string): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    headers: authorization === undefined ? {} : { Authorization: authorization },
  } as APIGatewayRequestAuthorizerEvent;
}

describe('Handler: authorizer', () => {
  let dynamo: TestDynamo;
  let store: DynamoTenantStore;
  let handler: ReturnType<typeof createAuthorizerHandler>;

  beforeAll(async () => {
    dynamo = await startTestDynamo();
    store = new DynamoTenantStore(dynamo.documents, dynamo.names.tenantsTable);
    handler = createAuthorizerHandler(
      () => ({ keys: store, log: silent, defaultTier: 'standard' }),
      createObservability('authorizer'),
    );
  });
  afterAll(async () => {
    await dynamo.stop();
  });

  it('allows a valid key on every route of the stage and passes its account, scopes and tier', async () => {
    // Prepare
    const account = await createAccount(store, { name: 'Acme', tier: 'enterprise' });
    const { key, record } = await createKey(store, { accountId: account.accountId, kind: 'secret' });

    // Act
    const result = await handler(authorizerEvent(`Bearer ${key}`));

    // Assess
    expect(result.principalId).toBe(account.accountId);
    expect(result.policyDocument.Statement).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*',
      },
    ]);
    expect(decodeAuthContext(result.context)).toEqual({
      accountId: account.accountId,
      scopes: ['ingest', 'read'],
      tier: 'enterprise',
      keyKind: 'secret',
      keyPrefix: record.visiblePrefix,
      allowedOrigins: [],
    });
    expect((await store.findKey(hashApiKey(key)))?.lastUsedAt).toBeDefined();
  });

  it('limits a publishable key to ingest and carries its allowed origins', async () => {
    const account = await createAccount(store, { name: 'Shop', tier: 'free' });
    const { key } = await createKey(store, {
      accountId: account.accountId,
      kind: 'publishable',
      allowedOrigins: ['https://shop.example.com'],
    });

    const context = decodeAuthContext((await handler(authorizerEvent(`Bearer ${key}`))).context);

    expect(context?.scopes).toEqual(['ingest']);
    expect(context?.allowedOrigins).toEqual(['https://shop.example.com']);
  });

  it.each([
    ['no header', undefined],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['a malformed key', 'Bearer not-a-key'],
    ['a key with a bad checksum', `Bearer ${generateApiKey('secret').slice(0, -1)}0`],
    ['a well-formed unknown key', `Bearer ${generateApiKey('secret')}`],
  ])('answers 401 (Unauthorized) for %s', async (_, header) => {
    await expect(handler(authorizerEvent(header))).rejects.toThrow(/^Unauthorized$/);
  });

  it('stops accepting a key once revoked, and every key of a suspended account', async () => {
    const account = await createAccount(store, { name: 'Gone', tier: 'standard' });
    const revoked = await createKey(store, { accountId: account.accountId, kind: 'secret' });
    const other = await createKey(store, { accountId: account.accountId, kind: 'secret' });
    await expect(handler(authorizerEvent(`Bearer ${revoked.key}`))).resolves.toBeDefined();

    await revokeKey(store, account.accountId, revoked.record.visiblePrefix);
    await expect(handler(authorizerEvent(`Bearer ${revoked.key}`))).rejects.toThrow(/^Unauthorized$/);
    await expect(handler(authorizerEvent(`Bearer ${other.key}`))).resolves.toBeDefined();

    await store.updateAccount(account.accountId, { status: 'suspended' });
    await expect(handler(authorizerEvent(`Bearer ${other.key}`))).rejects.toThrow(/^Unauthorized$/);
  });

  it('keeps the first revocation time of a key revoked twice (two operators at once)', async () => {
    const account = await createAccount(store, { name: 'Twice', tier: 'standard' });
    const { record } = await createKey(store, { accountId: account.accountId, kind: 'secret' });

    const first = await store.revokeKey(record.keyHash, '2026-11-20T10:00:00.000Z');
    const second = await store.revokeKey(record.keyHash, '2026-11-20T11:00:00.000Z');

    expect([first, second]).toEqual([true, false]);
    const [stored] = await store.listKeys(account.accountId);
    expect(stored).toMatchObject({ status: 'revoked', revokedAt: '2026-11-20T10:00:00.000Z' });
  });

  it('fails with a server error, not a 401, when the key store is down', async () => {
    const account = await createAccount(store, { name: 'Down', tier: 'standard' });
    const { key } = await createKey(store, { accountId: account.accountId, kind: 'secret' });
    dynamo.standin.faults.set({ down: true });
    try {
      await expect(handler(authorizerEvent(`Bearer ${key}`))).rejects.toThrow(/^Authorizer unavailable$/);
    } finally {
      dynamo.standin.faults.reset();
    }
  });

  it('builds the whole-API resource from any method ARN', () => {
    expect(wholeApiArn('arn:aws:execute-api:us-east-1:1:api/stage/GET/accounts/a/summary')).toBe(
      'arn:aws:execute-api:us-east-1:1:api/stage/*',
    );
  });
});
