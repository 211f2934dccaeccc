/**
 * One dashboard per stage, `firehose-<stage>`, laid out along the data path: alarm states on top,
 * then three bands read left to right, each a row of columns (one per component):
 *
 *   write path   API POST /events -> authorizer + ingest -> SQS queue + DLQ -> writer
 *   storage      Firehose -> S3 archive | Aurora | RDS Proxy and connections | DynamoDB and Lambda
 *   read path    API GET summary -> summary function -> freshness watermark -> availability SLIs
 *
 * Thresholds are drawn as horizontal lines from the same stage config the alarms use.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { connectionBudget } from '../../config/database';
import type { StageConfig } from '../../config/stage-config';
import type { Endpoint, PipelineMetrics } from './pipeline-metrics';

export interface PipelineDashboardProps {
  readonly config: StageConfig;
  readonly metrics: PipelineMetrics;
  /** Shown as a status grid at the top. */
  readonly alarms: readonly cloudwatch.IAlarm[];
}

/** Column titles, left to right per band (tests check the order). */
export const DASHBOARD_COLUMNS = [
  '1 · API POST /events',
  '2 · Authorizer and ingest',
  '3 · Event queue and DLQ',
  '4 · Writer',
  '5 · Archive: Firehose to S3',
  '6 · Aurora',
  '7 · Connections',
  '8 · DynamoDB and Lambda',
  '9 · API GET summary',
  '10 · Summary function',
  '11 · Summary degraded modes',
  '12 · Availability SLIs',
] as const;

const WIDTH = 6;
const HEIGHT = 6;

function line(value: number, label: string): cloudwatch.HorizontalAnnotation {
  return { value, label, color: cloudwatch.Color.RED };
}

function graph(
  title: string,
  left: cloudwatch.IMetric[],
  options: { annotations?: cloudwatch.HorizontalAnnotation[]; right?: cloudwatch.IMetric[] } = {},
): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({
    title,
    left,
    right: options.right ?? [],
    leftAnnotations: options.annotations ?? [],
    width: WIDTH,
    height: HEIGHT,
  });
}

function column(title: string, ...widgets: cloudwatch.IWidget[]): cloudwatch.Column {
  return new cloudwatch.Column(
    new cloudwatch.TextWidget({ markdown: `### ${title}`, width: WIDTH, height: 1 }),
    ...widgets,
  );
}

function band(markdown: string): cloudwatch.TextWidget {
  return new cloudwatch.TextWidget({ markdown, width: 4 * WIDTH, height: 1 });
}

export function pipelineDashboard(
  scope: Construct,
  id: string,
  props: PipelineDashboardProps,
): cloudwatch.Dashboard {
  const { config, metrics: m } = props;
  const { slo } = config;
  const t = config.observability.alarms;
  const title = (i: number) => DASHBOARD_COLUMNS[i]!;

  const api = (endpoint: Endpoint, latencySlo: number) => [
    graph('Requests', [
      m.apiSum(endpoint, 'requests'),
      m.apiSum(endpoint, '4xx'),
      m.apiSum(endpoint, '5xx'),
      m.gatewayThrottled(endpoint),
    ]),
    graph(
      'Latency (ms)',
      [m.apiLatency(endpoint, { statistic: 'p50', label: 'p50' }), m.apiLatency(endpoint, { label: 'p99' })],
      { annotations: [line(latencySlo, `p99 SLO ${latencySlo} ms`)] },
    ),
  ];

  const dashboard = new cloudwatch.Dashboard(scope, id, {
    dashboardName: `firehose-${config.stage}`,
    defaultInterval: Duration.hours(3),
  });

  dashboard.addWidgets(
    new cloudwatch.TextWidget({
      markdown:
        `# firehose ${config.stage}\n` +
        'The pipeline left to right. SLOs and alarm thresholds: docs/slo.md; what to do: docs/runbook.md.',
      width: 4 * WIDTH,
      height: 2,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.AlarmStatusWidget({
      title: 'Alarms',
      alarms: [...props.alarms],
      width: 4 * WIDTH,
      height: 4,
      sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
    }),
  );

  dashboard.addWidgets(band('## Write path: client → API → ingest → SQS → writer → Aurora'));
  dashboard.addWidgets(
    column(title(0), ...api('ingest', slo.ingestLatencyP99Ms)),
    column(
      title(1),
      graph(
        'Events',
        [
          m.handler('ingest', 'EventsAccepted'),
          m.handler('ingest', 'EventsRejected'),
          m.handler('ingest', 'Throttled', { label: 'requests refused by the limiter (429)' }),
        ],
        { right: [m.handler('ingest', 'BatchSize', { statistic: 'Average', label: 'events per request' })] },
      ),
      graph('Degraded modes', [
        m.handler('ingest', 'LimiterFailOpen'),
        m.handler('ingest', 'LedgerWriteErrors'),
        m.handler('authorizer', 'AuthorizerErrors'),
        m.handler('authorizer', 'AuthorizerDenied'),
      ]),
      graph(
        'Functions',
        [
          m.lambda('ingest', 'ConcurrentExecutions'),
          m.lambda('authorizer', 'ConcurrentExecutions'),
          m.lambda('ingest', 'Throttles'),
          m.lambda('ingest', 'Errors'),
        ],
        { right: [m.handler('ingest', 'EnqueueLatency', { statistic: 'p99', label: 'enqueue p99 (ms)' })] },
      ),
    ),
    column(
      title(2),
      graph('Messages', [
        m.queue('queue', 'NumberOfMessagesSent'),
        m.queue('queue', 'NumberOfMessagesDeleted'),
        m.queue('queue', 'ApproximateNumberOfMessagesVisible', { label: 'visible' }),
        m.queue('queue', 'ApproximateNumberOfMessagesNotVisible', { label: 'in flight' }),
      ]),
      graph('Oldest message (s)', [m.queueOldestMessageAge()], {
        annotations: [line(t.queueOldestMessageAgeSeconds, 'alarm')],
      }),
      graph(
        'Dead-letter queue',
        [m.queue('deadLetterQueue', 'ApproximateNumberOfMessagesVisible', { label: 'DLQ' })],
        {
          annotations: [line(t.deadLetterMessages, 'alarm')],
        },
      ),
    ),
    column(
      title(3),
      graph('Events', [
        m.handler('writer', 'EventsInserted'),
        m.handler('writer', 'DuplicatesSkipped'),
        m.handler('writer', 'EventsOutOfRange'),
      ]),
      graph('Failures', [
        m.handler('writer', 'FailedMessages'),
        m.handler('writer', 'MalformedMessages'),
        m.handler('writer', 'LedgerErrors'),
        m.lambda('writer', 'Errors'),
        m.lambda('writer', 'Throttles'),
      ]),
      graph(
        'Freshness and batches (ms)',
        [
          m.handler('writer', 'FreshnessLag', { statistic: 'p95', label: 'freshness lag p95' }),
          m.handler('writer', 'BatchLatency', { statistic: 'p99', label: 'batch p99' }),
        ],
        {
          annotations: [line(slo.freshnessP95Ms, `p95 SLO ${slo.freshnessP95Ms} ms`)],
          right: [m.lambda('writer', 'ConcurrentExecutions', { label: 'writers' })],
        },
      ),
    ),
  );

  const budget = connectionBudget(config);
  dashboard.addWidgets(band('## Storage: archive, database, tables'));
  dashboard.addWidgets(
    column(
      title(4),
      graph('Records', [m.archive('IncomingRecords'), m.archive('ThrottledRecords')], {
        right: [m.archive('IncomingBytes')],
      }),
      graph('Delivery success', [m.archive('DeliveryToS3.Success')], {
        annotations: [line(t.archiveDeliverySuccess, 'alarm below')],
      }),
      graph('Data freshness (s)', [m.archive('DeliveryToS3.DataFreshness')], {
        annotations: [line(t.archiveDataFreshnessSeconds, 'alarm')],
      }),
    ),
    column(
      title(5),
      graph('CPU (%)', [m.aurora('CPUUtilization')], { annotations: [line(t.auroraCpuPercent, 'alarm')] }),
      graph('Capacity', [m.aurora('ACUUtilization', { label: '% of max ACU' })], {
        annotations: [line(t.auroraCapacityPercent, 'alarm')],
        right: [m.aurora('ServerlessDatabaseCapacity', { label: 'ACU' })],
      }),
    ),
    column(
      title(6),
      graph(
        'Connections',
        [m.aurora('DatabaseConnections', { label: 'Aurora writer' }), m.proxy('DatabaseConnections')],
        {
          annotations: [
            line(t.auroraConnections, 'alarm'),
            {
              value: budget.proxyLimit + budget.direct,
              label: 'designed budget',
              color: cloudwatch.Color.GREEN,
            },
          ],
        },
      ),
      graph('Proxy clients', [m.proxy('ClientConnections')], {
        annotations: [
          {
            value: budget.writer + budget.summary,
            label: 'writer + summary cap',
            color: cloudwatch.Color.GREEN,
          },
        ],
      }),
    ),
    column(
      title(7),
      graph('DynamoDB throttles', m.tableThrottles()),
      graph('Lambda concurrency (account)', [m.accountConcurrency()]),
    ),
  );

  dashboard.addWidgets(band('## Read path: client → API → summary → cache or rollups'));
  dashboard.addWidgets(
    column(title(8), ...api('summary', slo.summaryLatencyP99Ms)),
    column(
      title(9),
      graph('Cache', [m.handler('summary', 'CacheHit'), m.handler('summary', 'CacheMiss')]),
      graph(
        'Function time p99 (ms)',
        [m.summaryLatency(true, { label: 'cached' }), m.summaryLatency(false, { label: 'uncached' })],
        {
          annotations: [
            line(slo.summaryCachedLatencyP99Ms, `cached SLO ${slo.summaryCachedLatencyP99Ms} ms`),
            line(slo.summaryUncachedLatencyP99Ms, `uncached SLO ${slo.summaryUncachedLatencyP99Ms} ms`),
          ],
        },
      ),
      graph('Function', [
        m.lambda('summary', 'ConcurrentExecutions'),
        m.lambda('summary', 'Throttles'),
        m.handler('summary', 'SummaryErrors'),
      ]),
    ),
    column(
      title(10),
      graph('Degraded modes', [
        m.handler('summary', 'WatermarkFallbacks'),
        m.handler('summary', 'CacheErrors'),
        m.handler('summary', 'TopUsersExtraAttempts'),
      ]),
    ),
    column(
      title(11),
      graph(
        'Error ratio, 1 h windows',
        [m.errorRatio('ingest', Duration.hours(1)), m.errorRatio('summary', Duration.hours(1))],
        {
          annotations: [
            line(1 - slo.availability, 'error budget (1x burn)'),
            ...slo.burnRateAlarms.map((tier) =>
              line(tier.burnRate * (1 - slo.availability), `${tier.name} burn ${tier.burnRate}x`),
            ),
          ],
        },
      ),
    ),
  );
  return dashboard;
}
