/**
 * cdk-nag's AWS Solutions rules run app-wide (as in bin/firehose.ts) with zero unacknowledged
 * findings, and every acknowledgement sits on one resource with its reason.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnResource, Stack, Stage, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { stageConfig } from '../../lib/config/stage-config';
import { FirehoseStage } from '../../lib/firehose-stage';
import { buildApp, stageTemplates } from './support/synth';

const STAGES = ['dev', 'staging', 'prod'] as const;
/** With CDK's CloudFormation validation too, as `cdk synth` runs it. */
const LIKE_CDK_SYNTH = { cloudFormationValidation: true } as const;

interface Acknowledgement {
  readonly path: string;
  readonly construct: IConstruct;
  readonly id: string;
  readonly reason: string;
}

function nagAcknowledgements(root: IConstruct): Acknowledgement[] {
  const found: Acknowledgement[] = [];
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [key, reason] of Object.entries(entry.data as Record<string, string>)) {
        const id = key.replace(/^annotation::/i, '');
        if (id.startsWith('AwsSolutions-')) found.push({ path: construct.node.path, construct, id, reason });
      }
    }
  }
  return found;
}

describe('cdk-nag AwsSolutionsChecks', () => {
  describe.each(STAGES)('stage %s', (name) => {
    it('synthesizes with zero unacknowledged findings', () => {
      const { app } = stageTemplates(name, LIKE_CDK_SYNTH);
      const report = new AwsSolutionsChecks().validateScope(app);
      expect(
        report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
      ).toEqual([]);
    });

    it("passes CDK's CloudFormation template validation without errors or warnings", () => {
      const { assembly } = stageTemplates(name, LIKE_CDK_SYNTH);
      const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as {
        pluginReports?: Array<{ violations?: unknown[] }>;
      };
      expect((report.pluginReports ?? []).flatMap((r) => r.violations ?? [])).toEqual([]);
    });

    it('acknowledges findings only on specific resources, each with a specific reason', () => {
      const { app } = stageTemplates(name, LIKE_CDK_SYNTH);
      const acknowledgements = nagAcknowledgements(app);
      expect(acknowledgements.length).toBeGreaterThan(0);
      for (const ack of acknowledgements) {
        expect(Stack.isStack(ack.construct) || Stage.isStage(ack.construct), `${ack.id} on ${ack.path}`).toBe(
          false,
        );
        // A resource, or the L2 wrapping one resource (a role: the role and its default policy).
        const cfnResources = ack.construct.node.findAll().filter((c) => CfnResource.isCfnResource(c));
        expect(cfnResources.length, `${ack.id} on ${ack.path}`).toBeGreaterThan(0);
        expect(cfnResources.length, `${ack.id} on ${ack.path} spans too much`).toBeLessThanOrEqual(2);
        expect(ack.reason.length, `${ack.id} on ${ack.path}`).toBeGreaterThanOrEqual(40);
      }
    });
  });

  it('acknowledges the missing WAF only where the stage config disables it', () => {
    const ids = (name: (typeof STAGES)[number]) =>
      nagAcknowledgements(stageTemplates(name, LIKE_CDK_SYNTH).app).map((a) => a.id);
    expect(stageConfig('dev').wafEnabled).toBe(false);
    expect(ids('dev')).toContain('AwsSolutions-APIG3');
    expect(ids('prod')).not.toContain('AwsSolutions-APIG3');
  });

  it('acknowledges missing deletion protection only outside prod', () => {
    const ids = (name: (typeof STAGES)[number]) =>
      nagAcknowledgements(stageTemplates(name, LIKE_CDK_SYNTH).app).map((a) => a.id);
    expect(ids('dev')).toContain('AwsSolutions-RDS10');
    expect(ids('prod')).not.toContain('AwsSolutions-RDS10');
  });

  it('fails synthesis when a resource breaks a rule (the checks are really wired in)', () => {
    const app = buildApp();
    const stage = new FirehoseStage(app, 'firehose-dev', { config: stageConfig('dev') });
    new sqs.Queue(stage.data, 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});
