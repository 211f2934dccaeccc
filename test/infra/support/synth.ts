/**
 * Synthesizes a stage the way `cdk synth` does (cdk.json's feature flags, cdk-nag app-wide), with
 * bundling skipped unless asked for: `aws:cdk:bundling-stacks: []` is CDK's switch for that, so the
 * templates are the real ones minus the asset contents. CDK's built-in CloudFormation template
 * validation is off unless asked for too: its engine takes seconds to start in every test file, and
 * nag.test.ts (like `cdk synth` in CI) runs it on every stage.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type Stage, stageConfig } from '../../../lib/config/stage-config';
import { PROJECT_ROOT } from '../../../lib/constructs/firehose-function';
import { FirehoseStage } from '../../../lib/firehose-stage';

export interface SynthesizedStage {
  readonly app: App;
  readonly stage: FirehoseStage;
  readonly assembly: CloudAssembly;
  readonly data: Template;
  readonly service: Template;
}

export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

export interface SynthOptions {
  /** Construct paths of the stacks to bundle for real (e.g. `firehose-dev/Service`); none by default. */
  readonly bundlingStacks?: readonly string[];
  readonly outdir?: string;
  /** CDK's built-in CloudFormation template validation (slow to start; on in `cdk synth`). */
  readonly cloudFormationValidation?: boolean;
}

export function buildApp(options: SynthOptions = {}): App {
  return new App({
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [...(options.bundlingStacks ?? [])] },
    ...(options.outdir ? { outdir: options.outdir } : {}),
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
  });
}

const cache = new Map<string, SynthesizedStage>();

/** One synthesis per stage per test file (bundling skipped), shared by its tests. */
export function stageTemplates(name: Exclude<Stage, 'local'>, options: SynthOptions = {}): SynthesizedStage {
  const key = `${name}:${options.cloudFormationValidation === true}`;
  let synthesized = cache.get(key);
  if (!synthesized) {
    synthesized = synthStage(name, options);
    cache.set(key, synthesized);
  }
  return synthesized;
}

export function synthStage(name: Exclude<Stage, 'local'>, options: SynthOptions = {}): SynthesizedStage {
  const app = buildApp(options);
  const stage = new FirehoseStage(app, `firehose-${name}`, { config: stageConfig(name) });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  return {
    app,
    stage,
    assembly,
    data: Template.fromStack(stage.data),
    service: Template.fromStack(stage.service),
  };
}
