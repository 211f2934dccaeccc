/**
 * Everything that holds data or must outlive a redeploy of the code: keys, network, DynamoDB tables,
 * the event queue and its DLQ, the archive (bucket and its Firehose stream: the stream buffers up to
 * a few minutes of events, so it is not recreated with the functions) and the event store.
 */
import { CfnOutput, Duration, Size, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import {
  DATABASE_NAME,
  DATABASE_PORT,
  MASTER_USERNAME,
  READER_DB_USER,
  WRITER_DB_USER,
} from '../config/database';
import { DATA_OUTPUTS } from '../config/stack-outputs';
import { queueVisibilityTimeoutSeconds, type StageConfig } from '../config/stage-config';
import { Archive } from '../constructs/archive';
import { EncryptionKeys } from '../constructs/encryption-keys';
import { EventQueue } from '../constructs/event-queue';
import { EventStore } from '../constructs/event-store';
import { Network } from '../constructs/network';
import { PipelineTables } from '../constructs/pipeline-tables';

export interface StatefulStackProps extends StackProps {
  readonly config: StageConfig;
}

export class StatefulStack extends Stack {
  public readonly keys: EncryptionKeys;
  public readonly network: Network;
  public readonly tables: PipelineTables;
  public readonly eventQueue: EventQueue;
  public readonly archive: Archive;
  public readonly eventStore: EventStore;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { config } = props;
    const retain = config.retainData;
    const day = (days: number) => Duration.days(days);

    this.keys = new EncryptionKeys(this, 'Keys', { aliasPrefix: `firehose-${config.stage}`, retain });

    this.network = new Network(this, 'Network', {
      logRetentionDays: config.observability.logRetentionDays,
      retain,
    });

    this.tables = new PipelineTables(this, 'Tables', { retain });

    this.eventQueue = new EventQueue(this, 'EventQueue', {
      encryptionKey: this.keys.queueKey,
      visibilityTimeout: Duration.seconds(queueVisibilityTimeoutSeconds(config)),
      retentionPeriod: day(config.queue.retentionDays),
      deadLetterRetentionPeriod: day(config.queue.dlqRetentionDays),
      maxReceiveCount: config.queue.maxReceiveCount,
      retain,
    });

    this.archive = new Archive(this, 'Archive', {
      encryptionKey: this.keys.dataKey,
      bufferInterval: Duration.seconds(config.archive.bufferIntervalSeconds),
      bufferSize: Size.mebibytes(config.archive.bufferSizeMiB),
      infrequentAccessAfter: day(config.retention.archiveInfrequentAccessAfterDays),
      expireAfter: day(config.retention.archiveDays),
      logRetentionDays: config.observability.logRetentionDays,
      retain,
    });

    this.eventStore = new EventStore(this, 'EventStore', {
      vpc: this.network.vpc,
      subnets: this.network.subnets,
      encryptionKey: this.keys.dataKey,
      clusterIdentifier: `firehose-${config.stage}`,
      databaseName: DATABASE_NAME,
      port: DATABASE_PORT,
      masterUsername: MASTER_USERNAME,
      proxyUsers: [WRITER_DB_USER, READER_DB_USER],
      minCapacityAcu: config.database.minCapacityAcu,
      maxCapacityAcu: config.database.maxCapacityAcu,
      readerInstances: config.database.readerInstances ?? 0,
      proxyMaxConnectionsPercent: config.database.proxyMaxConnectionsPercent,
      // Half the summary function's timeout: a client gives up waiting for a pooled connection
      // while it still has time to answer.
      proxyBorrowTimeout: Duration.seconds(Math.max(1, Math.floor(config.summary.timeoutSeconds / 2))),
      backupRetention: day(config.database.backupRetentionDays),
      logRetentionDays: config.observability.logRetentionDays,
      retain,
    });

    // Only migrations and maintenance read the master secret.
    this.network.allowSecretsManagerFrom(this.eventStore.adminClientSecurityGroup);

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output(DATA_OUTPUTS.eventQueueUrl, this.eventQueue.queue.queueUrl, 'Event queue URL');
    output(DATA_OUTPUTS.eventQueueArn, this.eventQueue.queue.queueArn, 'Event queue ARN');
    output(
      DATA_OUTPUTS.deadLetterQueueUrl,
      this.eventQueue.deadLetterQueue.queueUrl,
      'Dead-letter queue URL',
    );
    output(
      DATA_OUTPUTS.deadLetterQueueArn,
      this.eventQueue.deadLetterQueue.queueArn,
      'Dead-letter queue ARN',
    );
    output(DATA_OUTPUTS.tenantsTable, this.tables.tenants.tableName, 'Tenants and API keys table');
    output(DATA_OUTPUTS.rateLimitTable, this.tables.rateLimits.tableName, 'Per-account rate limiter table');
    output(DATA_OUTPUTS.ledgerTable, this.tables.ledger.tableName, 'In-flight message ledger table');
    output(DATA_OUTPUTS.summaryCacheTable, this.tables.summaryCache.tableName, 'Summary cache table');
    output(DATA_OUTPUTS.archiveBucket, this.archive.bucket.bucketName, 'Event archive bucket');
    output(
      DATA_OUTPUTS.archiveStream,
      this.archive.deliveryStream.deliveryStreamName,
      'Archive Firehose stream',
    );
    output(
      DATA_OUTPUTS.databaseProxyEndpoint,
      this.eventStore.proxy.endpoint,
      'RDS Proxy endpoint (IAM auth)',
    );
    output(
      DATA_OUTPUTS.databaseSecretArn,
      this.eventStore.masterSecret.secretArn,
      'Master user secret (RDS-managed)',
    );
  }
}
