/** The functions of the pipeline: one handler file each under lambdas/handlers/. */
export const FUNCTION_NAMES = [
  'authorizer',
  'ingest',
  'writer',
  'summary',
  'migrate',
  'partition-maintenance',
  'erasure',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** A function's deployed name (the CDK app names each so; `npm start` gives its handlers the same). */
export function deployedFunctionName(stage: string, name: FunctionName): string {
  return `firehose-${stage}-${name}`;
}
