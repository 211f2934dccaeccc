import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV, type Environment } from '../../shared/env';
import { awsClientConfig } from '../aws-client-config';

export function createDocumentClient(env: Environment = process.env): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig(env, ENV.awsEndpointDynamodb)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}
