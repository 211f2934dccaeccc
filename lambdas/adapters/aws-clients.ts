/**
 * AWS SDK clients for the functions. Endpoints come from the standard `AWS_ENDPOINT_URL_<SERVICE>`
 * variables, so the same code talks to AWS or to the local stand-ins without knowing which.
 * Clients are created once per function instance and reuse their connections.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';

// HTTP/1.1 with keep-alive: what the local stand-ins speak, and cheap on AWS too.
function requestHandler() {
  return new NodeHttpHandler({ connectionTimeout: 2_000, requestTimeout: 5_000 });
}

export function createDocumentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ requestHandler: requestHandler(), maxAttempts: 3 }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function createSqsClient(): SQSClient {
  return new SQSClient({ requestHandler: requestHandler(), maxAttempts: 3 });
}

export function createFirehoseClient(): FirehoseClient {
  return new FirehoseClient({ requestHandler: requestHandler(), maxAttempts: 3 });
}
