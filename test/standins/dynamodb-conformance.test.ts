/**
 * DynamoDB conformance for the features the project uses (tables with a GSI, conditional writes,
 * atomic counters, queries), through @aws-sdk/client-dynamodb and lib-dynamodb. Local: dynalite.
 * AWS: a temporary on-demand table, deleted afterwards.
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
import { type ConformanceTarget, conformanceTarget } from './support/conformance-target';
import { eventually } from './support/eventually';
import { rejection } from './support/rejection';

describe('DynamoDB conformance', () => {
  let target: ConformanceTarget;
  let dynamodb: DynamoDBClient;
  let documents: DynamoDBDocumentClient;
  let table: string;

  beforeAll(async () => {
    target = await conformanceTarget('ddb');
    dynamodb = new DynamoDBClient({ ...target.dynamodb, maxAttempts: 1 });
    documents = DynamoDBDocumentClient.from(dynamodb);
    table = target.name('keys');
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'account_id', AttributeType: 'S' },
          { AttributeName: 'created_at', AttributeType: 'N' },
          { AttributeName: 'status', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'by-account',
            KeySchema: [
              { AttributeName: 'account_id', KeyType: 'HASH' },
              { AttributeName: 'created_at', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            IndexName: 'by-status',
            KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
      }),
    );
    await eventually(
      async () => {
        const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: table }));
        expect(Table?.TableStatus).toBe('ACTIVE');
        expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexStatus)).toEqual([
          'ACTIVE',
          'ACTIVE',
        ]);
      },
      target.activationTimeoutMs,
      1_000,
    );
  }, 15 * 60_000);

  afterAll(async () => {
    if (table) await dynamodb?.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    dynamodb?.destroy();
    await target?.stop();
  });

  it('writes an item once with attribute_not_exists and refuses the second write', async () => {
    // Prepare
    const item = { pk: 'key#abc', sk: 'meta', account_id: 'acct-1', created_at: 1, scopes: ['ingest'] };
    const put = () =>
      documents.send(
        new PutCommand({ TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      );

    // Act
    await put();
    const second = await rejection(put());

    // Assess
    expect(second).toBeInstanceOf(ConditionalCheckFailedException);
    expect(
      (await documents.send(new GetCommand({ TableName: table, Key: { pk: 'key#abc', sk: 'meta' } }))).Item,
    ).toEqual(item);
  });

  it('counts atomically with ADD and returns the new value', async () => {
    // Act
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        documents.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: 'limiter#acct-1', sk: 'window' },
            UpdateExpression: 'ADD tokens :one SET account_id = :a, created_at = :t',
            ExpressionAttributeValues: { ':one': 1, ':a': 'acct-limits', ':t': 0 },
            ReturnValues: 'UPDATED_NEW',
          }),
        ),
      ),
    );

    // Assess
    expect(results.map((r) => r.Attributes?.tokens).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
  });

  it('queries the GSI by account in sort-key order', async () => {
    // Prepare
    for (const [id, created] of [
      ['k3', 30],
      ['k1', 10],
      ['k2', 20],
    ] as const) {
      await documents.send(
        new PutCommand({
          TableName: table,
          Item: { pk: `key#${id}`, sk: 'meta', account_id: 'acct-2', created_at: created },
        }),
      );
    }

    // Act
    const query = () =>
      documents.send(
        new QueryCommand({
          TableName: table,
          IndexName: 'by-account',
          KeyConditionExpression: 'account_id = :a AND created_at >= :from',
          ExpressionAttributeValues: { ':a': 'acct-2', ':from': 15 },
        }),
      );
    // GSIs are eventually consistent on AWS.
    const { Items = [] } = await eventually(async () => {
      const result = await query();
      expect(result.Items).toHaveLength(2);
      return result;
    });

    // Assess
    expect(Items.map((item) => item.pk)).toEqual(['key#k2', 'key#k3']);
  });

  it('queries the base table by partition and sort-key prefix', async () => {
    // Prepare
    for (const hour of ['2024-05-06T07', '2024-05-06T08', '2024-05-07T00']) {
      await documents.send(
        new PutCommand({
          TableName: table,
          Item: { pk: 'summary#acct-3', sk: `last_24h#${hour}`, account_id: 'x', created_at: 0 },
        }),
      );
    }

    // Act
    const { Items = [] } = await documents.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :day)',
        ExpressionAttributeValues: { ':pk': 'summary#acct-3', ':day': 'last_24h#2024-05-06' },
        ConsistentRead: true,
      }),
    );

    // Assess
    expect(Items.map((item) => item.sk)).toEqual(['last_24h#2024-05-06T07', 'last_24h#2024-05-06T08']);
  });

  it('queries a partition-key-only GSI with a KEYS_ONLY projection', async () => {
    // Prepare
    await documents.send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: 'key#revoked',
          sk: 'meta',
          account_id: 'acct-4',
          created_at: 5,
          status: 'revoked',
          secret: 'no',
        },
      }),
    );

    // Act
    const { Items = [] } = await eventually(async () => {
      const result = await documents.send(
        new QueryCommand({
          TableName: table,
          IndexName: 'by-status',
          KeyConditionExpression: '#s = :s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': 'revoked' },
        }),
      );
      expect(result.Items).toHaveLength(1);
      return result;
    });

    // Assess: the table keys and the index key, nothing else
    expect(Items[0]).toEqual({ pk: 'key#revoked', sk: 'meta', status: 'revoked' });
  });
});
