/**
 * `GET /accounts/{id}/summary` and its function. The function runs in the VPC (it reads rollups
 * through RDS Proxy as `firehose_reader`) with reserved concurrency, which bounds its database
 * connections; the route's throttle (summaryMethodOptions, set on the API's stage) turns excess load
 * into 429s instead of Lambda throttles surfacing as 5xx.
 */
import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { PENDING_INDEX } from '../../lambdas/adapters/dynamodb/table-keys';
import { READER_DB_USER } from '../config/database';
import { summaryEnvironment } from '../config/function-environment';
import type { StageConfig } from '../config/stage-config';
import type { EventStore } from './event-store';
import { FirehoseFunction } from './firehose-function';
import type { IngestApi } from './ingest-api';
import { grantTableActions } from './pipeline-tables';

/** Requests per second one summary instance can serve from the cache (~100 ms each). */
export const SUMMARY_REQUESTS_PER_INSTANCE = 10;

/** The stage's method-settings key of the summary route. */
export const SUMMARY_METHOD_PATH = '/accounts/{id}/summary/GET';

/** Route throttle matched to the summary function's reserved concurrency. */
export function summaryMethodOptions(reservedConcurrency: number): apigw.MethodDeploymentOptions {
  return {
    throttlingRateLimit: reservedConcurrency * SUMMARY_REQUESTS_PER_INSTANCE,
    throttlingBurstLimit: reservedConcurrency * 2,
    loggingLevel: apigw.MethodLoggingLevel.ERROR,
    dataTraceEnabled: false,
    metricsEnabled: true,
  };
}

export interface SummaryApiProps {
  readonly config: StageConfig;
  readonly api: IngestApi;
  readonly eventStore: EventStore;
  readonly summaryCache: dynamodb.ITable;
  readonly ledger: dynamodb.ITable;
}

export class SummaryApi extends Construct {
  public readonly summaryFunction: FirehoseFunction;
  public readonly summaryResource: apigw.Resource;
  public readonly getSummary: apigw.Method;

  constructor(scope: Construct, id: string, props: SummaryApiProps) {
    super(scope, id);
    const { config, eventStore } = props;
    const database = eventStore.client({ proxyUser: READER_DB_USER });

    this.summaryFunction = new FirehoseFunction(this, 'SummaryFunction', {
      handlerName: 'summary',
      config,
      description: 'GET /accounts/{id}/summary: cache, rollups, freshness watermark',
      environment: summaryEnvironment(
        config,
        { summaryCacheTable: props.summaryCache.tableName, ledgerTable: props.ledger.tableName },
        database.endpoint,
      ),
      timeout: Duration.seconds(config.summary.timeoutSeconds),
      memorySize: config.summary.memoryMb,
      // Bounds its database connections (design promise 5), whatever the request rate.
      reservedConcurrentExecutions: config.summary.reservedConcurrency,
      ...database.functionProps,
    });
    // Entries, and the short claims by which one instance computes a missing entry (docs/summary.md).
    grantTableActions(this.summaryFunction, props.summaryCache, [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
    ]);
    grantTableActions(this.summaryFunction, props.ledger, ['dynamodb:Query'], PENDING_INDEX);
    database.grant(this.summaryFunction);

    const account = props.api.api.root.addResource('accounts').addResource('{id}');
    this.summaryResource = account.addResource('summary');
    this.getSummary = props.api.addAuthorizedMethod(this.summaryResource, 'GET', this.summaryFunction, {
      'method.request.path.id': true,
    });
  }
}
