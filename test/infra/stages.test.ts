/**
 * What differs between stages (prod keeps its data, dev is disposable), what every stage publishes
 * for the ops CLI, and that synthesis never needs AWS.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_NAME, MASTER_USERNAME } from '../../lib/config/database';
import { DATA_OUTPUTS, SERVICE_OUTPUTS, stackNames } from '../../lib/config/stack-outputs';
import { stageConfig } from '../../lib/config/stage-config';
import { type SynthesizedStage, stageTemplates } from './support/synth';
import { resources } from './support/template-queries';

/** Resources whose deletion would lose data (or the key to read it). */
const STATEFUL_TYPES = [
  'AWS::DynamoDB::Table',
  'AWS::SQS::Queue',
  'AWS::S3::Bucket',
  'AWS::KMS::Key',
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBInstance',
];

describe('prod keeps its data', () => {
  let prod: SynthesizedStage;
  beforeAll(() => {
    prod = stageTemplates('prod');
  });

  it.each(STATEFUL_TYPES)('retains every %s on stack deletion and replacement', (type) => {
    const found = resources(prod.data, type);
    expect(found.length).toBeGreaterThan(0);
    for (const [id, r] of found) {
      expect(r.DeletionPolicy, id).toBe('Retain');
      expect(r.UpdateReplacePolicy, id).toBe('Retain');
    }
  });

  it('turns on deletion protection for the cluster and every table, and termination protection', () => {
    prod.data.hasResourceProperties('AWS::RDS::DBCluster', { DeletionProtection: true });
    prod.data.allResourcesProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
    expect(prod.stage.data.terminationProtection).toBe(true);
  });

  it('does not empty buckets on deletion', () => {
    prod.data.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  it('keeps every log group on deletion and replacement, but not after a failed first creation', () => {
    const groups = [prod.data, prod.service].flatMap((t) => resources(t, 'AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThan(0);
    for (const [id, group] of groups) {
      // A create rollback deletes it: a kept group (some have fixed names) would fail the retry.
      expect(group.DeletionPolicy, id).toBe('RetainExceptOnCreate');
      expect(group.UpdateReplacePolicy, id).toBe('Retain');
    }
  });

  it('keeps a failover reader in another AZ and backups for 35 days', () => {
    prod.data.resourceCountIs('AWS::RDS::DBInstance', 2);
    prod.data.hasResourceProperties('AWS::RDS::DBCluster', {
      BackupRetentionPeriod: stageConfig('prod').database.backupRetentionDays,
    });
  });
});

describe('dev is disposable', () => {
  let dev: SynthesizedStage;
  beforeAll(() => {
    dev = stageTemplates('dev');
  });

  it.each(STATEFUL_TYPES)('deletes every %s with the stack', (type) => {
    const found = resources(dev.data, type);
    expect(found.length).toBeGreaterThan(0);
    for (const [id, r] of found) {
      expect(r.DeletionPolicy, id).toBe('Delete');
    }
  });

  it('has no deletion or termination protection and empties its buckets', () => {
    dev.data.hasResourceProperties('AWS::RDS::DBCluster', { DeletionProtection: false });
    dev.data.allResourcesProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
    expect(dev.stage.data.terminationProtection).toBe(false);
    dev.data.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
  });

  it('runs a single writer instance', () => {
    dev.data.resourceCountIs('AWS::RDS::DBInstance', 1);
  });

  it('deletes every log group with the stack', () => {
    const groups = [dev.data, dev.service].flatMap((t) => resources(t, 'AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThan(0);
    for (const [id, group] of groups) expect(group.DeletionPolicy, id).toBe('Delete');
  });
});

describe.each(['dev', 'staging', 'prod'] as const)('stage %s', (name) => {
  const config = stageConfig(name);
  let s: SynthesizedStage;
  beforeAll(() => {
    s = stageTemplates(name);
  });

  it('deploys two stacks with stable names to the configured region', () => {
    const names = stackNames(name);
    expect(s.stage.data.stackName).toBe(names.data);
    expect(s.stage.service.stackName).toBe(names.service);
    expect(s.stage.data.region).toBe(config.env.region);
    expect(s.stage.service.dependencies).toContain(s.stage.data);
  });

  it('publishes every output the ops CLI reads, without exports', () => {
    for (const output of Object.values(DATA_OUTPUTS)) s.data.hasOutput(output, {});
    for (const output of Object.values(SERVICE_OUTPUTS)) s.service.hasOutput(output, {});
    const outputs = { ...s.data.toJSON().Outputs, ...s.service.toJSON().Outputs } as Record<
      string,
      { Export?: unknown }
    >;
    for (const name of [...Object.values(DATA_OUTPUTS), ...Object.values(SERVICE_OUTPUTS)]) {
      expect(outputs[name]?.Export, name).toBeUndefined();
    }
  });

  it('needs no context lookups (synth never asks AWS)', () => {
    expect(s.assembly.manifest.missing ?? []).toEqual([]);
  });

  it('runs Aurora PostgreSQL 17 Serverless v2 with the configured capacity', () => {
    s.data.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      EngineVersion: Match.stringLikeRegexp('^17\\.'),
      DatabaseName: DATABASE_NAME,
      MasterUsername: MASTER_USERNAME,
      ServerlessV2ScalingConfiguration: {
        MinCapacity: config.database.minCapacityAcu,
        MaxCapacity: config.database.maxCapacityAcu,
      },
    });
    s.data.allResourcesProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.serverless' });
  });

  it('defines the four tables with their keys, indexes and TTL attributes', () => {
    const tables = resources(s.data, 'AWS::DynamoDB::Table').map(([, t]) => t.Properties!);
    for (const table of tables) {
      expect(table.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
      expect(table.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
    const indexes = tables.flatMap((t) => (t.GlobalSecondaryIndexes ?? []) as Array<Record<string, unknown>>);
    expect(indexes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          IndexName: 'by-account',
          KeySchema: [
            { AttributeName: 'account_id', KeyType: 'HASH' },
            { AttributeName: 'pk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        }),
        expect.objectContaining({
          IndexName: 'pending',
          KeySchema: [
            { AttributeName: 'account_id', KeyType: 'HASH' },
            { AttributeName: 'pending_since', KeyType: 'RANGE' },
          ],
        }),
      ]),
    );
    const ttl = tables.filter((t) => t.TimeToLiveSpecification !== undefined);
    expect(ttl).toHaveLength(3);
    for (const table of ttl) {
      expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'expires_at', Enabled: true });
    }
  });

  it('archives GZIP NDJSON by arrival hour, tiers it and expires it per retention', () => {
    s.data.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        CompressionFormat: 'GZIP',
        Prefix: 'events/!{timestamp:yyyy/MM/dd/HH}/',
        ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/',
        BufferingHints: {
          IntervalInSeconds: config.archive.bufferIntervalSeconds,
          SizeInMBs: config.archive.bufferSizeMiB,
        },
      }),
    });
    s.data.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            ExpirationInDays: config.retention.archiveDays,
            Transitions: [
              {
                StorageClass: 'STANDARD_IA',
                TransitionInDays: config.retention.archiveInfrequentAccessAfterDays,
              },
            ],
          }),
        ],
      },
    });
  });
});
