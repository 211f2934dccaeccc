/**
 * Fails synthesis (an error annotation) for any Lambda function not created through FirehoseFunction,
 * so no function escapes the runtime, logging, tracing and bundling baseline fixed there.
 */
import { Annotations, CfnResource, CustomResourceProviderBase, type IAspect } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { FirehoseFunction } from './firehose-function';

export const RAW_FUNCTION_ERROR = 'is not a FirehoseFunction';

export class EnforceFirehoseFunctions implements IAspect {
  public visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node) || node.cfnResourceType !== 'AWS::Lambda::Function') return;
    const owner = node.node.scope;
    if (owner instanceof FirehoseFunction) return;
    // CDK's own singleton providers (the Trigger runner, S3 auto-delete, default security group
    // restriction) are not configurable Lambda functions; they are not lambda.Function either.
    if (owner instanceof CustomResourceProviderBase) return;
    Annotations.of(node).addError(
      `Lambda function ${node.node.path} ${RAW_FUNCTION_ERROR}: create every function with ` +
        'lib/constructs/firehose-function.ts (runtime, arm64, JSON logs, log retention, tracing, bundling).',
    );
  }
}
