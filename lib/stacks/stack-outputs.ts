/**
 * The stacks' CloudFormation outputs, one per key of the name records the ops CLI reads
 * (lib/config/stack-outputs.ts): a stack passes a value for every key, or does not compile.
 */
import { CfnOutput, type Stack } from 'aws-cdk-lib';

export interface StackOutput {
  readonly value: string;
  readonly description: string;
}

/** One output per key of `names`, with the name it gives as the output's id (no export). */
export function addStackOutputs<K extends string>(
  stack: Stack,
  names: Readonly<Record<K, string>>,
  outputs: Readonly<Record<NoInfer<K>, StackOutput>>,
): void {
  for (const key of Object.keys(names) as K[]) new CfnOutput(stack, names[key], outputs[key]);
}
