/**
 * PostgreSQL connections for the functions: `DATABASE_URL` locally and in tests; on AWS, the RDS
 * Proxy with a short-lived IAM token (writer, summary), or the cluster as the master user whose
 * password is read from Secrets Manager (migrations, maintenance). No session setting is ever SET
 * (that would pin RDS Proxy sessions); queries are unnamed statements.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Signer } from '@aws-sdk/rds-signer';
import pg from 'pg';
import { ENV, type Environment, readEnv, readNumberEnv, readOptionalEnv } from '../../shared/env';

export interface PoolOptions {
  /** Connections this function instance may hold: 1 for the writer and summary (design promise 5). */
  readonly max: number;
  readonly applicationName: string;
}

export function poolConfigFromEnv(options: PoolOptions, env: Environment = process.env): pg.PoolConfig {
  const common: pg.PoolConfig = {
    max: options.max,
    application_name: options.applicationName,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 60_000,
    keepAlive: true,
  };
  const url = readOptionalEnv(ENV.databaseUrl, env);
  if (url) return { ...common, connectionString: url };
  const host = readEnv(ENV.dbHost, env);
  const port = readNumberEnv(ENV.dbPort, env);
  const user = readEnv(ENV.dbUser, env);
  const region = readEnv(ENV.dbRegion, env);
  const secretArn = readOptionalEnv(ENV.dbSecretArn, env);
  return {
    ...common,
    host,
    port,
    user,
    database: readEnv(ENV.dbName, env),
    password: secretArn ? secretPassword(secretArn, region) : iamToken(host, port, user, region),
    // RDS CAs come from NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem, set by the CDK app.
    ssl: { rejectUnauthorized: true },
  };
}

/** A fresh token per new connection; tokens are valid for 15 minutes, connections outlive them. */
function iamToken(hostname: string, port: number, username: string, region: string): () => Promise<string> {
  const signer = new Signer({ hostname, port, username, region });
  return () => signer.getAuthToken();
}

/** Read on every new connection, so a rotated password is picked up by the next connection. */
function secretPassword(secretArn: string, region: string): () => Promise<string> {
  const client = new SecretsManagerClient({ region });
  return async () => {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    const password = SecretString ? (JSON.parse(SecretString) as { password?: unknown }).password : undefined;
    if (typeof password !== 'string') throw new Error(`Secret ${secretArn} has no "password" field`);
    return password;
  };
}

export function createPool(options: PoolOptions, env: Environment = process.env): pg.Pool {
  const pool = new pg.Pool(poolConfigFromEnv(options, env));
  // An idle connection dropped by the server must not crash the function; the pool replaces it.
  pool.on('error', () => undefined);
  return pool;
}
