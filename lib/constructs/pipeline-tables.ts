/**
 * The pipeline's DynamoDB state: tenants and API keys, the shared rate limiter, the in-flight message
 * ledger behind the freshness watermark, and the summary cache. On-demand, encrypted, string key `pk`,
 * point-in-time recovery on all four (cheap at these sizes, and the ledger and tenants matter).
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
// The adapters' names of the indexes and the TTL attribute (lambdas/adapters/dynamodb/table-keys.ts).
import { BY_ACCOUNT_INDEX, PENDING_INDEX, TTL_ATTRIBUTE } from '../../lambdas/adapters/dynamodb/table-keys';
import { removalPolicy } from './retention';

export interface PipelineTablesProps {
  /** prod: RETAIN and deletion protection. */
  readonly retain: boolean;
}

export class PipelineTables extends Construct {
  /** `account#<id>` and `key#<sha256 of the key>` items; GSI `by-account` lists an account's keys. */
  public readonly tenants: dynamodb.Table;
  public readonly rateLimits: dynamodb.Table;
  /** One item per in-flight message; GSI `pending` (account_id, pending_since) gives the watermark. */
  public readonly ledger: dynamodb.Table;
  public readonly summaryCache: dynamodb.Table;

  constructor(scope: Construct, id: string, props: PipelineTablesProps) {
    super(scope, id);
    const common: dynamodb.TableProps = {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.retain,
      removalPolicy: removalPolicy(props.retain),
    };

    this.tenants = new dynamodb.Table(this, 'Tenants', common);
    this.tenants.addGlobalSecondaryIndex({
      indexName: BY_ACCOUNT_INDEX,
      partitionKey: { name: 'account_id', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.rateLimits = new dynamodb.Table(this, 'RateLimits', {
      ...common,
      timeToLiveAttribute: TTL_ATTRIBUTE,
    });

    this.ledger = new dynamodb.Table(this, 'Ledger', { ...common, timeToLiveAttribute: TTL_ATTRIBUTE });
    this.ledger.addGlobalSecondaryIndex({
      indexName: PENDING_INDEX,
      partitionKey: { name: 'account_id', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'pending_since', type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.summaryCache = new dynamodb.Table(this, 'SummaryCache', {
      ...common,
      timeToLiveAttribute: TTL_ATTRIBUTE,
    });
  }
}

/**
 * Grants exactly `actions` on a table (and, for queries, one named index), nothing on its other
 * indexes: Table.grant() would add `<table>/index/*`.
 */
export function grantTableActions(
  grantee: iam.IGrantable,
  table: dynamodb.ITable,
  actions: readonly string[],
  indexName?: string,
): iam.Grant {
  const resourceArns = indexName ? [`${table.tableArn}/index/${indexName}`] : [table.tableArn];
  return iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns });
}
