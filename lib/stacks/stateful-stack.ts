/**
 * Everything that holds data or must outlive a redeploy of the code: keys, network, DynamoDB tables,
 * the event queue and its DLQ, the archive (bucket and its Firehose stream: the stream buffers up to
 * a few minutes of events, so it is not recreated with the functions) and the event store.
 */
import { Duration, Size, Stack, type StackProps } from 'aws-cdk-lib';
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
import { addStackOutputs } from './stack-outputs';

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
      readerInstances: config.database.readerInstances,
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

    addStackOutputs(this, DATA_OUTPUTS, {
      eventQueueUrl: { value: this.eventQueue.queue.queueUrl, description: 'Event queue URL' },
      eventQueueArn: { value: this.eventQueue.queue.queueArn, description: 'Event queue ARN' },
      deadLetterQueueUrl: {
        value: this.eventQueue.deadLetterQueue.queueUrl,
        description: 'Dead-letter queue URL',
      },
      deadLetterQueueArn: {
        value: this.eventQueue.deadLetterQueue.queueArn,
        description: 'Dead-letter queue ARN',
      },
      tenantsTable: { value: this.tables.tenants.tableName, description: 'Tenants and API keys table' },
      rateLimitTable: {
        value: this.tables.rateLimits.tableName,
        description: 'Per-account rate limiter table',
      },
      ledgerTable: { value: this.tables.ledger.tableName, description: 'In-flight message ledger table' },
      summaryCacheTable: { value: this.tables.summaryCache.tableName, description: 'Summary cache table' },
      archiveBucket: { value: this.archive.bucket.bucketName, description: 'Event archive bucket' },
      archiveStream: {
        value: this.archive.deliveryStream.deliveryStreamName,
        description: 'Archive Firehose stream',
      },
      databaseProxyEndpoint: {
        value: this.eventStore.proxy.endpoint,
        description: 'RDS Proxy endpoint (IAM auth)',
      },
      databaseSecretArn: {
        value: this.eventStore.masterSecret.secretArn,
        description: 'Master user secret (RDS-managed)',
      },
    });
  }
}
