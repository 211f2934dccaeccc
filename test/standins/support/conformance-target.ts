/**
 * Where a conformance suite runs: against fresh local stand-ins (the default, in `npm test`), or
 * against real AWS when FIREHOSE_CONFORMANCE_TARGET=aws (see docs/local-standins.md). The suites are
 * written once against this interface and use only the real SDK clients.
 */
import { randomBytes } from 'node:crypto';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { FirehoseClientConfig } from '@aws-sdk/client-firehose';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { SQSClientConfig } from '@aws-sdk/client-sqs';
import { type Standins, startStandins } from '../../../local/standins/index';
import { makeTempDir, removeTempDir } from '../../support/temp-dir';

export interface ConformanceTarget {
  readonly kind: 'local' | 'aws';
  readonly region: string;
  readonly sqs: SQSClientConfig;
  readonly firehose: FirehoseClientConfig;
  readonly s3: S3ClientConfig;
  readonly dynamodb: DynamoDBClientConfig;
  /** A name unique to this run (AWS resources are real and shared). */
  name(label: string): string;
  /** SQS asks callers to wait a second after CreateQueue; locally there is nothing to wait for. */
  settle(): Promise<void>;
  /** How long to wait for resources to become ACTIVE (Firehose streams, DynamoDB tables). */
  readonly activationTimeoutMs: number;
  /** A bucket the suites may write to (objects go under a prefix unique to the run). */
  bucket(): string;
  /** The archive bucket and the role Firehose may use to write into it. */
  firehoseDestination(): { readonly bucket: string; readonly bucketArn: string; readonly roleArn: string };
  /** The local stand-ins, when running locally. */
  readonly standins?: Standins;
  stop(): Promise<void>;
}

export const CONFORMANCE_TARGET_ENV = 'FIREHOSE_CONFORMANCE_TARGET';

const LOCAL_BUCKET = 'conformance-archive';

export async function conformanceTarget(suite: string): Promise<ConformanceTarget> {
  const run = `fhc-${randomBytes(3).toString('hex')}`;
  const name = (label: string): string => `${run}-${suite}-${label}`.slice(0, 63);
  if (process.env[CONFORMANCE_TARGET_ENV] === 'aws') return awsTarget(name);

  const dir = await makeTempDir(`conformance-${suite}`);
  const standins = await startStandins({
    dir,
    firehose: { bufferSeconds: 1, bufferBytes: 1024 * 1024, bucket: LOCAL_BUCKET },
  });
  return {
    kind: 'local',
    region: standins.region,
    ...standins.clients,
    name,
    settle: async () => undefined,
    activationTimeoutMs: 5_000,
    bucket: () => LOCAL_BUCKET,
    firehoseDestination: () => ({
      bucket: LOCAL_BUCKET,
      bucketArn: `arn:aws:s3:::${LOCAL_BUCKET}`,
      roleArn: `arn:aws:iam::${standins.accountId}:role/firehose-conformance`,
    }),
    standins,
    async stop() {
      await standins.stop();
      await removeTempDir(dir);
    },
  };
}

function awsTarget(name: (label: string) => string): ConformanceTarget {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region)
    throw new Error(`${CONFORMANCE_TARGET_ENV}=aws needs AWS_REGION (and credentials the SDK can find).`);
  // Credentials come from the SDK's default chain (env, profile, SSO, instance role).
  const config = { region };
  const bucket = (): string => {
    const name = process.env.FIREHOSE_CONFORMANCE_BUCKET;
    if (!name)
      throw new Error(
        'The S3 and Firehose suites on AWS need FIREHOSE_CONFORMANCE_BUCKET (an existing bucket).',
      );
    return name;
  };
  return {
    kind: 'aws',
    region,
    sqs: config,
    firehose: config,
    s3: config,
    dynamodb: config,
    name,
    settle: () => new Promise((resolve) => setTimeout(resolve, 1_500)),
    activationTimeoutMs: 10 * 60_000,
    bucket,
    firehoseDestination: () => {
      const roleArn = process.env.FIREHOSE_CONFORMANCE_ROLE_ARN;
      if (!roleArn) {
        throw new Error(
          'The Firehose suite on AWS needs FIREHOSE_CONFORMANCE_ROLE_ARN (a role Firehose can assume to write into the bucket).',
        );
      }
      const name = bucket();
      return { bucket: name, bucketArn: `arn:aws:s3:::${name}`, roleArn };
    },
    stop: async () => undefined,
  };
}
