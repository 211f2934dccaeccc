/**
 * The public REST API and its ingest path: the API key authorizer, `POST /events` on the ingest
 * function (outside the VPC: SQS, Firehose and DynamoDB are regional endpoints, cold starts stay
 * short), the browser preflight, the error contract for API Gateway's own errors, JSON access logs
 * and stage throttling. Other routes (the summary) are added on `api` with `authorizer`.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { GATEWAY_ERRORS, gatewayErrorBody, gatewayErrorHeaders } from '../../lambdas/core/gateway-errors';
import { authorizerEnvironment, ingestEnvironment } from '../config/function-environment';
import type { StageConfig } from '../config/stage-config';
import { FirehoseFunction } from './firehose-function';
import { grantQueueSend } from './grants';
import { grantTableActions } from './pipeline-tables';
import { stageLogGroup } from './retention';

/** The API path prefix clients call: `<ApiUrl>events`, ApiUrl ending in `/v1/`. */
export const API_STAGE_NAME = 'v1';

/**
 * Stage-wide throttle: a backstop above the largest tier (per-account limits live in the limiter),
 * at half of the account's default regional API Gateway quota (10,000 rps, 5,000 burst).
 */
export const STAGE_THROTTLE = { rateLimit: 5_000, burstLimit: 2_500 } as const;

export interface IngestApiProps {
  readonly config: StageConfig;
  readonly tenants: dynamodb.ITable;
  readonly rateLimits: dynamodb.ITable;
  readonly ledger: dynamodb.ITable;
  readonly queue: sqs.IQueue;
  readonly archiveStream: firehose.IDeliveryStream;
  /** Per-route stage settings, keyed `/<path>/<METHOD>` (e.g. a tighter throttle for the summary). */
  readonly methodOptions?: Record<string, apigw.MethodDeploymentOptions>;
}

export class IngestApi extends Construct {
  public readonly authorizerFunction: FirehoseFunction;
  public readonly ingestFunction: FirehoseFunction;
  public readonly api: apigw.RestApi;
  public readonly authorizer: apigw.RequestAuthorizer;
  public readonly accessLogGroup: logs.LogGroup;
  public readonly requestValidator: apigw.RequestValidator;
  public readonly eventsResource: apigw.Resource;
  public readonly postEvents: apigw.Method;

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);
    const { config } = props;

    this.authorizerFunction = new FirehoseFunction(this, 'AuthorizerFunction', {
      handlerName: 'authorizer',
      config,
      description: 'API key authorizer: key hash -> account, scopes, tier',
      environment: authorizerEnvironment(config, { tenantsTable: props.tenants.tableName }),
      timeout: Duration.seconds(5),
      memorySize: 512,
      // The hot path outside the VPC: the runtime's SDK keeps the bundle and cold start small.
      awsSdk: 'runtime',
    });
    // Looks the key up, and records when it was last used.
    grantTableActions(this.authorizerFunction, props.tenants, ['dynamodb:GetItem', 'dynamodb:UpdateItem']);

    this.ingestFunction = new FirehoseFunction(this, 'IngestFunction', {
      handlerName: 'ingest',
      config,
      description: 'POST /events: validate, limit per account, pack to SQS and the archive',
      environment: ingestEnvironment(config, {
        rateLimitTable: props.rateLimits.tableName,
        ledgerTable: props.ledger.tableName,
        eventQueueUrl: props.queue.queueUrl,
        archiveStreamName: props.archiveStream.deliveryStreamName,
      }),
      timeout: Duration.seconds(config.ingest.timeoutSeconds),
      memorySize: config.ingest.memoryMb,
      awsSdk: 'runtime',
    });
    grantTableActions(this.ingestFunction, props.rateLimits, ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    // Writes each message's item before the send and confirms it after (docs/freshness.md).
    grantTableActions(this.ingestFunction, props.ledger, ['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    // SendMessageBatch is authorized as sqs:SendMessage; a KMS-encrypted queue needs the producer to
    // generate and decrypt data keys.
    grantQueueSend(this.ingestFunction, props.queue);
    props.archiveStream.grant(this.ingestFunction, 'firehose:PutRecordBatch');

    this.accessLogGroup = stageLogGroup(this, 'AccessLogs', {
      logRetentionDays: config.observability.logRetentionDays,
      retain: config.retainData,
    });

    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `firehose-${config.stage}`,
      description: 'Product event ingestion and per-account summaries',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      // Access and execution logs need the account-level CloudWatch role; kept on stack deletion
      // because the setting is shared by every API of the account and region.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: API_STAGE_NAME,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: accessLogFormat(),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        // Data trace would log full requests, Authorization header included (design promise 7).
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: config.observability.tracing,
        throttlingRateLimit: STAGE_THROTTLE.rateLimit,
        throttlingBurstLimit: STAGE_THROTTLE.burstLimit,
        methodOptions: props.methodOptions,
      },
    });

    // ApiUrl is the stack's own output; drop the RestApi's generated duplicate.
    this.api.node.tryRemoveChild('Endpoint');
    const cloudWatchRole = this.api.node.findChild('CloudWatchRole');
    Validations.of(cloudWatchRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The account-level role API Gateway itself uses to write access and execution logs; AWS maintains its policy.',
    });

    // The same table the local API gateway answers from (lambdas/core/gateway-errors.ts): the
    // contract's error body with API Gateway's request id; header values are static ('quoted').
    for (const error of GATEWAY_ERRORS) {
      const headers = Object.entries(gatewayErrorHeaders(error)).map(([name, value]) => [name, `'${value}'`]);
      this.api.addGatewayResponse(`Error${error.type}`, {
        type: apigw.ResponseType.of(error.type),
        ...(error.status !== undefined ? { statusCode: String(error.status) } : {}),
        responseHeaders: Object.fromEntries(headers),
        templates: { 'application/json': gatewayErrorBody(error, '$context.requestId') },
      });
    }

    this.authorizer = new apigw.RequestAuthorizer(this, 'KeyAuthorizer', {
      handler: this.authorizerFunction,
      // One identity source, so API Gateway caches the decision per key for the TTL.
      identitySources: [apigw.IdentitySource.header('Authorization')],
      resultsCacheTtl: Duration.seconds(config.authorizer.cacheTtlSeconds),
    });

    // Only parameter validation can apply (the Authorization header): bodies are validated by the
    // handler, which must accept the valid events of a batch and reject the others one by one.
    this.requestValidator = this.api.addRequestValidator('RequestValidator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });

    this.eventsResource = this.api.root.addResource('events');
    this.postEvents = this.addAuthorizedMethod(this.eventsResource, 'POST', this.ingestFunction);

    // Preflight answered by API Gateway itself (no Lambda, no key: browsers send none). Any origin may
    // ask; the ingest handler enforces each publishable key's allowed origins on the real request.
    const preflight = this.eventsResource.addCorsPreflight({
      allowOrigins: apigw.Cors.ALL_ORIGINS,
      allowHeaders: ['Authorization', 'Content-Type'],
      allowMethods: ['POST', 'OPTIONS'],
      // The same answer as the ingest handler's own preflight (lambdas/core/cors.ts), used locally.
      maxAge: Duration.minutes(10),
    });
    Validations.of(preflight.node.defaultChild!).acknowledge(
      {
        id: 'AwsSolutions-APIG4',
        reason: 'CORS preflight (OPTIONS) carries no credentials by design; it is a mock integration.',
      },
      {
        id: 'AwsSolutions-COG4',
        reason: 'CORS preflight (OPTIONS) carries no credentials by design; it is a mock integration.',
      },
    );
  }

  /** Adds a route behind the key authorizer, requiring the Authorization header. */
  public addAuthorizedMethod(
    resource: apigw.IResource,
    httpMethod: string,
    target: FirehoseFunction,
    requestParameters: Record<string, boolean> = {},
  ): apigw.Method {
    const method = resource.addMethod(httpMethod, new apigw.LambdaIntegration(target), {
      authorizer: this.authorizer,
      authorizationType: apigw.AuthorizationType.CUSTOM,
      requestValidator: this.requestValidator,
      requestParameters: { 'method.request.header.Authorization': true, ...requestParameters },
    });
    Validations.of(method.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Callers are tenants holding API keys, checked by the Lambda REQUEST authorizer, not Cognito users.',
    });
    return method;
  }
}

/** JSON access log lines without any header value (keys never reach logs). */
function accessLogFormat(): apigw.AccessLogFormat {
  const f = apigw.AccessLogField;
  return apigw.AccessLogFormat.custom(
    JSON.stringify({
      requestId: f.contextRequestId(),
      // The dimension of the GatewayThrottled metric filter (lib/constructs/observability).
      apiId: f.contextApiId(),
      extendedRequestId: f.contextExtendedRequestId(),
      requestTime: f.contextRequestTime(),
      ip: f.contextIdentitySourceIp(),
      method: f.contextHttpMethod(),
      resourcePath: f.contextResourcePath(),
      path: f.contextPath(),
      status: f.contextStatus(),
      protocol: f.contextProtocol(),
      responseLength: f.contextResponseLength(),
      responseLatency: f.contextResponseLatency(),
      integrationLatency: f.contextIntegrationLatency(),
      integrationStatus: f.contextIntegrationStatus(),
      principalId: f.contextAuthorizerPrincipalId(),
      authorizerStatus: f.contextAuthorizerStatus(),
      authorizerLatency: f.contextAuthorizerLatency(),
      errorType: f.contextErrorResponseType(),
      errorMessage: f.contextErrorMessage(),
      wafStatus: f.contextWafStatus(),
      xrayTraceId: f.contextXrayTraceId(),
    }),
  );
}
