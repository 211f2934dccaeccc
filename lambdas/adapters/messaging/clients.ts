import { FirehoseClient } from '@aws-sdk/client-firehose';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ENV, type Environment } from '../../shared/env';
import { awsClientConfig } from '../aws-client-config';

export function createSqsClient(env: Environment = process.env): SQSClient {
  // The MD5 check of every sent body repeats what TLS already guarantees; it costs ~5% of ingest CPU.
  return new SQSClient({ ...awsClientConfig(env, ENV.awsEndpointSqs), md5: false });
}

export function createFirehoseClient(env: Environment = process.env): FirehoseClient {
  return new FirehoseClient(awsClientConfig(env, ENV.awsEndpointFirehose));
}
