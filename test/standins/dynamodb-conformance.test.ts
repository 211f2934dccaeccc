/**
 * DynamoDB conformance for what the project does with it, on the project's own tables
 * (local/dynamodb-tables.ts, as the CDK app defines them): conditional writes, a counter updated in
 * place, the sparse `pending` index in sort-key order, `begins_with` on the account index, and the
 * summary cache's claim. Through @aws-sdk/client-dynamodb and lib-dynamodb. Local: dynalite.
 * AWS: temporary on-demand tables, deleted afterwards.
 */
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BY_ACCOUNT_INDEX, PENDING_INDEX } from '../../lambdas/adapters/dynamodb/table-keys';
import { localTableNames, type TableNames, tableDefinitions } from '../../local/dynamodb-tables';
import { type ConformanceTarget, conformanceTarget } from './support/conformance-target';
import { eventually } from './support/eventually';
import { rejection } from './support/rejection';

describe('DynamoDB conformance', () => {
  let target: ConformanceTarget;
  let dynamodb: DynamoDBClient;
  let documents: DynamoDBDocumentClient;
  let tables: TableNames | undefined;

  beforeAll(async () => {
    target = await conformanceTarget('ddb');
    dynamodb = new DynamoDBClient({ ...target.dynamodb, maxAttempts: 1 });
    documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
    tables = localTableNames(target.name('t'));
    const definitions = tableDefinitions(tables);
    for (const definition of definitions) await dynamodb.send(new CreateTableCommand(definition));
    await eventually(
      async () => {
        for (const definition of definitions) {
          const { Table } = await dynamodb.send(
            new DescribeTableCommand({ TableName: definition.TableName }),
          );
          expect(Table?.TableStatus).toBe('ACTIVE');
          expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexStatus) ?? []).toEqual(
            (definition.GlobalSecondaryIndexes ?? []).map(() => 'ACTIVE'),
          );
        }
      },
      target.activationTimeoutMs,
      1_000,
    );
  }, 15 * 60_000);

  afterAll(async () => {
    for (const name of Object.values(tables ?? {})) {
      await dynamodb?.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
    }
    dynamodb?.destroy();
    await target?.stop();
  });

  it('writes an item once with attribute_not_exists and refuses the second write', async () => {
    // Prepare: a key record, as the tenant store creates it.
    const item = { pk: 'key#abc', account_id: 'acct-1', scopes: ['ingest'], status: 'active' };
    const put = () =>
      documents.send(
        new PutCommand({
          TableName: tables!.tenantsTable,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );

    // Act
    await put();
    const second = await rejection(put());

    // Assess
    expect(second).toBeInstanceOf(ConditionalCheckFailedException);
    expect(
      (await documents.send(new GetCommand({ TableName: tables!.tenantsTable, Key: { pk: 'key#abc' } })))
        .Item,
    ).toEqual(item);
  });

  it('updates a number in place under a condition, atomically, and returns the new value', async () => {
    // Prepare: the rate limiter's theoretical arrival time (`tat`), moved forward by each call.
    const key = { pk: 'limiter#acct-1' };
    await documents.send(new PutCommand({ TableName: tables!.rateLimitTable, Item: { ...key, tat: 0 } }));

    // Act
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        documents.send(
          new UpdateCommand({
            TableName: tables!.rateLimitTable,
            Key: key,
            UpdateExpression: 'SET tat = tat + :cost, expires_at = :exp',
            ConditionExpression: 'tat >= :zero AND tat <= :ceiling',
            ExpressionAttributeValues: { ':cost': 1, ':exp': 0, ':zero': 0, ':ceiling': 100 },
            ReturnValues: 'UPDATED_NEW',
          }),
        ),
      ),
    );

    // Assess
    expect(results.map((r) => r.Attributes?.tat).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
  });

  it("lists an account's pending messages oldest first, leaving out items without pending_since (sparse index)", async () => {
    // Prepare: ledger items, as ingest and the writer leave them.
    const ledger = (pk: string, extra: Record<string, unknown>) =>
      documents.send(
        new PutCommand({
          TableName: tables!.ledgerTable,
          Item: { pk, account_id: 'acct-2', expires_at: 2_000_000_000, ...extra },
        }),
      );
    await ledger('msg#k3', { state: 'sent', pending_since: 30 });
    await ledger('msg#k1', { state: 'sending', pending_since: 10 });
    await ledger('msg#k2', { state: 'sent', pending_since: 20 });
    await ledger('msg#k4', { state: 'committed' });

    // Act: the ledger's query, and one from a point in time.
    const query = (condition: string, values: Record<string, unknown>) =>
      documents.send(
        new QueryCommand({
          TableName: tables!.ledgerTable,
          IndexName: PENDING_INDEX,
          KeyConditionExpression: condition,
          ExpressionAttributeValues: values,
          ScanIndexForward: true,
          Limit: 10,
        }),
      );
    // GSIs are eventually consistent on AWS.
    const { Items: all = [] } = await eventually(async () => {
      const result = await query('account_id = :account', { ':account': 'acct-2' });
      expect(result.Items).toHaveLength(3);
      return result;
    });
    const { Items: later = [] } = await query('account_id = :account AND pending_since >= :from', {
      ':account': 'acct-2',
      ':from': 15,
    });

    // Assess
    expect(all.map((item) => item.pk)).toEqual(['msg#k1', 'msg#k2', 'msg#k3']);
    expect(later.map((item) => item.pk)).toEqual(['msg#k2', 'msg#k3']);
  });

  it("lists an account's keys on the account index with begins_with on the table key", async () => {
    // Prepare: an account and its keys, as the tenant store writes them.
    for (const pk of ['account#acct-3', 'key#b', 'key#a']) {
      await documents.send(
        new PutCommand({ TableName: tables!.tenantsTable, Item: { pk, account_id: 'acct-3' } }),
      );
    }
    await documents.send(
      new PutCommand({ TableName: tables!.tenantsTable, Item: { pk: 'key#c', account_id: 'acct-4' } }),
    );

    // Act
    const { Items = [] } = await eventually(async () => {
      const result = await documents.send(
        new QueryCommand({
          TableName: tables!.tenantsTable,
          IndexName: BY_ACCOUNT_INDEX,
          KeyConditionExpression: 'account_id = :account AND begins_with(pk, :key)',
          ExpressionAttributeValues: { ':account': 'acct-3', ':key': 'key#' },
        }),
      );
      expect(result.Items).toHaveLength(2);
      return result;
    });

    // Assess
    expect(Items.map((item) => item.pk)).toEqual(['key#a', 'key#b']);
  });

  it('lets one caller claim a summary while the claim lasts, and another once it has run out', async () => {
    // Prepare: the summary cache's claim, a put that succeeds if absent or expired.
    const claim = (now: number, until: number) =>
      documents.send(
        new PutCommand({
          TableName: tables!.summaryCacheTable,
          Item: { pk: 'claim#acct-5#last_1h', until },
          ConditionExpression: 'attribute_not_exists(pk) OR #until < :now',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': now },
        }),
      );

    // Act
    await claim(1_000, 3_000);
    const whileClaimed = await rejection(claim(2_000, 4_000));
    await claim(3_001, 5_000);

    // Assess
    expect(whileClaimed).toBeInstanceOf(ConditionalCheckFailedException);
    const { Item } = await documents.send(
      new GetCommand({ TableName: tables!.summaryCacheTable, Key: { pk: 'claim#acct-5#last_1h' } }),
    );
    expect(Item?.until).toBe(5_000);
  });
});
