/**
 * The settings that carry design promises 5 and 6 (bounded database connections, poison messages to
 * the DLQ without blocking their batch, outages shorter than visibility x maxReceiveCount lose
 * nothing), and the deploy ordering of migrations, read from the synthesized templates.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_QUEUE_MESSAGE_BYTES } from '../../lambdas/core/queue-message';
import { connectionBudget, connectionBudgetHolds } from '../../lib/config/database';
import {
  MAX_INVOCATION_PAYLOAD_BYTES,
  outageToleranceSeconds,
  queueVisibilityTimeoutSeconds,
  type StageConfig,
  stageConfig,
} from '../../lib/config/stage-config';
import { FirehoseStage } from '../../lib/firehose-stage';
import { buildApp, type SynthesizedStage, stageTemplates } from './support/synth';
import { dependsOn, functionOf, mentions, only, resources } from './support/template-queries';

const STAGES = ['dev', 'staging', 'prod'] as const;
const DAY = 24 * 60 * 60;

describe.each(STAGES)('stage %s: queue, writer and migrations', (name) => {
  const config = stageConfig(name);
  let synthesized: SynthesizedStage;
  beforeAll(() => {
    synthesized = stageTemplates(name);
  });

  function queues() {
    const all = resources(synthesized.data, 'AWS::SQS::Queue');
    const source = all.find(([, q]) => q.Properties?.RedrivePolicy !== undefined);
    const deadLetter = all.find(([, q]) => q.Properties?.RedrivePolicy === undefined);
    if (!source || !deadLetter || all.length !== 2) throw new Error('Expected a source queue and its DLQ');
    return { source, deadLetter };
  }

  it('redrives to the DLQ after maxReceiveCount (at least 5) receives', () => {
    const { source, deadLetter } = queues();
    const redrive = source[1].Properties?.RedrivePolicy as {
      maxReceiveCount: number;
      deadLetterTargetArn: unknown;
    };
    expect(redrive.maxReceiveCount).toBe(config.queue.maxReceiveCount);
    expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(5);
    expect(redrive.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': [deadLetter[0], 'Arn'] });
  });

  it('keeps DLQ messages longer than the source queue keeps its own', () => {
    const { source, deadLetter } = queues();
    expect(source[1].Properties?.MessageRetentionPeriod).toBe(config.queue.retentionDays * DAY);
    expect(deadLetter[1].Properties?.MessageRetentionPeriod).toBe(config.queue.dlqRetentionDays * DAY);
    expect(Number(deadLetter[1].Properties?.MessageRetentionPeriod)).toBeGreaterThan(
      Number(source[1].Properties?.MessageRetentionPeriod),
    );
  });

  it('sets the visibility timeout to at least 6 x the writer timeout plus the batching window', () => {
    const { source } = queues();
    const [, writer] = functionOf(synthesized.service, 'writer');
    const [, mapping] = only(synthesized.service, 'AWS::Lambda::EventSourceMapping');
    const visibility = Number(source[1].Properties?.VisibilityTimeout);
    const minimum =
      6 * Number(writer.Properties?.Timeout) + Number(mapping.Properties?.MaximumBatchingWindowInSeconds);
    expect(visibility).toBeGreaterThanOrEqual(minimum);
    expect(visibility).toBe(queueVisibilityTimeoutSeconds(config));
  });

  it('loses nothing to an outage shorter than visibility x maxReceiveCount (promise 6)', () => {
    const { source } = queues();
    const visibility = Number(source[1].Properties?.VisibilityTimeout);
    const redrive = source[1].Properties?.RedrivePolicy as { maxReceiveCount: number };
    expect(visibility * redrive.maxReceiveCount).toBe(outageToleranceSeconds(config));
  });

  it('maps the queue to the writer with partial batch failures, bounded concurrency and batch size', () => {
    const [writerId] = functionOf(synthesized.service, 'writer');
    synthesized.service.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: writerId },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: config.writer.maxConcurrency },
      BatchSize: config.writer.batchSize,
      MaximumBatchingWindowInSeconds: Math.ceil(config.writer.batchingWindowSeconds),
      EventSourceArn: Match.anyValue(),
    });
    expect(config.writer.maxConcurrency).toBeGreaterThanOrEqual(2);
    expect(config.writer.maxConcurrency).toBeLessThanOrEqual(1000);
  });

  it('sizes writer batches of packed messages under the 6 MB invocation payload', () => {
    const [, mapping] = only(synthesized.service, 'AWS::Lambda::EventSourceMapping');
    expect(Number(mapping.Properties?.BatchSize) * MAX_QUEUE_MESSAGE_BYTES).toBeLessThanOrEqual(
      MAX_INVOCATION_PAYLOAD_BYTES,
    );
  });

  it('reserves the summary function concurrency (its connection bound)', () => {
    const [, summary] = functionOf(synthesized.service, 'summary');
    expect(summary.Properties?.ReservedConcurrentExecutions).toBe(config.summary.reservedConcurrency);
  });

  it("keeps the writer's and the summary's connections within the proxy's share of max_connections", () => {
    const budget = connectionBudget(config);
    expect(budget.writer + budget.summary).toBeLessThanOrEqual(budget.proxyLimit);
    expect(connectionBudgetHolds(config)).toBe(true);
    synthesized.data.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
      ConnectionPoolConfigurationInfo: Match.objectLike({
        MaxConnectionsPercent: config.database.proxyMaxConnectionsPercent,
      }),
    });
  });

  it('runs migrations on deploy through a Trigger on the current version of the migrate function', () => {
    const [migrateId] = functionOf(synthesized.service, 'migrate');
    const [, trigger] = only(synthesized.service, 'Custom::Trigger');
    const [versionId] = only(synthesized.service, 'AWS::Lambda::Version');
    expect(trigger.Properties).toMatchObject({
      HandlerArn: { Ref: versionId },
      InvocationType: 'RequestResponse',
      ExecuteOnHandlerChange: true,
    });
    synthesized.service.hasResourceProperties('AWS::Lambda::Version', { FunctionName: { Ref: migrateId } });
    expect(dependsOn(trigger)).toContain(migrateId);
  });

  it("creates the writer's event source mapping only after the migrations ran", () => {
    const [triggerId] = only(synthesized.service, 'Custom::Trigger');
    const [, mapping] = only(synthesized.service, 'AWS::Lambda::EventSourceMapping');
    expect(dependsOn(mapping)).toContain(triggerId);
  });

  it('deploys new writer, summary and maintenance code only after the migrations ran', () => {
    const [triggerId] = only(synthesized.service, 'Custom::Trigger');
    for (const handler of ['writer', 'summary'] as const) {
      const [, fn] = functionOf(synthesized.service, handler);
      expect(dependsOn(fn), handler).toContain(triggerId);
    }
    const [, rule] = only(synthesized.service, 'AWS::Events::Rule');
    expect(dependsOn(rule)).toContain(triggerId);
  });

  it('does not make the migrations wait for what they must precede (no cycle)', () => {
    const [, trigger] = only(synthesized.service, 'Custom::Trigger');
    const [writerId] = functionOf(synthesized.service, 'writer');
    const [mappingId] = only(synthesized.service, 'AWS::Lambda::EventSourceMapping');
    expect(mentions(trigger, writerId)).toBe(false);
    expect(mentions(trigger, mappingId)).toBe(false);
  });

  it('schedules partition maintenance at the configured interval', () => {
    const [maintenanceId] = functionOf(synthesized.service, 'partition-maintenance');
    const minutes = config.partitions.maintenanceIntervalMinutes;
    const expression =
      minutes % 60 === 0
        ? `rate(${minutes / 60} hour${minutes === 60 ? '' : 's'})`
        : `rate(${minutes} minutes)`;
    synthesized.service.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: expression,
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [maintenanceId, 'Arn'] } })],
    });
    // One failed run is one error for the missed-runs alarm: Lambda does not retry it.
    synthesized.service.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: maintenanceId },
      MaximumRetryAttempts: 0,
    });
  });
});

describe('writer settings AWS would refuse', () => {
  const dev = stageConfig('dev');
  const withWriter = (writer: Partial<StageConfig['writer']>): StageConfig => ({
    ...dev,
    writer: { ...dev.writer, ...writer },
  });
  const build = (config: StageConfig) => () => new FirehoseStage(buildApp(), 'firehose-dev', { config });

  it('refuses a batch of packed messages over the 6 MB invocation payload', () => {
    const batchSize = Math.floor(MAX_INVOCATION_PAYLOAD_BYTES / MAX_QUEUE_MESSAGE_BYTES) + 1;
    expect(build(withWriter({ batchSize }))).toThrow(/writer\.batchSize/);
  });

  it.each([1, 1001])('refuses maxConcurrency %i (the SQS event source takes 2-1000)', (maxConcurrency) => {
    expect(build(withWriter({ maxConcurrency }))).toThrow(/writer\.maxConcurrency/);
  });
});
