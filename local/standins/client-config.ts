/**
 * SDK client configuration for the stand-ins: pass it to the real clients unchanged,
 * e.g. `new SQSClient(sqsClientConfig(standins.endpoints.sqs))`.
 */
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { FirehoseClientConfig } from '@aws-sdk/client-firehose';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { SQSClientConfig } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ENV } from '../../lambdas/shared/env';

export interface StandinEndpoints {
  readonly sqs: string;
  readonly firehose: string;
  readonly s3: string;
  readonly dynamodb: string;
}

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';
/** Every stand-in accepts these (s3rver too: the S3 stand-in registers them), as do the handlers. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

interface BaseConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  requestHandler: NodeHttpHandler;
}

function base(endpoint: string): BaseConfig {
  return {
    endpoint,
    region: LOCAL_REGION,
    credentials: { ...LOCAL_CREDENTIALS },
    // HTTP/1.1, and a short connect timeout: a stopped stand-in fails fast instead of hanging.
    requestHandler: new NodeHttpHandler({ connectionTimeout: 2_000 }),
  };
}

export function sqsClientConfig(endpoint: string): SQSClientConfig {
  return base(endpoint);
}

export function firehoseClientConfig(endpoint: string): FirehoseClientConfig {
  return base(endpoint);
}

export function dynamoDbClientConfig(endpoint: string): DynamoDBClientConfig {
  return base(endpoint);
}

export function s3ClientConfig(endpoint: string): S3ClientConfig {
  return {
    ...base(endpoint),
    forcePathStyle: true,
    // s3rver neither sends nor checks the flexible checksums newer SDKs add by default.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

export interface StandinClientConfigs {
  readonly sqs: SQSClientConfig;
  readonly firehose: FirehoseClientConfig;
  readonly s3: S3ClientConfig;
  readonly dynamodb: DynamoDBClientConfig;
}

export function standinClientConfigs(endpoints: StandinEndpoints): StandinClientConfigs {
  return {
    sqs: sqsClientConfig(endpoints.sqs),
    firehose: firehoseClientConfig(endpoints.firehose),
    s3: s3ClientConfig(endpoints.s3),
    dynamodb: dynamoDbClientConfig(endpoints.dynamodb),
  };
}

/**
 * Environment for a process whose SDK clients are built from the environment (the handlers): the
 * SDK reads AWS_ENDPOINT_URL_<SERVICE> itself. S3 still needs `forcePathStyle` in code.
 */
export function standinEnvironment(endpoints: StandinEndpoints): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    [ENV.awsEndpointSqs]: endpoints.sqs,
    [ENV.awsEndpointFirehose]: endpoints.firehose,
    [ENV.awsEndpointS3]: endpoints.s3,
    [ENV.awsEndpointDynamodb]: endpoints.dynamodb,
  };
}
