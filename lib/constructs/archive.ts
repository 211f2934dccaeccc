/**
 * The raw event archive: a DirectPut Firehose stream that buffers the NDJSON records ingest puts and
 * writes them GZIP-compressed to an encrypted, private S3 bucket, partitioned by arrival hour. It is
 * the source for replays and the copy kept when the database prunes raw events.
 */
import { type CfnResource, Duration, type Size, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ARCHIVE_DATA_PREFIX, ARCHIVE_ERROR_PREFIX } from '../../lambdas/core/archive-records';
import { removalPolicy, stageLogGroup } from './retention';

export interface ArchiveProps {
  readonly encryptionKey: kms.IKey;
  readonly bufferInterval: Duration;
  readonly bufferSize: Size;
  readonly infrequentAccessAfter: Duration;
  readonly expireAfter: Duration;
  readonly logRetentionDays: number;
  readonly retain: boolean;
}

export class Archive extends Construct {
  public readonly bucket: s3.Bucket;
  /** Server access logs of the archive bucket (who read or erased what). */
  public readonly accessLogsBucket: s3.Bucket;
  public readonly deliveryStream: firehose.DeliveryStream;
  /** Firehose's role: the stream's SSE key, writes to the bucket, error logs. */
  public readonly deliveryRole: iam.Role;
  public readonly deliveryErrorLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ArchiveProps) {
    super(scope, id);
    // Disposable stages empty the buckets so the stack can delete them.
    const removal = { removalPolicy: removalPolicy(props.retain), autoDeleteObjects: !props.retain };

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      // S3 server access logging cannot deliver to SSE-KMS buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: props.expireAfter }],
      ...removal,
    });
    Validations.of(this.accessLogsBucket.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket is the access-log destination of the archive; logging it would log the logs.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Unversioned on purpose: Firehose never overwrites (every object key is unique), and erasing
      // a user's events (design promise 8) must not leave the data behind in older versions.
      versioned: false,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'archive/',
      lifecycleRules: [
        {
          id: 'tier-and-expire',
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: props.infrequentAccessAfter },
          ],
          expiration: props.expireAfter,
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      ...removal,
    });

    this.deliveryErrorLogGroup = stageLogGroup(this, 'DeliveryErrors', props);

    this.deliveryRole = new iam.Role(this, 'DeliveryRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com'),
      description: 'Firehose: buffer encryption, archive writes, delivery error logs',
    });
    this.deliveryStream = new firehose.DeliveryStream(this, 'Stream', {
      role: this.deliveryRole,
      // Server-side encryption of the records Firehose buffers before delivery.
      encryption: firehose.StreamEncryption.customerManagedKey(props.encryptionKey),
      destination: new firehose.S3Bucket(this.bucket, {
        compression: firehose.Compression.GZIP,
        bufferingInterval: props.bufferInterval,
        bufferingSize: props.bufferSize,
        dataOutputPrefix: ARCHIVE_DATA_PREFIX,
        errorOutputPrefix: ARCHIVE_ERROR_PREFIX,
        encryptionKey: props.encryptionKey,
        loggingConfig: new firehose.EnableLogging(this.deliveryErrorLogGroup),
        role: this.deliveryRole,
      }),
    });

    // CDK's S3 destination grants bucket.grantReadWrite and the key's encrypt/decrypt set; Firehose
    // writes objects whose keys are only known at delivery time.
    const bucketArn = Stack.of(this).resolve(
      Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnResource),
    );
    const reason =
      'Firehose S3 destination (CDK grantReadWrite on the archive bucket and its KMS key): object keys ' +
      'are created at delivery time under events/ and errors/, so object ARNs end in /*.';
    Validations.of(this.deliveryRole).acknowledge(
      ...[
        'Action::kms:GenerateDataKey*',
        'Action::kms:ReEncrypt*',
        'Action::s3:Abort*',
        'Action::s3:DeleteObject*',
        'Action::s3:GetBucket*',
        'Action::s3:GetObject*',
        'Action::s3:List*',
        `Resource::<${bucketArn}.Arn>/*`,
      ].map((finding) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason })),
    );
  }
}
