/**
 * API Gateway REQUEST authorizer (identity source: the Authorization header). API Gateway caches the
 * result per header value for the configured TTL, so the policy allows every route of the API and
 * the handlers check scopes. A revoked key stops working when its cached result expires.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createDocumentClient } from '../adapters/dynamodb/document-client';
import { DynamoTenantStore } from '../adapters/dynamodb/tenant-store';
import { encodeAuthContext } from '../core/tenants';
import { TIERS } from '../core/tiers';
import { describeError } from '../shared/describe-error';
import { ENV, type Environment, readEnv, readOneOfEnv } from '../shared/env';
import { headerValue } from '../shared/headers';
import { createObservability, type Observability, portLog } from '../shared/observability';
import { observedHandler } from '../shared/observed-handler';
import { once } from '../shared/once';
import { type AuthorizeDependencies, authorize, Unauthorized } from '../use-cases/authorize';

/** `arn:aws:execute-api:region:account:api/stage/METHOD/path` → every method and path of that stage. */
export function wholeApiArn(methodArn: string): string {
  const [prefix, path = ''] = methodArn.split(':execute-api:');
  const [apiAndRegion, stage] = path.split('/');
  return `${prefix}:execute-api:${apiAndRegion}/${stage}/*`;
}

export function createAuthorizerHandler(
  dependencies: () => AuthorizeDependencies,
  { logger, metrics }: Observability,
) {
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    try {
      const context = await authorize(dependencies(), headerValue(event.headers, 'authorization'));
      metrics.addMetric('AuthorizerAllowed', MetricUnit.Count, 1);
      return {
        principalId: context.accountId,
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: wholeApiArn(event.methodArn) },
          ],
        },
        context: encodeAuthContext(context),
      };
    } catch (error) {
      if (error instanceof Unauthorized) {
        metrics.addMetric('AuthorizerDenied', MetricUnit.Count, 1);
        logger.info('key rejected', { reason: error.reason });
        // This exact message makes API Gateway answer 401 (shaped by the UNAUTHORIZED Gateway Response).
        throw new Error('Unauthorized');
      }
      // The key store is unreachable: API Gateway answers 5xx (AUTHORIZER_FAILURE → 503 unavailable).
      metrics.addMetric('AuthorizerErrors', MetricUnit.Count, 1);
      logger.error('authorizer failed', { error: describeError(error) });
      throw new Error('Authorizer unavailable');
    }
  };
}

/** The deployed handler: dependencies are built from `env` on the first invocation. */
export function buildAuthorizerHandler(env: Environment = process.env) {
  const observability = createObservability('authorizer', env);
  const dependencies = once(
    (): AuthorizeDependencies => ({
      keys: new DynamoTenantStore(createDocumentClient(env), readEnv(ENV.tenantsTable, env)),
      defaultTier: readOneOfEnv(ENV.defaultTier, TIERS, env),
      log: portLog(observability.logger),
    }),
  );
  return observedHandler(createAuthorizerHandler(dependencies, observability), observability);
}

export const handler = buildAuthorizerHandler();
