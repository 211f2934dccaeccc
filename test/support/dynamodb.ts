/**
 * A dynalite DynamoDB with the pipeline's tables, in memory, on a free port, for one test file.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localTableNames, type TableNames, tableDefinitions } from '../../local/dynamodb-tables';
import { dynamoDbClientConfig } from '../../local/standins/client-config';
import { type DynamoDbStandin, startDynamoDbStandin } from '../../local/standins/dynamodb/dynamodb-standin';

export interface TestDynamo {
  readonly names: TableNames;
  readonly documents: DynamoDBDocumentClient;
  readonly standin: DynamoDbStandin;
  stop(): Promise<void>;
}

export async function startTestDynamo(): Promise<TestDynamo> {
  const names = localTableNames(`test-${randomBytes(3).toString('hex')}`);
  const standin = await startDynamoDbStandin({ tables: tableDefinitions(names) });
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({ ...dynamoDbClientConfig(standin.endpoint), maxAttempts: 1 }),
    {
      marshallOptions: { removeUndefinedValues: true },
    },
  );
  return {
    names,
    documents,
    standin,
    async stop() {
      documents.destroy();
      await standin.stop();
    },
  };
}
