/**
 * AWS SDK clients for the functions. Endpoints come from the standard `AWS_ENDPOINT_URL_<SERVICE>`
 * variables (unset on AWS), so the same code talks to AWS or to the local stand-ins without knowing
 * which. The environment is passed in, so the local runner can host several pipelines in one
 * process. Clients are created once per function instance and reuse their connections.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV, type Environment, type EnvName } from '../shared/env';

// Options for the SDK's default Node HTTP/1.1 handler (what the local stand-ins speak) fail fast
// rather than hang a request. Given as options, so the bundle does not import @smithy itself and
// the Lambda runtime's SDK is used as a whole.
function common(env: Environment, endpointVariable: EnvName) {
  const endpoint = env[endpointVariable];
  const region = env.AWS_REGION;
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  return {
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
    maxAttempts: 3,
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(endpoint && accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
  };
}

export function createDocumentClient(env: Environment = process.env): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(common(env, ENV.awsEndpointDynamodb)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function createSqsClient(env: Environment = process.env): SQSClient {
  // The MD5 check of every sent body repeats what TLS already guarantees; it costs ~5% of ingest CPU.
  return new SQSClient({ ...common(env, ENV.awsEndpointSqs), md5: false });
}

export function createFirehoseClient(env: Environment = process.env): FirehoseClient {
  return new FirehoseClient(common(env, ENV.awsEndpointFirehose));
}
