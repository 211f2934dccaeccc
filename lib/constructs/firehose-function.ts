/**
 * The one way to create a Lambda function in this app (enforced by ./enforce-firehose-functions.ts):
 * a NodejsFunction with the runtime, architecture, logging, tracing, permissions baseline and esbuild
 * options fixed here, so no function drifts from them.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { deployedFunctionName, type FunctionName } from '../../lambdas/shared/function-names';
import type { StageConfig } from '../config/stage-config';
import { logGroupRemovalPolicy, retentionDays } from './retention';

/** The repository root: entries, the lockfile and tsconfig are found from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Lambda's newest Node.js runtime in this aws-cdk-lib; the bundle targets node22 so it also runs there. */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;
export const BUNDLE_TARGET = 'node22';

/**
 * Lambda's Node.js 20+ runtimes no longer trust the RDS certificate authorities by default; this file
 * ships with the runtime and holds them (needed for TLS to the Aurora cluster endpoint).
 */
export const RDS_CA_BUNDLE = '/var/runtime/ca-cert.pem';

/**
 * Where a function's AWS SDK v3 comes from:
 * - `bundled`: the pinned `@aws-sdk/*` versions the tests run, tree-shaken into the bundle;
 * - `runtime`: the copy the Lambda Node.js runtime ships (`@aws-sdk/*` and its `@smithy/*`
 *   dependencies left external): a much smaller bundle, at the price of running whatever SDK version
 *   the runtime carries that day.
 */
export type AwsSdkSource = 'bundled' | 'runtime';

/** What esbuild leaves out of a bundle whose SDK comes from the runtime. */
export const RUNTIME_SDK_MODULES: readonly string[] = ['@aws-sdk/*', '@smithy/*'];

/** A directory copied next to index.mjs in the bundle (e.g. the SQL migrations). */
export interface BundledDirectory {
  /** Relative to the repository root. */
  readonly source: string;
  /** Relative to the bundle root. */
  readonly target: string;
}

type FixedProps =
  | 'entry'
  | 'handler'
  | 'runtime'
  | 'architecture'
  | 'bundling'
  | 'code'
  | 'projectRoot'
  | 'depsLockFilePath'
  | 'role'
  | 'logGroup'
  | 'logRetention'
  | 'logFormat'
  | 'loggingFormat'
  | 'tracing'
  | 'environment'
  | 'timeout'
  | 'memorySize'
  | 'awsSdkConnectionReuse';

export interface FirehoseFunctionProps extends Omit<NodejsFunctionProps, FixedProps> {
  /** The handler entry file under lambdas/handlers/ (each exports `handler`). */
  readonly handlerName: FunctionName;
  readonly config: StageConfig;
  /** From lib/config/function-environment.ts only. */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** Talks TLS to PostgreSQL: trust the RDS certificate authorities. */
  readonly connectsToDatabase?: boolean;
  readonly bundleDirectories?: readonly BundledDirectory[];
  /** Default `bundled`; see AwsSdkSource and docs/infrastructure.md#the-lambda-wrapper. */
  readonly awsSdk?: AwsSdkSource;
}

export class FirehoseFunction extends NodejsFunction {
  /** `/aws/lambda/<function name>`, with the stage's retention; created before the function. */
  public readonly functionLogGroup: logs.LogGroup;
  /** Lambda's ENI permissions (VPC functions only); `Resource: *` is inherent, acknowledged here. */
  public readonly networkInterfacePolicy?: iam.Policy;
  /** X-Ray write permissions (traced functions only); X-Ray has no resource-level permissions. */
  public readonly tracingPolicy?: iam.Policy;
  /** Where this function's AWS SDK comes from. */
  public readonly awsSdk: AwsSdkSource;

  constructor(scope: Construct, id: string, props: FirehoseFunctionProps) {
    const {
      handlerName,
      config,
      environment,
      connectsToDatabase,
      bundleDirectories = [],
      awsSdk = 'bundled',
      ...rest
    } = props;
    const directories = [...bundleDirectories];
    // A fixed name keeps the log group (and its ARN in the role's policy) independent of the function.
    const functionName = rest.functionName ?? deployedFunctionName(config.stage, handlerName);
    super(scope, id, {
      ...rest,
      functionName,
      entry: join(PROJECT_ROOT, 'lambdas', 'handlers', `${handlerName}.ts`),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: FUNCTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      awsSdkConnectionReuse: false,
      environment: {
        ...environment,
        // Stack traces through the bundle's source map (CDK does not set this for us).
        NODE_OPTIONS: '--enable-source-maps',
        ...(connectsToDatabase ? { NODE_EXTRA_CA_CERTS: RDS_CA_BUNDLE } : {}),
      },
      bundling: {
        format: OutputFormat.ESM,
        target: BUNDLE_TARGET,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        mainFields: ['module', 'main'],
        // ESM output still meets CommonJS dependencies (pg, parts of the SDK) that call require().
        banner:
          "import { createRequire as __createRequire } from 'node:module';const require = __createRequire(import.meta.url);",
        // Bundled by default: the same SDK versions as the tests (docs/infrastructure.md).
        externalModules: awsSdk === 'runtime' ? [...RUNTIME_SDK_MODULES] : [],
        tsconfig: join(PROJECT_ROOT, 'tsconfig.json'),
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) =>
            directories.map((d) => `cp -R "${join(inputDir, d.source)}" "${join(outputDir, d.target)}"`),
        },
      },
    });

    this.awsSdk = awsSdk;

    // cdk.json's @aws-cdk/aws-lambda:useCdkManagedLogGroup makes the base class create the group.
    const managed = this.node.tryFindChild('LogGroup');
    if (!(managed instanceof logs.LogGroup)) {
      throw new Error(
        `${this.node.path}: FirehoseFunction needs the @aws-cdk/aws-lambda:useCdkManagedLogGroup feature flag (cdk.json)`,
      );
    }
    this.functionLogGroup = managed;
    const cfnLogGroup = this.functionLogGroup.node.defaultChild as logs.CfnLogGroup;
    // The literal name, not a Ref to the function: the function must depend on its log group.
    cfnLogGroup.logGroupName = `/aws/lambda/${functionName}`;
    cfnLogGroup.retentionInDays = retentionDays(config.observability.logRetentionDays);
    this.functionLogGroup.applyRemovalPolicy(logGroupRemovalPolicy(config.retainData));
    const cfn = this.node.defaultChild as lambda.CfnFunction;
    // The role cannot create log groups, so the group must exist before the first invocation.
    cfn.addResourceDependency(cfnLogGroup);

    // The generated role comes with AWSLambdaBasicExecutionRole (logs on every group in the account)
    // and, in a VPC, AWSLambdaVPCAccessExecutionRole: replace them with exactly what this function needs.
    const role = this.role as iam.Role;
    (role.node.defaultChild as iam.CfnRole).managedPolicyArns = undefined;
    this.functionLogGroup.grantWrite(role);

    if (props.vpc) {
      this.networkInterfacePolicy = new iam.Policy(this, 'NetworkInterfacePolicy', {
        roles: [role],
        statements: [
          new iam.PolicyStatement({
            actions: [
              'ec2:CreateNetworkInterface',
              'ec2:DescribeNetworkInterfaces',
              'ec2:DescribeSubnets',
              'ec2:DeleteNetworkInterface',
              'ec2:AssignPrivateIpAddresses',
              'ec2:UnassignPrivateIpAddresses',
            ],
            resources: ['*'],
          }),
        ],
      });
      cfn.addResourceDependency(this.networkInterfacePolicy.node.defaultChild as iam.CfnPolicy);
      Validations.of(this.networkInterfacePolicy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Lambda manages the ENIs of a VPC function with these EC2 actions; AWS grants them on * in ' +
          'AWSLambdaVPCAccessExecutionRole too, since ENI ids are unknown before Lambda creates them.',
      });
    }

    if (config.observability.tracing) {
      // Set on the L1 so the X-Ray statement lands in its own policy, not in the grants' DefaultPolicy.
      cfn.tracingConfig = { mode: lambda.Tracing.ACTIVE };
      this.tracingPolicy = new iam.Policy(this, 'TracingPolicy', {
        roles: [role],
        statements: [
          new iam.PolicyStatement({
            actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
            resources: ['*'],
          }),
        ],
      });
      Validations.of(this.tracingPolicy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.',
      });
    }
  }
}
