/**
 * Every metric the alarms and the dashboard read, by the name its publisher gives it: the handlers'
 * EMF metrics (Powertools: namespace `Firehose`, dimensions `service` = `firehose-<function>` and
 * `stage`; see lambdas/shared/observability.ts), the metrics made from log lines by this
 * construct's metric filters, and the AWS services' own. No resources here, only metric objects.
 */
import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { FunctionName } from '../../../lambdas/shared/function-names';
import { METRICS_NAMESPACE, serviceName } from '../../../lambdas/shared/observability';
import type { StageConfig } from '../../config/stage-config';
import type { Archive } from '../archive';
import type { EventQueue } from '../event-queue';
import type { EventStore } from '../event-store';
import type { EventWriter } from '../event-writer';
import type { IngestApi } from '../ingest-api';
import type { PartitionMaintenance } from '../partition-maintenance';
import type { PipelineTables } from '../pipeline-tables';
import type { SummaryApi } from '../summary-api';

/**
 * Custom metrics each handler publishes (EMF), by function: the names the alarms, the dashboard and
 * docs/runbook.md may use (a test finds each in its handler). `RequestsRefused` also carries a `code`
 * dimension: the runbook queries it, `handler()` (service and stage only) cannot.
 */
export const HANDLER_METRICS = {
  ingest: [
    'EventsAccepted',
    'EventsRejected',
    'BatchSize',
    'EnqueueLatency',
    'LimiterFailOpen',
    'LedgerWriteErrors',
    'Throttled',
    'RequestsRefused',
  ],
  authorizer: ['AuthorizerAllowed', 'AuthorizerDenied', 'AuthorizerErrors'],
  writer: [
    'EventsInserted',
    'DuplicatesSkipped',
    'EventsOutOfRange',
    'MalformedMessages',
    'FailedMessages',
    'LedgerErrors',
    'BatchLatency',
    'FreshnessLag',
  ],
  summary: [
    'CacheHit',
    'CacheMiss',
    'CacheErrors',
    'WatermarkFallbacks',
    'TopUsersExtraAttempts',
    'SummaryLatency',
    'SummaryErrors',
  ],
  'partition-maintenance': ['PartitionsCreated', 'PartitionsDropped', 'MaintenanceAlreadyRunning'],
  migrate: [],
  erasure: [],
} as const satisfies Record<FunctionName, readonly string[]>;

type HandlerMetric<H extends FunctionName> = (typeof HANDLER_METRICS)[H][number];

/**
 * Metrics this construct's metric filters make from log lines (same namespace):
 * - `SummaryLatencyCached` / `SummaryLatencyUncached`: `SummaryLatency` of the summary's EMF lines
 *   that also carry `CacheHit` / `CacheMiss` (dimensions `service`, `stage`, as the EMF metric);
 * - `GatewayThrottled`: access-log lines with `errorType` THROTTLED (API Gateway's own 429s),
 *   dimensions `apiId` and `resourcePath`.
 */
export const DERIVED_METRICS = {
  summaryLatencyCached: 'SummaryLatencyCached',
  summaryLatencyUncached: 'SummaryLatencyUncached',
  gatewayThrottled: 'GatewayThrottled',
} as const;

const FIVE_MINUTES = Duration.minutes(5);
const ONE_MINUTE = Duration.minutes(1);

export interface PipelineMetricsProps {
  readonly config: StageConfig;
  readonly ingestApi: IngestApi;
  readonly summaryApi: SummaryApi;
  readonly writer: EventWriter;
  readonly eventQueue: EventQueue;
  readonly archive: Archive;
  readonly eventStore: EventStore;
  readonly tables: PipelineTables;
  readonly maintenance: PartitionMaintenance;
}

/** The two public routes. */
export type Endpoint = 'ingest' | 'summary';

/** API Gateway's per-method counts: all requests, server errors, client errors. */
type ApiCount = 'requests' | '5xx' | '4xx';

/** The functions whose Lambda metrics the alarms and the dashboard read. */
type PipelineFunction = 'ingest' | 'authorizer' | 'writer' | 'summary';

interface Options {
  readonly statistic?: string;
  readonly period?: Duration;
  readonly label?: string;
}

export class PipelineMetrics {
  constructor(private readonly props: PipelineMetricsProps) {}

  private get stage(): string {
    return this.props.config.stage;
  }

  /** A handler's EMF metric (Sum over 5 minutes unless told). */
  public handler<H extends FunctionName>(fn: H, metricName: HandlerMetric<H>, options: Options = {}) {
    return this.custom(serviceName(fn), metricName, options);
  }

  /**
   * Partition maintenance runs that did nothing: failed (Lambda Errors) or found another run still
   * holding the maintenance lock. Either way, days are neither created ahead nor dropped.
   */
  public maintenanceMissed(period: Duration): cloudwatch.IMetric {
    return new cloudwatch.MathExpression({
      expression: 'FILL(failed, 0) + FILL(busy, 0)',
      usingMetrics: {
        failed: this.props.maintenance.maintenanceFunction.metric('Errors', { statistic: 'Sum', period }),
        busy: this.handler('partition-maintenance', 'MaintenanceAlreadyRunning', { period }),
      },
      period,
      label: 'maintenance runs missed',
    });
  }

  /** Summary latency of answers from a cache (`true`) or from the rollups (`false`), by metric filter. */
  public summaryLatency(cached: boolean, options: Options = {}): cloudwatch.Metric {
    const name = cached ? DERIVED_METRICS.summaryLatencyCached : DERIVED_METRICS.summaryLatencyUncached;
    return this.custom(serviceName('summary'), name, { statistic: 'p99', ...options });
  }

  private custom(service: string, metricName: string, options: Options): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service, stage: this.stage },
      statistic: options.statistic ?? 'Sum',
      period: options.period ?? FIVE_MINUTES,
      ...(options.label ? { label: options.label } : {}),
    });
  }

  public method(endpoint: Endpoint): apigw.Method {
    return endpoint === 'ingest' ? this.props.ingestApi.postEvents : this.props.summaryApi.getSummary;
  }

  /**
   * An API Gateway per-method count (the stage has detailed metrics on), summed: `requests` (Count),
   * `5xx` (5XXError) or `4xx` (4XXError), labelled so unless told.
   */
  public apiSum(endpoint: Endpoint, which: ApiCount, options: Options = {}): cloudwatch.Metric {
    const method = this.method(endpoint);
    const stage = this.props.ingestApi.api.deploymentStage;
    const props = { statistic: 'Sum', period: options.period ?? FIVE_MINUTES, label: options.label ?? which };
    switch (which) {
      case 'requests':
        return method.metricCount(stage, props);
      case '5xx':
        return method.metricServerError(stage, props);
      case '4xx':
        return method.metricClientError(stage, props);
    }
  }

  public apiLatency(endpoint: Endpoint, options: Options = {}): cloudwatch.Metric {
    return this.method(endpoint).metricLatency(this.props.ingestApi.api.deploymentStage, {
      statistic: options.statistic ?? 'p99',
      period: options.period ?? FIVE_MINUTES,
      ...(options.label ? { label: options.label } : {}),
    });
  }

  /** API Gateway's own 429s (stage or route throttle) on a route, from the access log. */
  public gatewayThrottled(endpoint: Endpoint, options: Options = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: DERIVED_METRICS.gatewayThrottled,
      dimensionsMap: {
        apiId: this.props.ingestApi.api.restApiId,
        resourcePath: this.method(endpoint).resource.path,
      },
      statistic: 'Sum',
      period: options.period ?? FIVE_MINUTES,
      label: options.label ?? 'throttled by API Gateway',
    });
  }

  /**
   * The availability SLI's error ratio over one window: (5xx + API Gateway's own 429s) / requests.
   * A window with fewer than `burnRateMinRequests` requests reads 0 (not judged).
   */
  public errorRatio(endpoint: Endpoint, window: Duration): cloudwatch.MathExpression {
    const min = this.props.config.slo.burnRateMinRequests;
    // Ids unique per endpoint: a graph may show both endpoints' expressions.
    const [errors, throttled, requests] = ['Errors', 'Throttled', 'Requests'].map((n) => `${endpoint}${n}`);
    return new cloudwatch.MathExpression({
      expression: `IF(${requests} >= ${min}, (${errors} + FILL(${throttled}, 0)) / ${requests}, 0)`,
      usingMetrics: {
        [errors!]: this.apiSum(endpoint, '5xx', { period: window }),
        [throttled!]: this.gatewayThrottled(endpoint, { period: window }),
        [requests!]: this.apiSum(endpoint, 'requests', { period: window }),
      },
      period: window,
      label: `${endpoint} error ratio (${window.toHumanString()})`,
    });
  }

  public functionOf(fn: PipelineFunction): lambda.IFunction {
    const { ingestApi, writer, summaryApi } = this.props;
    switch (fn) {
      case 'ingest':
        return ingestApi.ingestFunction;
      case 'authorizer':
        return ingestApi.authorizerFunction;
      case 'writer':
        return writer.writerFunction;
      case 'summary':
        return summaryApi.summaryFunction;
    }
  }

  public lambda(
    fn: PipelineFunction,
    metricName: 'Errors' | 'Throttles' | 'ConcurrentExecutions',
    options: Options = {},
  ): cloudwatch.Metric {
    return this.functionOf(fn).metric(metricName, {
      statistic: options.statistic ?? (metricName === 'ConcurrentExecutions' ? 'Maximum' : 'Sum'),
      period: options.period ?? FIVE_MINUTES,
      label: options.label ?? `${fn} ${metricName}`,
    });
  }

  public accountConcurrency(): cloudwatch.Metric {
    return lambda.Function.metricAllConcurrentExecutions({
      statistic: 'Maximum',
      period: FIVE_MINUTES,
      label: 'account concurrency',
    });
  }

  public queueOldestMessageAge(options: Options = {}): cloudwatch.Metric {
    return this.props.eventQueue.queue.metricApproximateAgeOfOldestMessage({
      statistic: 'Maximum',
      period: options.period ?? ONE_MINUTE,
      label: options.label ?? 'oldest message age (s)',
    });
  }

  public queue(
    which: 'queue' | 'deadLetterQueue',
    metricName:
      | 'ApproximateNumberOfMessagesVisible'
      | 'ApproximateNumberOfMessagesNotVisible'
      | 'NumberOfMessagesSent'
      | 'NumberOfMessagesDeleted',
    options: Options = {},
  ): cloudwatch.Metric {
    const visible = metricName.startsWith('Approximate');
    return this.props.eventQueue[which].metric(metricName, {
      statistic: options.statistic ?? (visible ? 'Maximum' : 'Sum'),
      period: options.period ?? (visible ? ONE_MINUTE : FIVE_MINUTES),
      label: options.label ?? metricName,
    });
  }

  /** Firehose: DeliveryToS3.Success (Minimum), DeliveryToS3.DataFreshness (Maximum, s), ThrottledRecords... */
  public archive(
    metricName:
      | 'DeliveryToS3.Success'
      | 'DeliveryToS3.DataFreshness'
      | 'ThrottledRecords'
      | 'IncomingRecords'
      | 'IncomingBytes',
    options: Options = {},
  ): cloudwatch.Metric {
    const defaults: Record<string, string> = {
      'DeliveryToS3.Success': 'Minimum',
      'DeliveryToS3.DataFreshness': 'Maximum',
    };
    return this.props.archive.deliveryStream.metric(metricName, {
      statistic: options.statistic ?? defaults[metricName] ?? 'Sum',
      period: options.period ?? FIVE_MINUTES,
      label: options.label ?? metricName,
    });
  }

  /** Aurora's writer instance (cluster metrics by Role=WRITER): CPU, ACU utilization, connections. */
  public aurora(
    metricName: 'CPUUtilization' | 'ACUUtilization' | 'ServerlessDatabaseCapacity' | 'DatabaseConnections',
    options: Options = {},
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/RDS',
      metricName,
      dimensionsMap: { DBClusterIdentifier: this.props.eventStore.cluster.clusterIdentifier, Role: 'WRITER' },
      statistic: options.statistic ?? (metricName === 'DatabaseConnections' ? 'Maximum' : 'Average'),
      period: options.period ?? FIVE_MINUTES,
      label: options.label ?? metricName,
    });
  }

  /** RDS Proxy: client connections (Lambda side) and database connections (Aurora side). */
  public proxy(metricName: 'ClientConnections' | 'DatabaseConnections', options: Options = {}) {
    return new cloudwatch.Metric({
      namespace: 'AWS/RDS',
      metricName,
      dimensionsMap: { ProxyName: this.props.eventStore.proxy.dbProxyName },
      statistic: options.statistic ?? 'Maximum',
      period: options.period ?? FIVE_MINUTES,
      label: options.label ?? `proxy ${metricName}`,
    });
  }

  /** Read and write throttle events of each pipeline table. */
  public tableThrottles(): cloudwatch.Metric[] {
    const { tenants, rateLimits, ledger, summaryCache } = this.props.tables;
    const tables: Array<[string, dynamodb.ITable]> = [
      ['tenants', tenants],
      ['rate-limits', rateLimits],
      ['ledger', ledger],
      ['summary-cache', summaryCache],
    ];
    return tables.flatMap(([name, table]) =>
      (['ReadThrottleEvents', 'WriteThrottleEvents'] as const).map((metricName) =>
        table.metric(metricName, {
          statistic: 'Sum',
          period: FIVE_MINUTES,
          label: `${name} ${metricName.startsWith('Read') ? 'read' : 'write'} throttles`,
        }),
      ),
    );
  }
}
