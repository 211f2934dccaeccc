/**
 * Issue 7: every alarm of docs/slo.md exists in every stage, with its threshold from the stage config
 * and an action (or, for burn-rate windows, none: their composite notifies); the alarm topic is
 * encrypted and reachable by CloudWatch; the dashboard follows the data path; the metric names the
 * alarms use are the ones the handlers publish; and docs/runbook.md has a section per alarm.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createObservability, METRICS_NAMESPACE } from '../../lambdas/shared/observability';
import { connectionBudget } from '../../lib/config/database';
import {
  type BurnRateAlarm,
  queueVisibilityTimeoutSeconds,
  type StageConfig,
  stageConfig,
} from '../../lib/config/stage-config';
import { PROJECT_ROOT } from '../../lib/constructs/firehose-function';
import { DASHBOARD_COLUMNS } from '../../lib/constructs/observability/pipeline-dashboard';
import { DERIVED_METRICS, HANDLER_METRICS } from '../../lib/constructs/observability/pipeline-metrics';
import { FirehoseStage } from '../../lib/firehose-stage';
import { buildApp, type SynthesizedStage, stageTemplates } from './support/synth';
import { type CfnResource, only, resources } from './support/template-queries';

const STAGES = ['dev', 'staging', 'prod'] as const;

function readDoc(name: string): string {
  return readFileSync(join(PROJECT_ROOT, 'docs', name), 'utf8');
}

/** Alarm ids in the tables of docs/slo.md's "Alarms" section, by table ("notify" or "windows"). */
function documentedAlarms(): { notify: string[]; windows: string[]; windowColumn: Map<string, string> } {
  const section = readDoc('slo.md').split('\n## Alarms')[1]!.split('\n## ')[0]!;
  const notify: string[] = [];
  const windows: string[] = [];
  const windowColumn = new Map<string, string>();
  let target = notify;
  for (const line of section.split('\n')) {
    if (line.startsWith('### ')) target = /burn-rate windows/i.test(line) ? windows : notify;
    const match = /^\| `firehose-<stage>-([a-z0-9-]+)` \|/.exec(line);
    if (!match) continue;
    target.push(match[1]!);
    windowColumn.set(match[1]!, line.split('|').at(-2)!.trim());
  }
  return { notify, windows, windowColumn };
}

/** The period (seconds) of a metric alarm, whether it has a plain metric or a metrics array. */
function periodOf(alarm: CfnResource): number {
  const p = alarm.Properties!;
  if (p.Period !== undefined) return Number(p.Period);
  const metrics = p.Metrics as Array<{ MetricStat?: { Period: number } }>;
  return metrics.find((m) => m.MetricStat)!.MetricStat!.Period;
}

const budget = (c: StageConfig) => 1 - c.slo.availability;
const tier = (c: StageConfig, name: string): BurnRateAlarm =>
  c.slo.burnRateAlarms.find((t) => t.name === name)!;

/** The threshold each notifying metric alarm must carry, from the stage config (independently of the construct). */
const METRIC_ALARM_THRESHOLDS: Record<string, (c: StageConfig) => number> = {
  'ingest-latency-p99': (c) => c.slo.ingestLatencyP99Ms,
  'summary-latency-p99': (c) => c.slo.summaryLatencyP99Ms,
  'summary-cached-latency-p99': (c) => c.slo.summaryCachedLatencyP99Ms,
  'summary-uncached-latency-p99': (c) => c.slo.summaryUncachedLatencyP99Ms,
  'freshness-lag-p95': (c) => c.slo.freshnessP95Ms,
  'queue-oldest-message-age': (c) => c.observability.alarms.queueOldestMessageAgeSeconds,
  'dlq-not-empty': (c) => c.observability.alarms.deadLetterMessages,
  'writer-errors': (c) => c.observability.alarms.writerErrors,
  'writer-failed-messages': (c) => c.observability.alarms.writerFailedMessages,
  'writer-throttles': (c) => c.observability.alarms.writerThrottles,
  'archive-delivery-failures': (c) => c.observability.alarms.archiveDeliverySuccess,
  'archive-data-freshness': (c) => c.observability.alarms.archiveDataFreshnessSeconds,
  'archive-throttled-records': (c) => c.observability.alarms.archiveThrottledRecords,
  'limiter-fail-open': (c) => c.observability.alarms.limiterFailOpen,
  'ingest-ledger-errors': (c) => c.observability.alarms.ledgerWriteErrors,
  'aurora-cpu': (c) => c.observability.alarms.auroraCpuPercent,
  'aurora-capacity': (c) => c.observability.alarms.auroraCapacityPercent,
  'aurora-connections': (c) => c.observability.alarms.auroraConnections,
};

/** The metric (namespace/name) behind each notifying metric alarm, as docs/slo.md names it. */
const METRIC_OF: Record<string, string> = {
  'ingest-latency-p99': 'AWS/ApiGateway/Latency',
  'summary-latency-p99': 'AWS/ApiGateway/Latency',
  'summary-cached-latency-p99': 'Firehose/SummaryLatencyCached',
  'summary-uncached-latency-p99': 'Firehose/SummaryLatencyUncached',
  'freshness-lag-p95': 'Firehose/FreshnessLag',
  'queue-oldest-message-age': 'AWS/SQS/ApproximateAgeOfOldestMessage',
  'dlq-not-empty': 'AWS/SQS/ApproximateNumberOfMessagesVisible',
  'writer-errors': 'AWS/Lambda/Errors',
  'writer-failed-messages': 'Firehose/FailedMessages',
  'writer-throttles': 'AWS/Lambda/Throttles',
  'archive-delivery-failures': 'AWS/Firehose/DeliveryToS3.Success',
  'archive-data-freshness': 'AWS/Firehose/DeliveryToS3.DataFreshness',
  'archive-throttled-records': 'AWS/Firehose/ThrottledRecords',
  'limiter-fail-open': 'Firehose/LimiterFailOpen',
  'ingest-ledger-errors': 'Firehose/LedgerWriteErrors',
  'aurora-cpu': 'AWS/RDS/CPUUtilization',
  'aurora-capacity': 'AWS/RDS/ACUUtilization',
  'aurora-connections': 'AWS/RDS/DatabaseConnections',
};

const COMPOSITES = [
  'ingest-availability-fast-burn',
  'ingest-availability-slow-burn',
  'summary-availability-fast-burn',
  'summary-availability-slow-burn',
];

function metricOf(alarm: CfnResource): string {
  const p = alarm.Properties!;
  if (p.MetricName) return `${p.Namespace}/${p.MetricName}`;
  const returned = (p.Metrics as Array<Record<string, unknown>>).find((m) => m.ReturnData !== false)!;
  const stat = returned.MetricStat as { Metric: { Namespace: string; MetricName: string } } | undefined;
  return stat ? `${stat.Metric.Namespace}/${stat.Metric.MetricName}` : String(returned.Expression);
}

describe.each(STAGES)('stage %s: observability', (name) => {
  const config = stageConfig(name);
  let s: SynthesizedStage;
  let topicId: string;
  const byName = new Map<string, CfnResource>();
  const alarm = (id: string) => {
    const found = byName.get(`firehose-${name}-${id}`);
    if (!found) throw new Error(`No alarm firehose-${name}-${id}`);
    return found;
  };
  beforeAll(() => {
    s = stageTemplates(name);
    [topicId] = only(s.service, 'AWS::SNS::Topic');
    for (const [, r] of resources(s.service, 'AWS::CloudWatch::Alarm'))
      byName.set(String(r.Properties?.AlarmName), r);
    for (const [, r] of resources(s.service, 'AWS::CloudWatch::CompositeAlarm'))
      byName.set(String(r.Properties?.AlarmName), r);
  });

  describe('alarms of docs/slo.md', () => {
    const documented = documentedAlarms();

    it('documents exactly the alarms the stage has', () => {
      const all = [...documented.notify, ...documented.windows].map((id) => `firehose-${name}-${id}`);
      expect(new Set(all).size).toBe(all.length);
      expect([...byName.keys()].sort()).toEqual(all.sort());
    });

    it.each(documented.notify)('%s notifies the alarm topic on ALARM and on OK', (id) => {
      const found = alarm(id);
      expect(found.Properties?.AlarmActions, id).toEqual([{ Ref: topicId }]);
      expect(found.Properties?.OKActions, id).toEqual([{ Ref: topicId }]);
      expect(String(found.Properties?.AlarmDescription)).toContain(`docs/runbook.md#${id}`);
    });

    it.each(Object.entries(METRIC_ALARM_THRESHOLDS))(
      '%s takes its threshold from the stage config',
      (id, of) => {
        expect(documented.notify).toContain(id);
        const found = alarm(id);
        expect(found.Type).toBe('AWS::CloudWatch::Alarm');
        expect(found.Properties?.Threshold).toBe(of(config));
        expect(metricOf(found)).toBe(METRIC_OF[id]);
      },
    );

    it.each(Object.keys(METRIC_ALARM_THRESHOLDS))('%s evaluates the windows docs/slo.md gives', (id) => {
      const column = documented.windowColumn.get(id)!;
      const match = /^(\d+) min, (\d+) of (\d+)$/.exec(column);
      expect(match, `${id}: "${column}"`).not.toBeNull();
      const found = alarm(id);
      expect(periodOf(found)).toBe(Number(match![1]) * 60);
      expect(found.Properties?.DatapointsToAlarm).toBe(Number(match![2]));
      expect(found.Properties?.EvaluationPeriods).toBe(Number(match![3]));
    });

    it('has a composite per endpoint and burn-rate tier, ANDing its long and short window', () => {
      expect(COMPOSITES.every((id) => documented.notify.includes(id))).toBe(true);
      for (const id of COMPOSITES) {
        const composite = alarm(id);
        expect(composite.Type).toBe('AWS::CloudWatch::CompositeAlarm');
        const [endpoint, , tierName] = id.split('-');
        const { longWindowMinutes, shortWindowMinutes } = tier(config, tierName!);
        const rule = JSON.stringify(composite.Properties?.AlarmRule);
        expect(rule).toContain(') AND ALARM(');
        const windows = [longWindowMinutes, shortWindowMinutes].map((m) => (m % 60 ? `${m}m` : `${m / 60}h`));
        for (const window of windows) {
          const inputId = `${endpoint}-availability-${tierName}-burn-${window}`;
          expect(documented.windows).toContain(inputId);
          const logicalId = resources(s.service, 'AWS::CloudWatch::Alarm').find(
            ([, r]) => r.Properties?.AlarmName === `firehose-${name}-${inputId}`,
          )![0];
          expect(rule, inputId).toContain(logicalId);
        }
      }
    });

    it.each(documented.windows)('%s: burn rate x error budget on the error ratio, no actions', (id) => {
      const found = alarm(id);
      const tierName = id.includes('-fast-') ? 'fast' : 'slow';
      const { burnRate, longWindowMinutes, shortWindowMinutes } = tier(config, tierName);
      expect(found.Properties?.Threshold).toBeCloseTo(burnRate * budget(config), 12);
      expect(found.Properties?.ComparisonOperator).toBe('GreaterThanThreshold');
      expect(found.Properties?.AlarmActions).toBeUndefined();
      expect(found.Properties?.OKActions).toBeUndefined();
      const metrics = found.Properties?.Metrics as Array<{
        Expression?: string;
        MetricStat?: {
          Metric: { MetricName: string; Dimensions: Array<{ Name: string; Value: unknown }> };
          Period: number;
        };
      }>;
      const expression = metrics.find((m) => m.Expression)!.Expression!;
      expect(expression).toMatch(new RegExp(`>= ${config.slo.burnRateMinRequests},`));
      const window =
        (id.endsWith('h') ? 60 * Number(id.match(/(\d+)h$/)![1]) : Number(id.match(/(\d+)m$/)![1])) * 60;
      expect([longWindowMinutes * 60, shortWindowMinutes * 60]).toContain(window);
      const stats = metrics.filter((m) => m.MetricStat).map((m) => m.MetricStat!);
      expect(stats.map((m) => m.Metric.MetricName).sort()).toEqual(['5XXError', 'Count', 'GatewayThrottled']);
      for (const stat of stats) expect(stat.Period, id).toBe(window);
      const resource = id.startsWith('ingest') ? '/events' : '/accounts/{id}/summary';
      for (const stat of stats) expect(JSON.stringify(stat.Metric.Dimensions)).toContain(`"${resource}"`);
    });
  });

  it('publishes per-method API Gateway metrics (detailed metrics on the stage), which the SLIs read', () => {
    const [, stage] = only(s.service, 'AWS::ApiGateway::Stage');
    const settings = stage.Properties?.MethodSettings as Array<Record<string, unknown>>;
    expect(settings.find((m) => m.ResourcePath === '/*' && m.HttpMethod === '*')?.MetricsEnabled).toBe(true);
    for (const setting of settings) expect(setting.MetricsEnabled, String(setting.ResourcePath)).toBe(true);
  });

  it('encrypts the alarm topic with a rotating key CloudWatch may use, and refuses plain HTTP', () => {
    const [keyId, key] = only(s.service, 'AWS::KMS::Key');
    expect(key.Properties?.EnableKeyRotation).toBe(true);
    const [, topic] = only(s.service, 'AWS::SNS::Topic');
    expect(topic.Properties?.TopicName).toBe(`firehose-${name}-alarms`);
    expect(topic.Properties?.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    const keyStatements = (key.Properties!.KeyPolicy as { Statement: Array<Record<string, unknown>> })
      .Statement;
    expect(keyStatements).toContainEqual(
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      }),
    );
    const [, policy] = only(s.service, 'AWS::SNS::TopicPolicy');
    const statements = (policy.Properties!.PolicyDocument as { Statement: Array<Record<string, unknown>> })
      .Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    const publish = statements.find((st) =>
      JSON.stringify(st.Principal).includes('cloudwatch.amazonaws.com'),
    )!;
    expect(publish.Effect).toBe('Allow');
    expect(JSON.stringify(publish.Condition)).toContain(`:alarm:firehose-${name}-*`);
  });

  it('subscribes no e-mail address unless the stage config names one', () => {
    expect(config.observability.alarmEmail).toBeUndefined();
    s.service.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('makes the cached/uncached summary latency and API Gateway 429 metrics from log lines', () => {
    const filters = resources(s.service, 'AWS::Logs::MetricFilter').map(([, f]) => f.Properties!);
    const byMetric = new Map(
      filters.map((f) => {
        const [transformation] = f.MetricTransformations as Array<Record<string, unknown>>;
        return [String(transformation!.MetricName), { filter: f, transformation: transformation! }];
      }),
    );
    expect([...byMetric.keys()].sort()).toEqual(Object.values(DERIVED_METRICS).sort());
    for (const [metric, outcome] of [
      [DERIVED_METRICS.summaryLatencyCached, 'CacheHit'],
      [DERIVED_METRICS.summaryLatencyUncached, 'CacheMiss'],
    ] as const) {
      const { filter, transformation } = byMetric.get(metric)!;
      expect(filter.FilterPattern).toContain(`$.${outcome}`);
      expect(transformation).toMatchObject({
        MetricNamespace: METRICS_NAMESPACE,
        MetricValue: '$.SummaryLatency',
        Dimensions: expect.arrayContaining([
          { Key: 'service', Value: '$.service' },
          { Key: 'stage', Value: '$.stage' },
        ]),
      });
      expect(JSON.stringify(filter.LogGroupName)).toContain('SummaryFunction');
    }
    const throttled = byMetric.get(DERIVED_METRICS.gatewayThrottled)!;
    expect(throttled.filter.FilterPattern).toBe('{ $.errorType = "THROTTLED" }');
    expect(JSON.stringify(throttled.filter.LogGroupName)).toContain('AccessLogs');
    // The access log carries the fields the filter reads.
    const [, stage] = only(s.service, 'AWS::ApiGateway::Stage');
    const format = JSON.parse((stage.Properties!.AccessLogSetting as { Format: string }).Format);
    expect(format).toMatchObject({
      errorType: '$context.error.responseType',
      apiId: '$context.apiId',
      resourcePath: '$context.resourcePath',
    });
  });

  it('has one dashboard, firehose-<stage>, with every notifying alarm and the data path left to right', () => {
    const [, dashboard] = only(s.service, 'AWS::CloudWatch::Dashboard');
    expect(dashboard.Properties?.DashboardName).toBe(`firehose-${name}`);
    const body = JSON.stringify(dashboard.Properties?.DashboardBody);
    const positions = DASHBOARD_COLUMNS.map((title) => body.indexOf(title));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    for (const id of documentedAlarms().notify) {
      const [logicalId] = [
        ...resources(s.service, 'AWS::CloudWatch::Alarm'),
        ...resources(s.service, 'AWS::CloudWatch::CompositeAlarm'),
      ].find(([, r]) => r.Properties?.AlarmName === `firehose-${name}-${id}`)!;
      expect(body, id).toContain(logicalId);
    }
  });

  it('keeps the operational thresholds consistent with the settings they watch', () => {
    const t = config.observability.alarms;
    // One poison message holds ApproximateAgeOfOldestMessage for at most ~3 x visibility.
    expect(t.queueOldestMessageAgeSeconds).toBeGreaterThan(3 * queueVisibilityTimeoutSeconds(config));
    expect(t.archiveDataFreshnessSeconds).toBeGreaterThan(config.archive.bufferIntervalSeconds);
    const connections = connectionBudget(config);
    expect(t.auroraConnections).toBeGreaterThan(connections.proxyLimit + connections.direct);
    expect(t.auroraConnections).toBeLessThan(189);
    expect(t.archiveDeliverySuccess).toBeLessThanOrEqual(1);
    for (const burn of config.slo.burnRateAlarms) {
      expect(burn.shortWindowMinutes).toBeLessThan(burn.longWindowMinutes);
      expect(burn.burnRate * budget(config)).toBeLessThan(1);
    }
  });
});

describe('alarm e-mail', () => {
  it('subscribes observability.alarmEmail to the alarm topic when set', () => {
    const app: App = buildApp();
    const base = stageConfig('dev');
    const config: StageConfig = {
      ...base,
      observability: { ...base.observability, alarmEmail: 'oncall@example.com' },
    };
    const stage = new FirehoseStage(app, 'firehose-dev', { config });
    const template = Template.fromStack(stage.service);
    const [topicId] = only(template, 'AWS::SNS::Topic');
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: topicId },
    });
  });
});

describe('metric names', () => {
  it('reads the namespace and dimensions the handlers publish in', () => {
    // What the writer's EMF line carries, as Powertools writes it.
    const { metrics } = createObservability('writer', { STAGE: 'dev' });
    metrics.addMetric('FreshnessLag', MetricUnit.Milliseconds, 1);
    const emf = metrics.serializeMetrics() as unknown as {
      _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> };
    } & Record<string, unknown>;
    const [published] = emf._aws.CloudWatchMetrics;
    const dimensions = published!.Dimensions.flat().map((name) => ({ Name: name, Value: emf[name] }));
    expect(dimensions.map((d) => d.Name).sort()).toEqual(['service', 'stage']);
    // What the alarm on it reads.
    const [, freshness] = resources(stageTemplates('dev').service, 'AWS::CloudWatch::Alarm').find(
      ([, r]) => r.Properties?.AlarmName === 'firehose-dev-freshness-lag-p95',
    )!;
    expect(freshness.Properties?.Namespace).toBe(published!.Namespace);
    expect(freshness.Properties?.MetricName).toBe('FreshnessLag');
    expect(new Set(freshness.Properties?.Dimensions as unknown[])).toEqual(new Set(dimensions));
  });

  it.each(Object.entries(HANDLER_METRICS).filter(([, names]) => names.length > 0))(
    'finds every %s metric the alarms and dashboard use in its handler',
    (handler, names) => {
      const source = readFileSync(join(PROJECT_ROOT, 'lambdas', 'handlers', `${handler}.ts`), 'utf8');
      for (const metric of names) expect(source, metric).toContain(`'${metric}'`);
    },
  );

  it('names in docs/slo.md every custom metric the alarms read', () => {
    const slo = readDoc('slo.md');
    for (const metric of [...Object.values(METRIC_OF), ...Object.values(DERIVED_METRICS)]) {
      expect(slo, metric).toContain(metric.replace(/^AWS\/[A-Za-z]+\//, ''));
    }
  });
});

describe('docs/runbook.md', () => {
  it('has a section for every alarm that notifies, and only those', () => {
    const sections = [...readDoc('runbook.md').matchAll(/^## ([a-z0-9-]+)$/gm)].map((m) => m[1]!);
    expect(sections.sort()).toEqual([...documentedAlarms().notify].sort());
  });

  it('queries only custom metrics a handler or a metric filter publishes', () => {
    const pattern = new RegExp(`--namespace ${METRICS_NAMESPACE} --metric-name (\\w+)`, 'g');
    const queried = [...readDoc('runbook.md').matchAll(pattern)].map((m) => m[1]!);
    expect(queried.length).toBeGreaterThan(0);
    const published = new Set<string>([
      ...Object.values(HANDLER_METRICS).flat(),
      ...Object.values(DERIVED_METRICS),
    ]);
    for (const metric of queried) expect(published.has(metric), metric).toBe(true);
  });
});
