/**
 * Every function comes from the FirehoseFunction wrapper (the aspect rejects anything else), gets
 * exactly the environment lib/config/function-environment.ts derives, and is bundled as an ESM
 * file with what it needs next to it (the migrations folder for the migrate function).
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Aspects, Duration, Stack, Stage } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, type FunctionName } from '../../lambdas/shared/function-names';
import {
  authorizerEnvironment,
  type DatabaseEndpoint,
  ingestEnvironment,
  maintenanceEnvironment,
  summaryEnvironment,
  writerEnvironment,
} from '../../lib/config/function-environment';
import { stageConfig } from '../../lib/config/stage-config';
import {
  EnforceFirehoseFunctions,
  RAW_FUNCTION_ERROR,
} from '../../lib/constructs/enforce-firehose-functions';
import {
  type AwsSdkSource,
  FirehoseFunction,
  PROJECT_ROOT,
  RDS_CA_BUNDLE,
} from '../../lib/constructs/firehose-function';
import { MIGRATIONS_SOURCE_DIR } from '../../lib/constructs/schema-migrations';
import { FirehoseStage } from '../../lib/firehose-stage';
import { buildApp, cdkJsonContext, type SynthesizedStage, stageTemplates, synthStage } from './support/synth';
import { environmentOf, functionOf, resources } from './support/template-queries';

/** The hot path outside the VPC takes the Lambda runtime's SDK; the in-VPC functions bundle theirs. */
const SDK_SOURCE: Record<FunctionName, AwsSdkSource> = {
  authorizer: 'runtime',
  ingest: 'runtime',
  writer: 'bundled',
  summary: 'bundled',
  migrate: 'bundled',
  'partition-maintenance': 'bundled',
  erasure: 'bundled',
};

/** Issue 4: the ingest bundle stays at or under 300 KB. */
const INGEST_BUNDLE_LIMIT_BYTES = 300 * 1024;

/**
 * Modules a minified ESM bundle imports statically (esbuild writes `import{a as b}from"m"`,
 * `import*as c from"m"`, `import"m"` without spaces), Node's built-ins left out.
 */
function externalImports(code: string): Set<string> {
  const found = new Set<string>();
  const pattern = /import(?:\{[^}]*\}|\*as [\w$]+|[\w$]+(?:,\{[^}]*\})?)?\s*from"([^"]+)"|import"([^"]+)"/g;
  for (const match of code.matchAll(pattern)) {
    const specifier = match[1] ?? match[2]!;
    if (!specifier.startsWith('node:')) found.add(specifier);
  }
  return found;
}

/** Variables whose values come from resources (names, endpoints), checked separately. */
const RESOURCE_DERIVED = new Set([
  'TENANTS_TABLE',
  'RATE_LIMIT_TABLE',
  'LEDGER_TABLE',
  'SUMMARY_CACHE_TABLE',
  'EVENT_QUEUE_URL',
  'ARCHIVE_STREAM_NAME',
  'DB_HOST',
  'DB_PORT',
  'DB_NAME',
  'DB_USER',
  'DB_REGION',
  'DB_SECRET_ARN',
]);

describe.each(['dev', 'prod'] as const)('stage %s: function baseline', (name) => {
  const config = stageConfig(name);
  let s: SynthesizedStage;
  beforeAll(() => {
    s = stageTemplates(name);
  });

  it.each(FUNCTION_NAMES)('runs %s on the newest Node.js runtime, arm64, with JSON logs', (handler) => {
    const [, fn] = functionOf(s.service, handler);
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      LoggingConfig: { LogFormat: 'JSON' },
      TracingConfig: { Mode: config.observability.tracing ? 'Active' : 'PassThrough' },
    });
  });

  it.each(FUNCTION_NAMES)('writes %s logs to its own log group with the stage retention', (handler) => {
    const [id, fn] = functionOf(s.service, handler);
    const logGroupName = `/aws/lambda/${fn.Properties?.FunctionName}`;
    const logGroup = resources(s.service, 'AWS::Logs::LogGroup').find(
      ([, g]) => g.Properties?.LogGroupName === logGroupName,
    );
    expect(logGroup, logGroupName).toBeDefined();
    expect(logGroup![1].Properties?.RetentionInDays).toBe(config.observability.logRetentionDays);
    // Created before the function: the role may not create log groups.
    expect(fn.DependsOn).toContain(logGroup![0]);
    expect(id).toBeTruthy();
  });

  it('attaches no AWS managed policy to any function role', () => {
    for (const handler of FUNCTION_NAMES) {
      const [, fn] = functionOf(s.service, handler);
      const roleId = (fn.Properties!.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
      const [, role] = resources(s.service, 'AWS::IAM::Role').find(([rid]) => rid === roleId)!;
      expect(role.Properties?.ManagedPolicyArns, handler).toBeUndefined();
    }
  });

  it("gives each function exactly the variables function-environment.ts derives (plus Node's runtime flags)", () => {
    const names = {
      tenantsTable: 't',
      rateLimitTable: 'r',
      ledgerTable: 'l',
      summaryCacheTable: 's',
      eventQueueUrl: 'q',
      archiveStreamName: 'a',
    };
    const iam: DatabaseEndpoint = { kind: 'iam', host: 'h', port: 1, database: 'd', user: 'u', region: 'r' };
    const secret: DatabaseEndpoint = { ...iam, kind: 'secret', secretArn: 'arn' };
    const expected: Record<FunctionName, Record<string, string>> = {
      authorizer: authorizerEnvironment(config, names),
      ingest: ingestEnvironment(config, names),
      writer: writerEnvironment(config, names, iam),
      summary: summaryEnvironment(config, names, iam),
      migrate: maintenanceEnvironment(config, secret),
      'partition-maintenance': maintenanceEnvironment(config, secret),
      erasure: maintenanceEnvironment(config, secret),
    };
    for (const handler of FUNCTION_NAMES) {
      const actual = environmentOf(functionOf(s.service, handler)[1]);
      const runtimeFlags = ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS'];
      expect(
        Object.keys(actual)
          .filter((k) => !runtimeFlags.includes(k))
          .sort(),
        handler,
      ).toEqual(Object.keys(expected[handler]).sort());
      expect(actual.NODE_OPTIONS, handler).toBe('--enable-source-maps');
      // Every value derived from the stage config (not from a resource) is exactly the derived one.
      for (const [key, value] of Object.entries(expected[handler])) {
        if (!RESOURCE_DERIVED.has(key)) expect(actual[key], `${handler} ${key}`).toBe(value);
      }
    }
  });

  it('takes the AWS SDK from the Lambda runtime only for the ingest and authorizer functions', () => {
    const { ingestApi, summaryApi, writer, migrations, maintenance, erasure } = s.stage.service;
    const actual: Record<FunctionName, AwsSdkSource> = {
      authorizer: ingestApi.authorizerFunction.awsSdk,
      ingest: ingestApi.ingestFunction.awsSdk,
      writer: writer.writerFunction.awsSdk,
      summary: summaryApi.summaryFunction.awsSdk,
      migrate: migrations.migrateFunction.awsSdk,
      'partition-maintenance': maintenance.maintenanceFunction.awsSdk,
      erasure: erasure.erasureFunction.awsSdk,
    };
    expect(actual).toEqual(SDK_SOURCE);
  });

  it('trusts the RDS certificate authorities only in functions that talk to PostgreSQL', () => {
    for (const handler of FUNCTION_NAMES) {
      const env = environmentOf(functionOf(s.service, handler)[1]);
      const talksToDatabase = ['writer', 'summary', 'migrate', 'partition-maintenance', 'erasure'].includes(
        handler,
      );
      expect(env.NODE_EXTRA_CA_CERTS, handler).toBe(talksToDatabase ? RDS_CA_BUNDLE : undefined);
    }
  });

  it('points the writer and the summary at the proxy as their own users, migrations at the cluster', () => {
    const env = (handler: FunctionName) => environmentOf(functionOf(s.service, handler)[1]);
    expect(env('writer')).toMatchObject({
      DB_USER: 'firehose_writer',
      DB_PORT: '5432',
      DB_NAME: 'firehose',
      DB_REGION: config.env.region,
    });
    expect(env('summary')).toMatchObject({ DB_USER: 'firehose_reader' });
    expect(JSON.stringify(env('writer').DB_HOST)).toContain('Proxy');
    expect(env('migrate')).toMatchObject({ DB_USER: 'firehose_admin' });
    expect(JSON.stringify(env('migrate').DB_HOST)).toContain('Cluster');
    expect(JSON.stringify(env('migrate').DB_SECRET_ARN)).toContain('MasterUserSecret');
    expect(env('writer').DB_SECRET_ARN).toBeUndefined();
  });
});

describe('Aspect: EnforceFirehoseFunctions', () => {
  function rawFunction(scope: Stack): lambda.Function {
    return new lambda.Function(scope, 'RawFunction', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => 1;'),
    });
  }

  it('puts an error annotation on a raw lambda.Function', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stage = new Stage(app, 'Test');
    const stack = new Stack(stage, 'Stack');
    rawFunction(stack);
    Aspects.of(stage).add(new EnforceFirehoseFunctions());
    Annotations.fromStack(stack).hasError(
      '/Test/Stack/RawFunction/Resource',
      Match.stringLikeRegexp(RAW_FUNCTION_ERROR),
    );
  });

  it('accepts a FirehoseFunction', () => {
    // cdk.json's feature flags: the wrapper takes over the log group the Lambda construct makes.
    const app = new App({
      context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: false,
    });
    const stage = new Stage(app, 'Test');
    const stack = new Stack(stage, 'Stack');
    new FirehoseFunction(stack, 'Ingest', {
      handlerName: 'ingest',
      config: stageConfig('dev'),
      environment: {},
      timeout: Duration.seconds(10),
      memorySize: 256,
    });
    Aspects.of(stage).add(new EnforceFirehoseFunctions());
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
  });

  it('is applied by every FirehoseStage: a raw function fails synthesis of the app', () => {
    const app = buildApp();
    const stage = new FirehoseStage(app, 'firehose-dev', { config: stageConfig('dev') });
    rawFunction(stage.service);
    expect(() => app.synth()).toThrow(new RegExp(RAW_FUNCTION_ERROR));
  });
});

describe('bundling (real esbuild, dev service stack)', () => {
  let outdir: string;
  let bundles: Map<FunctionName, string>;
  let service: SynthesizedStage['service'];
  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'firehose-bundle-'));
    const s = synthStage('dev', { bundlingStacks: ['firehose-dev/Service'], outdir });
    service = s.service;
    bundles = new Map();
    for (const handler of FUNCTION_NAMES) {
      // The code's S3 key is the asset hash; the staged bundle sits in asset.<hash>/ of the outdir.
      const code = functionOf(s.service, handler)[1].Properties?.Code as { S3Key: string };
      bundles.set(handler, join(outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`));
    }
  }, 120_000);
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('bundles every handler as one ESM file with a source map', () => {
    // Every handler file is a function of the stack, and every function of the stack has a bundle.
    const handlerFiles = readdirSync(join(PROJECT_ROOT, 'lambdas', 'handlers'))
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
      .map((file) => file.replace(/\.ts$/, ''));
    expect(new Set(bundles.keys())).toEqual(new Set(handlerFiles));
    const functionNames = resources(service, 'AWS::Lambda::Function')
      .map(([, fn]) => String(fn.Properties?.FunctionName ?? ''))
      .filter((name) => name.startsWith('firehose-dev-'));
    expect(new Set(functionNames)).toEqual(new Set(handlerFiles.map((file) => `firehose-dev-${file}`)));
    for (const [handler, dir] of bundles) {
      expect(existsSync(join(dir, 'index.mjs')), handler).toBe(true);
      expect(existsSync(join(dir, 'index.mjs.map')), handler).toBe(true);
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(
        code.startsWith("import { createRequire as __createRequire } from 'node:module';"),
        handler,
      ).toBe(true);
    }
  });

  it('ships the SQL migrations next to the migrate bundle, byte for byte', () => {
    const dir = bundles.get('migrate')!;
    const source = join(PROJECT_ROOT, MIGRATIONS_SOURCE_DIR);
    const files = readdirSync(source).filter((f) => f.endsWith('.sql'));
    expect(files.length).toBeGreaterThan(0);
    expect(readdirSync(join(dir, 'migrations')).sort()).toEqual(files.sort());
    for (const file of files) {
      expect(readFileSync(join(dir, 'migrations', file), 'utf8')).toBe(
        readFileSync(join(source, file), 'utf8'),
      );
    }
    expect(existsSync(join(bundles.get('writer')!, 'migrations'))).toBe(false);
  });

  it('leaves only the AWS SDK out of the ingest and authorizer bundles, and nothing out of the others', () => {
    for (const [handler, dir] of bundles) {
      const imports = [...externalImports(readFileSync(join(dir, 'index.mjs'), 'utf8'))];
      if (SDK_SOURCE[handler] === 'runtime') {
        // Each function loads only the clients it uses: one module per client.
        expect(imports.sort(), handler).toEqual(
          handler === 'ingest'
            ? [
                '@aws-sdk/client-dynamodb',
                '@aws-sdk/client-firehose',
                '@aws-sdk/client-sqs',
                '@aws-sdk/lib-dynamodb',
              ]
            : ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'],
        );
        // The runtime ships @aws-sdk/* (lib-dynamodb included); the code never imports @smithy itself.
        for (const specifier of imports) expect(specifier, handler).toMatch(/^@aws-sdk\/(client-|lib-)/);
      } else {
        expect(imports, handler).toEqual([]);
      }
    }
  });

  it("keeps the ingest bundle within issue 4's 300 KB", () => {
    const size = statSync(join(bundles.get('ingest')!, 'index.mjs')).size;
    expect(size).toBeLessThanOrEqual(INGEST_BUNDLE_LIMIT_BYTES);
  });

  it('produces bundles that load in plain Node.js ESM and export a handler', () => {
    // Stand in for the Lambda runtime, which provides @aws-sdk/* (and its @smithy/* dependencies) to
    // the functions that leave the SDK out; nothing else is resolvable next to the bundles.
    const runtimeModules = join(outdir, 'node_modules');
    mkdirSync(runtimeModules, { recursive: true });
    for (const scope of ['@aws-sdk', '@smithy']) {
      if (!existsSync(join(runtimeModules, scope)))
        symlinkSync(join(PROJECT_ROOT, 'node_modules', scope), join(runtimeModules, scope));
    }
    for (const [handler, dir] of bundles) {
      // A separate node process: the real ESM loader (CommonJS dependencies go through the banner).
      const script = `const m = await import(${JSON.stringify(pathToFileURL(join(dir, 'index.mjs')).href)});
        process.stdout.write(typeof m.handler);`;
      const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1' },
        encoding: 'utf8',
      });
      expect(output, handler).toBe('function');
    }
  });
});
