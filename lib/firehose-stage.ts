/**
 * One deployment of the pipeline (dev, staging or prod): a stateful stack and a stateless stack that
 * receives the stateful resources as typed props. Every Lambda function in it must be a
 * FirehoseFunction (the aspect fails synthesis otherwise).
 */
import { Aspects, Stage, type StageProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { stackNames } from './config/stack-outputs';
import { type StageConfig, validateStageConfig } from './config/stage-config';
import { EnforceFirehoseFunctions } from './constructs/enforce-firehose-functions';
import { StatefulStack } from './stacks/stateful-stack';
import { StatelessStack } from './stacks/stateless-stack';

export interface FirehoseStageProps extends StageProps {
  readonly config: StageConfig;
}

export class FirehoseStage extends Stage {
  public readonly data: StatefulStack;
  public readonly service: StatelessStack;

  constructor(scope: Construct, id: string, props: FirehoseStageProps) {
    const { config } = props;
    validateStageConfig(config);
    super(scope, id, { ...props, env: { account: config.env.account, region: config.env.region } });
    const names = stackNames(config.stage);

    this.data = new StatefulStack(this, 'Data', {
      stackName: names.data,
      description: `firehose ${config.stage}: keys, network, tables, queue, archive, database`,
      terminationProtection: config.retainData,
      config,
    });
    this.service = new StatelessStack(this, 'Service', {
      stackName: names.service,
      description: `firehose ${config.stage}: API, functions, migrations, schedules`,
      config,
      data: this.data,
    });

    Tags.of(this).add('project', 'firehose');
    Tags.of(this).add('stage', config.stage);
    Aspects.of(this).add(new EnforceFirehoseFunctions());
  }
}
