import { SQSClient } from '@aws-sdk/client-sqs';
import { sqsClientConfig } from '../../../local/standins/client-config';

/** A real SQS client for a stand-in; one attempt, so tests see each answer as it is. */
export function sqsClient(endpoint: string, maxAttempts = 1): SQSClient {
  return new SQSClient({ ...sqsClientConfig(endpoint), maxAttempts });
}
