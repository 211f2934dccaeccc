/** A Lambda invocation context for handlers run locally (Powertools reads a few of its fields). */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import { deployedFunctionName, type FunctionName } from '../lambdas/shared/function-names';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './standins/client-config';

/** A function's name as the CDK app names it, for the local stage. */
export function localFunctionName(name: FunctionName): string {
  return deployedFunctionName('local', name);
}

/** The module of a function's handler (one file each under lambdas/handlers/). */
export function handlerModule(name: FunctionName): string {
  return fileURLToPath(new URL(`../lambdas/handlers/${name}.ts`, import.meta.url));
}

export function lambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
