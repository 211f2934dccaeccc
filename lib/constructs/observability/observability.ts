/**
 * What on-call sees of one stage, built from its SLOs (docs/slo.md): multi-window burn-rate alarms on
 * the availability of both endpoints, latency and freshness alarms, alarms on lost or delayed work
 * (DLQ, queue age, writer failures, archive delivery), on the limiter failing open and on Aurora; an
 * SNS topic (KMS, TLS only, optional e-mail) that every alarm notifies; and one dashboard laid out
 * along the data path. Every alarm is named `firehose-<stage>-<id>` and has a section `<id>` in
 * docs/runbook.md. Thresholds come from the stage config (`slo`, `observability.alarms`).
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../../lambdas/shared/observability';
import type { BurnRateAlarm, StageConfig } from '../../config/stage-config';
import { pipelineDashboard } from './pipeline-dashboard';
import {
  DERIVED_METRICS,
  type Endpoint,
  PipelineMetrics,
  type PipelineMetricsProps,
} from './pipeline-metrics';

export type ObservabilityProps = PipelineMetricsProps;

const { GREATER_THAN_THRESHOLD, GREATER_THAN_OR_EQUAL_TO_THRESHOLD, LESS_THAN_THRESHOLD } =
  cloudwatch.ComparisonOperator;

/** One alarm that notifies the topic: its metric, threshold and how many periods must breach. */
interface AlarmSpec {
  readonly id: string;
  readonly description: string;
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly comparison: cloudwatch.ComparisonOperator;
  /** Breaching periods needed, out of as many consecutive ones. */
  readonly periods: number;
}

/** `5m`, `30m`, `1h`, `6h`. */
function windowName(minutes: number): string {
  return minutes % 60 === 0 ? `${minutes / 60}h` : `${minutes}m`;
}

function alarmName(config: StageConfig, id: string): string {
  return `firehose-${config.stage}-${id}`;
}

export class Observability extends Construct {
  public readonly metrics: PipelineMetrics;
  /** Encrypts the alarm topic; CloudWatch may use it to publish. */
  public readonly alarmKey: kms.Key;
  public readonly alarmTopic: sns.Topic;
  /** Every alarm that notifies the topic, by id (`firehose-<stage>-<id>`). */
  public readonly alarms: ReadonlyMap<string, cloudwatch.AlarmBase>;
  /** The single-window inputs of the burn-rate composites, by id; they notify nobody themselves. */
  public readonly burnRateWindows: ReadonlyMap<string, cloudwatch.Alarm>;
  /** Metric filters that make SummaryLatencyCached/Uncached and GatewayThrottled from log lines. */
  public readonly metricFilters: readonly logs.MetricFilter[];
  public readonly dashboard: cloudwatch.Dashboard;

  private readonly config: StageConfig;
  private readonly notify: cloudwatch.IAlarmAction;
  private readonly alarmsById = new Map<string, cloudwatch.AlarmBase>();
  private readonly windowsById = new Map<string, cloudwatch.Alarm>();

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { config } = props;
    this.config = config;
    this.metrics = new PipelineMetrics(props);
    this.alarms = this.alarmsById;
    this.burnRateWindows = this.windowsById;

    ({ key: this.alarmKey, topic: this.alarmTopic } = this.createTopic());
    this.notify = new actions.SnsAction(this.alarmTopic);
    this.metricFilters = this.createMetricFilters(props);

    for (const endpoint of ['ingest', 'summary'] as const) {
      for (const tier of config.slo.burnRateAlarms) this.burnRateAlarm(endpoint, tier);
    }
    for (const spec of this.alarmSpecs()) this.alarm(spec);

    this.dashboard = pipelineDashboard(this, 'Dashboard', {
      config,
      metrics: this.metrics,
      alarms: [...this.alarmsById.values()],
    });
  }

  private createTopic(): { key: kms.Key; topic: sns.Topic } {
    const { config } = this;
    const stack = Stack.of(this);
    // CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key: a key of our own.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      alias: `firehose-${config.stage}/alarms`,
      description: 'Encrypts the alarm notification topic',
      enableKeyRotation: true,
      pendingWindow: Duration.days(7),
      // Holds no data at rest: notifications are transient.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    const topic = new sns.Topic(this, 'AlarmTopic', {
      topicName: `firehose-${config.stage}-alarms`,
      displayName: `firehose ${config.stage} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    // The topic has a policy of its own (TLS only), so CloudWatch needs an explicit allow: this
    // stage's alarms only.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: alarmName(config, '*'),
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    if (config.observability.alarmEmail) {
      topic.addSubscription(new subscriptions.EmailSubscription(config.observability.alarmEmail));
    }
    return { key, topic };
  }

  /**
   * Metrics no handler publishes as such: the summary's latency split by cache outcome (its EMF line
   * carries `CacheHit` or `CacheMiss` next to `SummaryLatency`), and API Gateway's own 429s.
   */
  private createMetricFilters(props: ObservabilityProps): logs.MetricFilter[] {
    const { summaryFunction } = props.summaryApi;
    const summaryLatency = (id: string, outcome: 'CacheHit' | 'CacheMiss', metricName: string) =>
      new logs.MetricFilter(this, id, {
        logGroup: summaryFunction.functionLogGroup,
        filterPattern: logs.FilterPattern.all(
          logs.FilterPattern.numberValue(`$.${outcome}`, '>=', 1),
          logs.FilterPattern.exists('$.SummaryLatency'),
        ),
        metricNamespace: METRICS_NAMESPACE,
        metricName,
        metricValue: '$.SummaryLatency',
        dimensions: { service: '$.service', stage: '$.stage' },
        unit: cloudwatch.Unit.MILLISECONDS,
      });
    return [
      summaryLatency('SummaryLatencyCachedFilter', 'CacheHit', DERIVED_METRICS.summaryLatencyCached),
      summaryLatency('SummaryLatencyUncachedFilter', 'CacheMiss', DERIVED_METRICS.summaryLatencyUncached),
      new logs.MetricFilter(this, 'GatewayThrottledFilter', {
        logGroup: props.ingestApi.accessLogGroup,
        filterPattern: logs.FilterPattern.stringValue('$.errorType', '=', 'THROTTLED'),
        metricNamespace: METRICS_NAMESPACE,
        metricName: DERIVED_METRICS.gatewayThrottled,
        metricValue: '1',
        dimensions: { apiId: '$.apiId', resourcePath: '$.resourcePath' },
        unit: cloudwatch.Unit.COUNT,
      }),
    ];
  }

  /**
   * One burn-rate tier of an endpoint: a composite that fires when both its long and its short window
   * burn the error budget faster than `burnRate` (the short one makes it reset quickly once fixed).
   */
  private burnRateAlarm(endpoint: Endpoint, tier: BurnRateAlarm): void {
    const { config } = this;
    const budget = 1 - config.slo.availability;
    const threshold = burnRateThreshold(config, tier);
    const tierId = `${endpoint}-availability-${tier.name}-burn`;
    const windows = [tier.longWindowMinutes, tier.shortWindowMinutes].map((minutes) => {
      const id = `${tierId}-${windowName(minutes)}`;
      const alarm = new cloudwatch.Alarm(this, `Window-${id}`, {
        alarmName: alarmName(config, id),
        alarmDescription:
          `${endpoint} error ratio over ${windowName(minutes)} above ${tier.burnRate} x the error budget ` +
          `(${threshold}); input of ${alarmName(config, tierId)}, notifies nobody itself.`,
        metric: this.metrics.errorRatio(endpoint, Duration.minutes(minutes)),
        threshold,
        comparisonOperator: GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.windowsById.set(id, alarm);
      return alarm;
    });
    const composite = new cloudwatch.CompositeAlarm(this, `Composite-${tierId}`, {
      compositeAlarmName: alarmName(config, tierId),
      alarmDescription:
        `${endpoint === 'ingest' ? 'POST /events' : 'GET /accounts/{id}/summary'} burns its ` +
        `${(budget * 100).toFixed(2)} % error budget at ${tier.burnRate}x or faster over ` +
        `${windowName(tier.longWindowMinutes)} and ${windowName(tier.shortWindowMinutes)}. ` +
        runbook(tierId),
      alarmRule: cloudwatch.AlarmRule.allOf(...windows),
    });
    this.register(tierId, composite);
  }

  private alarmSpecs(): AlarmSpec[] {
    const { slo, observability } = this.config;
    const t = observability.alarms;
    const m = this.metrics;
    return [
      {
        id: 'ingest-latency-p99',
        description: `POST /events p99 latency (API Gateway) above ${slo.ingestLatencyP99Ms} ms for 15 minutes.`,
        metric: m.apiLatency('ingest'),
        threshold: slo.ingestLatencyP99Ms,
        comparison: GREATER_THAN_THRESHOLD,
        periods: 3,
      },
      {
        id: 'summary-latency-p99',
        description: `GET summary p99 latency (API Gateway) above ${slo.summaryLatencyP99Ms} ms for 15 minutes.`,
        metric: m.apiLatency('summary'),
        threshold: slo.summaryLatencyP99Ms,
        comparison: GREATER_THAN_THRESHOLD,
        periods: 3,
      },
      {
        id: 'summary-cached-latency-p99',
        description: `Summaries from a cache: p99 function time above ${slo.summaryCachedLatencyP99Ms} ms for 15 minutes.`,
        metric: m.summaryLatency(true),
        threshold: slo.summaryCachedLatencyP99Ms,
        comparison: GREATER_THAN_THRESHOLD,
        periods: 3,
      },
      {
        id: 'summary-uncached-latency-p99',
        description: `Summaries from the rollups: p99 function time above ${slo.summaryUncachedLatencyP99Ms} ms for 15 minutes.`,
        metric: m.summaryLatency(false),
        threshold: slo.summaryUncachedLatencyP99Ms,
        comparison: GREATER_THAN_THRESHOLD,
        periods: 3,
      },
      {
        id: 'freshness-lag-p95',
        description: `Writer FreshnessLag p95 above ${slo.freshnessP95Ms} ms for 15 minutes: summaries lag behind ingest.`,
        metric: m.handler('writer', 'FreshnessLag', { statistic: 'p95' }),
        threshold: slo.freshnessP95Ms,
        comparison: GREATER_THAN_THRESHOLD,
        periods: 3,
      },
      {
        id: 'queue-oldest-message-age',
        description: `Oldest message in the event queue older than ${t.queueOldestMessageAgeSeconds} s for 3 minutes: the writer is not keeping up or not running.`,
        metric: m.queueOldestMessageAge(),
        threshold: t.queueOldestMessageAgeSeconds,
        comparison: GREATER_THAN_THRESHOLD,
        periods: 3,
      },
      {
        id: 'dlq-not-empty',
        description: `${t.deadLetterMessages} or more messages in the DLQ: accepted events that did not reach PostgreSQL.`,
        metric: m.queue('deadLetterQueue', 'ApproximateNumberOfMessagesVisible'),
        threshold: t.deadLetterMessages,
        comparison: GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        periods: 1,
      },
      {
        id: 'writer-errors',
        description: `Writer invocation errors (crash, timeout) in two 5-minute periods in a row: whole batches are retried.`,
        metric: m.lambda('writer', 'Errors'),
        threshold: t.writerErrors,
        comparison: GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        periods: 2,
      },
      {
        id: 'writer-failed-messages',
        description: `${t.writerFailedMessages}+ messages per 5 minutes reported failed by the writer for 10 minutes (database down or poison messages).`,
        metric: m.handler('writer', 'FailedMessages'),
        threshold: t.writerFailedMessages,
        comparison: GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        periods: 2,
      },
      {
        id: 'writer-throttles',
        description: 'Lambda throttled the writer: the account or Region concurrency is exhausted.',
        metric: m.lambda('writer', 'Throttles'),
        threshold: t.writerThrottles,
        comparison: GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        periods: 1,
      },
      {
        id: 'archive-delivery-failures',
        description: `Firehose deliveries to S3 below ${t.archiveDeliverySuccess * 100} % success for 15 minutes.`,
        metric: m.archive('DeliveryToS3.Success'),
        threshold: t.archiveDeliverySuccess,
        comparison: LESS_THAN_THRESHOLD,
        periods: 3,
      },
      {
        id: 'archive-data-freshness',
        description: `Oldest record in Firehose older than ${t.archiveDataFreshnessSeconds} s: the archive is not being written.`,
        metric: m.archive('DeliveryToS3.DataFreshness'),
        threshold: t.archiveDataFreshnessSeconds,
        comparison: GREATER_THAN_THRESHOLD,
        periods: 1,
      },
      {
        id: 'archive-throttled-records',
        description:
          'Firehose throttled records: the stream is at a quota, ingest answers 503 when its retries run out.',
        metric: m.archive('ThrottledRecords'),
        threshold: t.archiveThrottledRecords,
        comparison: GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        periods: 1,
      },
      {
        id: 'limiter-fail-open',
        description:
          'Ingest admitted requests without the per-account limiter (rate-limits table unreachable).',
        metric: m.handler('ingest', 'LimiterFailOpen'),
        threshold: t.limiterFailOpen,
        comparison: GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        periods: 1,
      },
      {
        id: 'ingest-ledger-errors',
        description: 'Ingest could not record in-flight messages in the ledger: as_of may run ahead of them.',
        metric: m.handler('ingest', 'LedgerWriteErrors'),
        threshold: t.ledgerWriteErrors,
        comparison: GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        periods: 1,
      },
      {
        id: 'partition-maintenance-missed',
        description: `${t.maintenanceRunsMissed} or more partition maintenance runs failed or found the previous one still running in 3 hours: days are neither created ahead nor dropped.`,
        metric: m.maintenanceMissed(Duration.hours(3)),
        threshold: t.maintenanceRunsMissed,
        comparison: GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        periods: 1,
      },
      {
        id: 'aurora-cpu',
        description: `Aurora writer CPU above ${t.auroraCpuPercent} % for 15 minutes.`,
        metric: m.aurora('CPUUtilization'),
        threshold: t.auroraCpuPercent,
        comparison: GREATER_THAN_THRESHOLD,
        periods: 3,
      },
      {
        id: 'aurora-capacity',
        description: `Aurora writer above ${t.auroraCapacityPercent} % of its maximum ACUs for 15 minutes.`,
        metric: m.aurora('ACUUtilization'),
        threshold: t.auroraCapacityPercent,
        comparison: GREATER_THAN_THRESHOLD,
        periods: 3,
      },
      {
        id: 'aurora-connections',
        description: `More than ${t.auroraConnections} connections on the Aurora writer for 10 minutes: beyond the designed budget.`,
        metric: m.aurora('DatabaseConnections'),
        threshold: t.auroraConnections,
        comparison: GREATER_THAN_THRESHOLD,
        periods: 2,
      },
    ];
  }

  private alarm(spec: AlarmSpec): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, `Alarm-${spec.id}`, {
      alarmName: alarmName(this.config, spec.id),
      alarmDescription: `${spec.description} ${runbook(spec.id)}`,
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: spec.comparison,
      evaluationPeriods: spec.periods,
      datapointsToAlarm: spec.periods,
      // No traffic is not an incident; a stalled pipeline shows up in the queue age and the DLQ.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.register(spec.id, alarm);
    return alarm;
  }

  private register(id: string, alarm: cloudwatch.AlarmBase): void {
    if (this.alarmsById.has(id)) throw new Error(`Duplicate alarm ${id}`);
    alarm.addAlarmAction(this.notify);
    alarm.addOkAction(this.notify);
    this.alarmsById.set(id, alarm);
  }
}

/** The error ratio a window must exceed: burn rate x error budget (rounded: 14.4 x 0.001 = 0.0144). */
function burnRateThreshold(config: StageConfig, tier: BurnRateAlarm): number {
  return Number((tier.burnRate * (1 - config.slo.availability)).toPrecision(6));
}

function runbook(id: string): string {
  return `Runbook: docs/runbook.md#${id}`;
}
