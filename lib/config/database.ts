/**
 * PostgreSQL names shared by the CDK app and the migrations, and the connection arithmetic that
 * keeps design promise 5 (the database's connection count is bounded whatever the traffic).
 */
import { CONNECTIONS_PER_INSTANCE } from '../../lambdas/shared/database-connections';
import type { StageConfig } from './stage-config';

export const DATABASE_NAME = 'firehose';
export const DATABASE_PORT = 5432;
/** The cluster's master user: runs migrations and partition maintenance (password in Secrets Manager). */
export const MASTER_USERNAME = 'firehose_admin';
/** Roles created by migration 0002, each logging in through RDS Proxy with IAM authentication. */
export const WRITER_DB_USER = 'firehose_writer';
export const READER_DB_USER = 'firehose_reader';

/**
 * Lowest `max_connections` of an Aurora PostgreSQL Serverless v2 instance in any capacity range we
 * configure (max ACU >= 1: 189 at a 0.5-1 ACU range, more above). Counting against the floor keeps
 * the budget true while the instance is scaled down.
 */
export const MIN_SERVERLESS_V2_MAX_CONNECTIONS = 189;

export interface ConnectionBudget {
  /** Writer: SQS event source maximumConcurrency x 1. */
  readonly writer: number;
  /** Summary: reserved concurrency x 1. */
  readonly summary: number;
  /** What RDS Proxy may open: its share of the floor of max_connections. */
  readonly proxyLimit: number;
  /** Migrations and partition maintenance connect to the cluster directly, one connection each. */
  readonly direct: number;
}

export function connectionBudget(config: StageConfig): ConnectionBudget {
  return {
    writer: config.writer.maxConcurrency * CONNECTIONS_PER_INSTANCE,
    summary: config.summary.reservedConcurrency * CONNECTIONS_PER_INSTANCE,
    proxyLimit: Math.floor(
      (MIN_SERVERLESS_V2_MAX_CONNECTIONS * config.database.proxyMaxConnectionsPercent) / 100,
    ),
    direct: 2,
  };
}

/** True when every client connection the proxy can be asked for fits in its share of the database. */
export function connectionBudgetHolds(config: StageConfig): boolean {
  const budget = connectionBudget(config);
  return (
    budget.writer + budget.summary <= budget.proxyLimit &&
    budget.proxyLimit + budget.direct <= MIN_SERVERLESS_V2_MAX_CONNECTIONS
  );
}
