/**
 * Names the ops CLI and the load tests read from a deployed stage: the CloudFormation stack names and
 * the keys of their outputs (stable, no exports). See docs/infrastructure.md#outputs.
 */
import type { Stage } from './stage-config';

export function stackNames(stage: Stage): { readonly data: string; readonly service: string } {
  return { data: `firehose-${stage}-data`, service: `firehose-${stage}-service` };
}

/** Outputs of the data (stateful) stack. */
export const DATA_OUTPUTS = {
  eventQueueUrl: 'EventQueueUrl',
  eventQueueArn: 'EventQueueArn',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  deadLetterQueueArn: 'DeadLetterQueueArn',
  tenantsTable: 'TenantsTable',
  rateLimitTable: 'RateLimitTable',
  ledgerTable: 'LedgerTable',
  summaryCacheTable: 'SummaryCacheTable',
  archiveBucket: 'ArchiveBucket',
  archiveStream: 'ArchiveStream',
  databaseProxyEndpoint: 'DatabaseProxyEndpoint',
  databaseSecretArn: 'DatabaseSecretArn',
} as const;

/** Outputs of the service (stateless) stack. */
export const SERVICE_OUTPUTS = {
  apiUrl: 'ApiUrl',
  writerFunction: 'WriterFunction',
  migrateFunction: 'MigrateFunction',
} as const;
