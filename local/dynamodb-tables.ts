/**
 * The DynamoDB tables of the pipeline, as CreateTable inputs for the local stand-in and tests. Their
 * key schemas mirror the CDK app's tables (lib/constructs); docs/data-model.md#dynamodb says why.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { PENDING_INDEX } from '../lambdas/adapters/dynamodb/message-ledger';
import { BY_ACCOUNT_INDEX } from '../lambdas/adapters/dynamodb/tenant-store';

export interface TableNames {
  readonly tenantsTable: string;
  readonly rateLimitTable: string;
  readonly ledgerTable: string;
  readonly summaryCacheTable: string;
}

export function localTableNames(prefix: string): TableNames {
  return {
    tenantsTable: `${prefix}-tenants`,
    rateLimitTable: `${prefix}-rate-limits`,
    ledgerTable: `${prefix}-ledger`,
    summaryCacheTable: `${prefix}-summary-cache`,
  };
}

function keyedByPk(name: string): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  };
}

export function tableDefinitions(names: TableNames): CreateTableCommandInput[] {
  return [
    {
      ...keyedByPk(names.tenantsTable),
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'account_id', AttributeType: 'S' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: BY_ACCOUNT_INDEX,
          KeySchema: [
            { AttributeName: 'account_id', KeyType: 'HASH' },
            { AttributeName: 'pk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    },
    keyedByPk(names.rateLimitTable),
    {
      ...keyedByPk(names.ledgerTable),
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'account_id', AttributeType: 'S' },
        { AttributeName: 'pending_since', AttributeType: 'N' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: PENDING_INDEX,
          KeySchema: [
            { AttributeName: 'account_id', KeyType: 'HASH' },
            { AttributeName: 'pending_since', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    },
    keyedByPk(names.summaryCacheTable),
  ];
}
