/**
 * The DynamoDB tables of the pipeline, as CreateTable inputs for the local stand-in and tests. Their
 * key schemas mirror the CDK app's tables (lib/constructs); docs/data-model.md#dynamodb says why.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { BY_ACCOUNT_INDEX, PENDING_INDEX } from '../lambdas/adapters/dynamodb/table-keys';

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

/** An on-demand table keyed by a string `pk` alone, as every table of the pipeline is. */
export function keyedByPk(name: string): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  };
}

/** A table keyed by `pk` with one global secondary index (hash `account_id`, all attributes projected). */
function withAccountIndex(
  name: string,
  index: string,
  sortKey: { name: string; type: 'S' | 'N' },
): CreateTableCommandInput {
  return {
    ...keyedByPk(name),
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'account_id', AttributeType: 'S' },
      ...(sortKey.name === 'pk' ? [] : [{ AttributeName: sortKey.name, AttributeType: sortKey.type }]),
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: index,
        KeySchema: [
          { AttributeName: 'account_id', KeyType: 'HASH' },
          { AttributeName: sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

export function tableDefinitions(names: TableNames): CreateTableCommandInput[] {
  return [
    withAccountIndex(names.tenantsTable, BY_ACCOUNT_INDEX, { name: 'pk', type: 'S' }),
    keyedByPk(names.rateLimitTable),
    withAccountIndex(names.ledgerTable, PENDING_INDEX, { name: 'pending_since', type: 'N' }),
    keyedByPk(names.summaryCacheTable),
  ];
}
