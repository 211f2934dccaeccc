/**
 * AWS SDK clients for the functions. Endpoints come from the standard `AWS_ENDPOINT_URL_<SERVICE>`
 * variables, so the same code talks to AWS or to the local stand-ins without knowing which.
 * Clients are created once per function instance and reuse their connections.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

// Options for the SDK's default Node HTTP/1.1 handler (what the local stand-ins speak): fail fast
// rather than hang a request. Given as options, so the bundle does not import @smithy itself and
// the Lambda runtime's SDK is used as a whole.
function requestHandler() {
  return { connectionTimeout: 2_000, requestTimeout: 5_000 };
}

export function createDocumentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ requestHandler: requestHandler(), maxAttempts: 3 }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function createSqsClient(): SQSClient {
  // The MD5 check of every sent body repeats what TLS already guarantees; it costs ~5% of ingest CPU.
  return new SQSClient({ requestHandler: requestHandler(), maxAttempts: 3, md5: false });
}

export function createFirehoseClient(): FirehoseClient {
  return new FirehoseClient({ requestHandler: requestHandler(), maxAttempts: 3 });
}
