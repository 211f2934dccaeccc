/**
 * CDK app entry: `npx cdk synth|deploy -c stage=<dev|staging|prod>` (default dev) builds that stage,
 * checked app-wide by cdk-nag's AWS Solutions rules (acknowledgements sit on the resources).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { STAGES, stageConfig } from '../lib/config/stage-config';
import { FirehoseStage } from '../lib/firehose-stage';

// The app itself fails synthesis on any validation error (cdk-nag, CloudFormation rules, the
// FirehoseFunction aspect), whichever stacks the CLI selects: cdk 2.1148 reports them only for the
// stacks it was asked to print, and prints none for `cdk synth` of a staged app.
const app = new App({ postCliContext: { '@aws-cdk/core:failSynthOnValidationErrors': true } });
const stageName = String(app.node.tryGetContext('stage') ?? 'dev');
if (stageName === 'local') {
  throw new Error('The local stage runs with `npm start`, not on AWS. Use -c stage=dev|staging|prod.');
}
const deployable = STAGES.filter((stage) => stage !== 'local');
if (!(deployable as readonly string[]).includes(stageName)) {
  throw new Error(`Unknown stage "${stageName}". Use -c stage=${deployable.join('|')}.`);
}
const config = stageConfig(stageName);

new FirehoseStage(app, `firehose-${config.stage}`, { config });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

app.synth();
