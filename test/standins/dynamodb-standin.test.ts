/**
 * What dynalite does not do, pinned down so code (and docs) cannot drift from it: no transactions,
 * no UpdateTimeToLive, no expiry. Local only: on AWS these calls work.
 */
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyedByPk } from '../../local/dynamodb-tables';
import { dynamoDbClientConfig } from '../../local/standins/client-config';
import { type DynamoDbStandin, startDynamoDbStandin } from '../../local/standins/dynamodb/dynamodb-standin';
import { makeTempDir, removeTempDir } from '../support/temp-dir';
import { rejection } from './support/rejection';

describe('DynamoDB stand-in (dynalite) limits', () => {
  let dir: string;
  let dynamodb: DynamoDbStandin;
  let client: DynamoDBClient;

  beforeAll(async () => {
    dir = await makeTempDir('standins-dynamodb');
    dynamodb = await startDynamoDbStandin({
      dir,
      tables: [keyedByPk('cache')],
    });
    client = new DynamoDBClient({ ...dynamoDbClientConfig(dynamodb.endpoint), maxAttempts: 1 });
  });

  afterAll(async () => {
    client?.destroy();
    await dynamodb?.stop();
    await removeTempDir(dir);
  });

  it('creates the tables it is given, ACTIVE at once', async () => {
    // Act
    const { Table } = await client.send(new DescribeTableCommand({ TableName: 'cache' }));
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: 'cache' }));

    // Assess
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
  });

  it('does not implement TransactWriteItems', async () => {
    // Act
    const error = await rejection(
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: 'cache', Item: { pk: { S: 'x' } } } }],
        }),
      ),
    );

    // Assess
    expect(error.name).toBe('UnknownOperationException');
  });

  it('does not implement UpdateTimeToLive', async () => {
    // Act
    const error = await rejection(
      client.send(
        new UpdateTimeToLiveCommand({
          TableName: 'cache',
          TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
        }),
      ),
    );

    // Assess
    expect(error.name).toBe('UnknownOperationException');
  });

  it('still returns an item whose TTL attribute is in the past: readers must filter', async () => {
    // Prepare
    const expiredAt = String(Math.floor(Date.now() / 1000) - 3_600);
    await client.send(
      new PutItemCommand({ TableName: 'cache', Item: { pk: { S: 'stale' }, expires_at: { N: expiredAt } } }),
    );

    // Act
    const { Item } = await client.send(
      new GetItemCommand({ TableName: 'cache', Key: { pk: { S: 'stale' } } }),
    );

    // Assess
    expect(Item?.expires_at?.N).toBe(expiredAt);
  });

  it('keeps items on disk across a restart on the same directory', async () => {
    // Prepare
    await client.send(new PutItemCommand({ TableName: 'cache', Item: { pk: { S: 'durable' } } }));
    await dynamodb.stop();

    // Act
    dynamodb = await startDynamoDbStandin({ dir });
    client.destroy();
    client = new DynamoDBClient({ ...dynamoDbClientConfig(dynamodb.endpoint), maxAttempts: 1 });
    const { Item } = await client.send(
      new GetItemCommand({ TableName: 'cache', Key: { pk: { S: 'durable' } } }),
    );

    // Assess
    expect(Item).toEqual({ pk: { S: 'durable' } });
  });
});
