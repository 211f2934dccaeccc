/** The functions of the pipeline: one handler file each under lambdas/handlers/. */
export const FUNCTION_NAMES = [
  'authorizer',
  'ingest',
  'writer',
  'summary',
  'migrate',
  'partition-maintenance',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];
