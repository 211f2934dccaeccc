/**
 * The public API's edge: routes behind the cached key authorizer, API Gateway's own errors in the
 * contract's shape, the browser preflight, JSON access logs without keys, throttling, tracing and WAF.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GATEWAY_ERRORS,
  GATEWAY_RESPONSE_TYPES,
  gatewayError,
  gatewayErrorResponse,
} from '../../lambdas/core/gateway-errors';
import { SERVICE_OUTPUTS } from '../../lib/config/stack-outputs';
import { stageConfig } from '../../lib/config/stage-config';
import { RATE_WINDOW_SECONDS } from '../../lib/constructs/api-firewall';
import { STAGE_THROTTLE } from '../../lib/constructs/ingest-api';
import { SUMMARY_REQUESTS_PER_INSTANCE } from '../../lib/constructs/summary-api';
import { type SynthesizedStage, stageTemplates } from './support/synth';
import { type CfnResource, functionOf, only, resources } from './support/template-queries';

/** The error codes of the public contract (design §2). */
const CONTRACT_CODES = new Set([
  'invalid_json',
  'invalid_body',
  'no_valid_events',
  'unauthorized',
  'forbidden',
  'payload_too_large',
  'too_many_events',
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
]);

function gatewayResponses(s: SynthesizedStage): Map<string, CfnResource> {
  return new Map(
    resources(s.service, 'AWS::ApiGateway::GatewayResponse').map(([, r]) => [
      String(r.Properties?.ResponseType),
      r,
    ]),
  );
}

function errorBody(response: CfnResource): { error: Record<string, string> } {
  const templates = response.Properties?.ResponseTemplates as Record<string, string>;
  return JSON.parse(templates['application/json']!) as { error: Record<string, string> };
}

function methodAt(s: SynthesizedStage, pathPart: string, httpMethod: string): CfnResource {
  const [resourceId] = resources(s.service, 'AWS::ApiGateway::Resource').find(
    ([, r]) => r.Properties?.PathPart === pathPart,
  )!;
  const found = resources(s.service, 'AWS::ApiGateway::Method').find(
    ([, m]) =>
      m.Properties?.HttpMethod === httpMethod &&
      JSON.stringify(m.Properties?.ResourceId) === JSON.stringify({ Ref: resourceId }),
  );
  if (!found) throw new Error(`No ${httpMethod} on ${pathPart}`);
  return found[1];
}

describe.each(['dev', 'prod'] as const)('stage %s: API', (name) => {
  const config = stageConfig(name);
  let s: SynthesizedStage;
  beforeAll(() => {
    s = stageTemplates(name);
  });

  describe('routes and authorizer', () => {
    it('caches a REQUEST authorizer on the Authorization header for the configured TTL', () => {
      const [authorizerFn] = functionOf(s.service, 'authorizer');
      const [, authorizer] = only(s.service, 'AWS::ApiGateway::Authorizer');
      expect(authorizer.Properties).toMatchObject({
        Type: 'REQUEST',
        IdentitySource: 'method.request.header.Authorization',
        AuthorizerResultTtlInSeconds: config.authorizer.cacheTtlSeconds,
      });
      expect(JSON.stringify(authorizer.Properties?.AuthorizerUri)).toContain(authorizerFn);
      expect(config.authorizer.cacheTtlSeconds).toBeLessThanOrEqual(3600);
    });

    it.each([
      ['events', 'POST', 'ingest'],
      ['summary', 'GET', 'summary'],
    ] as const)('routes %s %s to the %s function behind the authorizer', (pathPart, httpMethod, handler) => {
      const [authorizerId] = only(s.service, 'AWS::ApiGateway::Authorizer');
      const [fnId] = functionOf(s.service, handler);
      const method = methodAt(s, pathPart, httpMethod);
      expect(method.Properties).toMatchObject({
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: authorizerId },
        Integration: { Type: 'AWS_PROXY' },
      });
      expect(JSON.stringify(method.Properties?.Integration)).toContain(fnId);
      expect(method.Properties?.RequestParameters).toMatchObject({
        'method.request.header.Authorization': true,
      });
    });

    it('nests the summary route under /accounts/{id}', () => {
      const parts = resources(s.service, 'AWS::ApiGateway::Resource').map(([, r]) => r.Properties?.PathPart);
      expect(parts).toEqual(expect.arrayContaining(['events', 'accounts', '{id}', 'summary']));
    });
  });

  describe('gateway responses', () => {
    it("shapes every one of API Gateway's own errors as the contract's error body", () => {
      const responses = gatewayResponses(s);
      expect(responses.size).toBe(GATEWAY_ERRORS.length);
      for (const [type, response] of responses) {
        const body = errorBody(response);
        expect(Object.keys(body), type).toEqual(['error']);
        expect(Object.keys(body.error).sort(), type).toEqual(['code', 'message', 'request_id']);
        expect(CONTRACT_CODES.has(body.error.code!), `${type}: ${body.error.code}`).toBe(true);
        expect(body.error.request_id, type).toBe('$context.requestId');
        expect(body.error.message!.length, type).toBeGreaterThan(0);
        expect(response.Properties?.ResponseParameters, type).toMatchObject({
          'gatewayresponse.header.Content-Type': "'application/json'",
          'gatewayresponse.header.Access-Control-Allow-Origin': "'*'",
          'gatewayresponse.header.Access-Control-Expose-Headers': "'retry-after'",
        });
      }
    });

    it.each([
      ['UNAUTHORIZED', '401', 'unauthorized'],
      ['ACCESS_DENIED', '403', 'forbidden'],
      ['MISSING_AUTHENTICATION_TOKEN', '403', 'forbidden'],
      ['THROTTLED', '429', 'rate_limited'],
      ['QUOTA_EXCEEDED', '429', 'rate_limited'],
      ['REQUEST_TOO_LARGE', '413', 'payload_too_large'],
      ['UNSUPPORTED_MEDIA_TYPE', '415', 'unsupported_media_type'],
      ['BAD_REQUEST_BODY', '400', 'invalid_body'],
      ['AUTHORIZER_FAILURE', '503', 'unavailable'],
      ['AUTHORIZER_CONFIGURATION_ERROR', '503', 'unavailable'],
      ['INTEGRATION_FAILURE', '503', 'unavailable'],
      ['INTEGRATION_TIMEOUT', '503', 'unavailable'],
      ['DEFAULT_5XX', '503', 'unavailable'],
    ])('answers %s with %s %s', (type, status, code) => {
      const response = gatewayResponses(s).get(type);
      expect(response, type).toBeDefined();
      expect(response!.Properties?.StatusCode).toBe(status);
      expect(errorBody(response!).error.code).toBe(code);
    });

    it('answers exactly as the shared table does (what the local API gateway sends)', () => {
      const responses = gatewayResponses(s);
      for (const type of GATEWAY_RESPONSE_TYPES) {
        const response = responses.get(type);
        expect(response, type).toBeDefined();
        const local = gatewayErrorResponse(type, '$context.requestId', 400);
        const headers = Object.fromEntries(
          Object.entries(local.headers).map(([name, value]) => [
            `gatewayresponse.header.${name}`,
            `'${value}'`,
          ]),
        );
        expect(response!.Properties?.ResponseParameters, type).toEqual(headers);
        expect(response!.Properties?.ResponseTemplates, type).toEqual({ 'application/json': local.body });
        const status = gatewayError(type)!.status;
        expect(response!.Properties?.StatusCode, type).toBe(
          status === undefined ? undefined : String(status),
        );
      }
    });

    it('keeps the original status of other 4xx errors', () => {
      const response = gatewayResponses(s).get('DEFAULT_4XX')!;
      expect(response.Properties?.StatusCode).toBeUndefined();
    });

    it('tells throttled clients when to retry', () => {
      for (const type of ['THROTTLED', 'QUOTA_EXCEEDED']) {
        expect(gatewayResponses(s).get(type)!.Properties?.ResponseParameters).toMatchObject({
          'gatewayresponse.header.Retry-After': "'1'",
        });
      }
    });
  });

  describe('CORS', () => {
    it('answers the /events preflight itself, without auth or a Lambda call', () => {
      const preflight = methodAt(s, 'events', 'OPTIONS');
      expect(preflight.Properties?.AuthorizationType).toBe('NONE');
      const integration = preflight.Properties?.Integration as {
        Type: string;
        IntegrationResponses: Array<{ ResponseParameters: Record<string, string> }>;
      };
      expect(integration.Type).toBe('MOCK');
      expect(integration.IntegrationResponses[0]!.ResponseParameters).toMatchObject({
        'method.response.header.Access-Control-Allow-Origin': "'*'",
        'method.response.header.Access-Control-Allow-Headers': "'Authorization,Content-Type'",
        'method.response.header.Access-Control-Allow-Methods': "'POST,OPTIONS'",
      });
    });

    it('offers no preflight on the summary route (read keys are server-side secrets)', () => {
      expect(() => methodAt(s, 'summary', 'OPTIONS')).toThrow();
    });
  });

  describe('stage', () => {
    it('writes JSON access logs that carry no header values', () => {
      const [, stage] = only(s.service, 'AWS::ApiGateway::Stage');
      const settings = stage.Properties?.AccessLogSetting as { Format: string; DestinationArn: unknown };
      const format = JSON.parse(settings.Format) as Record<string, string>;
      expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
      expect(settings.Format).not.toMatch(/authorization|\.header\.|identity\.apiKey/i);
      expect(JSON.stringify(settings.DestinationArn)).toContain('AccessLogs');
    });

    it('throttles the stage, traces per config and never logs request data', () => {
      s.service.hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'v1',
        TracingEnabled: config.observability.tracing,
        MethodSettings: Match.arrayWith([
          Match.objectLike({
            HttpMethod: '*',
            ResourcePath: '/*',
            DataTraceEnabled: false,
            LoggingLevel: 'ERROR',
            ThrottlingRateLimit: STAGE_THROTTLE.rateLimit,
            ThrottlingBurstLimit: STAGE_THROTTLE.burstLimit,
          }),
        ]),
      });
      const [, stage] = only(s.service, 'AWS::ApiGateway::Stage');
      for (const setting of stage.Properties!.MethodSettings as Array<Record<string, unknown>>) {
        expect(setting.DataTraceEnabled).toBe(false);
      }
    });

    it('throttles the summary route to what its reserved concurrency can serve', () => {
      s.service.hasResourceProperties('AWS::ApiGateway::Stage', {
        MethodSettings: Match.arrayWith([
          Match.objectLike({
            HttpMethod: 'GET',
            ResourcePath: '/~1accounts~1{id}~1summary',
            ThrottlingRateLimit: config.summary.reservedConcurrency * SUMMARY_REQUESTS_PER_INSTANCE,
          }),
        ]),
      });
    });

    it('is a regional endpoint and publishes ApiUrl', () => {
      s.service.hasResourceProperties('AWS::ApiGateway::RestApi', {
        EndpointConfiguration: { Types: ['REGIONAL'] },
      });
      s.service.hasOutput(SERVICE_OUTPUTS.apiUrl, {});
    });
  });

  it(config.wafEnabled ? 'attaches a WAF with a rate-based and the AWS common rules' : 'has no WAF', () => {
    if (!config.wafEnabled) {
      s.service.resourceCountIs('AWS::WAFv2::WebACL', 0);
      return;
    }
    const largestTier = Math.max(...Object.values(config.tiers).map((t) => t.requestsPerSecond));
    s.service.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: Match.arrayWith([
        Match.objectLike({
          Statement: {
            RateBasedStatement: Match.objectLike({
              AggregateKeyType: 'IP',
              Limit: largestTier * RATE_WINDOW_SECONDS,
            }),
          },
        }),
        Match.objectLike({
          Statement: {
            ManagedRuleGroupStatement: Match.objectLike({
              VendorName: 'AWS',
              Name: 'AWSManagedRulesCommonRuleSet',
              RuleActionOverrides: [{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }],
            }),
          },
        }),
      ]),
    });
    const [stageId] = only(s.service, 'AWS::ApiGateway::Stage');
    const [, association] = only(s.service, 'AWS::WAFv2::WebACLAssociation');
    expect(JSON.stringify(association.Properties?.ResourceArn)).toContain(stageId);
  });
});
